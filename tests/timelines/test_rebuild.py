"""A rebuilt home feed is the feed fan-out on write made: one mix of activity through
the services, each feed recorded, emptied, rebuilt, and compared, on the database
feed store and on the Redis one (docs/adr/0018).

What a rebuild cannot know is history, and the scenario leaves it out: a timed mute
that has ended (live kept what came before it), a reblog collapsed under an entry
that has since left the feed (Mastodon puts such a reblog back; Tribune does not),
an author followed after writing more than the merge takes (40).
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from tribune.core.pagination import Cursor
from tribune.graph.services import (
    block_create,
    follow_create,
    follow_delete,
    mute_create,
)
from tribune.statuses.models import Status
from tribune.statuses.services import reblog_create, status_create, status_delete
from tribune.timelines.feeds import REBLOG_WINDOW, feed_store
from tribune.timelines.selectors import home_timeline
from tribune.timelines.services import feed_rebuild, feeds_rebuild

pytestmark = pytest.mark.django_db(transaction=True)


def stored(account) -> list[tuple[int, int | None]]:
    """The feed's entries, newest first, without statuses deleted since (the Redis
    store leaves those to the reader)."""
    entries = feed_store().entries(account_id=account.pk)
    alive = set(Status.objects.filter(pk__in=[s for s, _ in entries]).values_list("pk", flat=True))
    return [e for e in entries if e[0] in alive]


def shown(account) -> list[int]:
    """What the home timeline shows, newest first (celebrities merged, hidden
    accounts left out)."""
    return [s.pk for s in home_timeline(viewer=account, cursor=Cursor(limit=500)).items]


def post(account, text="hello", **kwargs) -> Status:
    return status_create(account=account, text=text, **kwargs)


def import_posts(account, *items) -> None:
    """``account`` brings back posts from a Mastodon archive (the import service)."""
    from tests.portability import files
    from tribune.portability.imports import import_create, import_run

    batch = import_create(account=account, kind="mastodon-archive", mode="merge", enqueue=False,
                          upload=files.upload(files.zip_bytes(files.mastodon_members(
                              outbox_items=list(items))), "archive.zip"))
    import_run(import_id=batch.pk)


def test_a_rebuilt_feed_is_the_feed_fanout_made(store_kind, settings, make_account):
    from tests.portability.files import note_item

    settings.TRIBUNE_FANOUT_MAX_FOLLOWERS = 4  # bob ends with four followers
    names = ["alice", "bob", "carol", "dave", "erin", "star", "fan1", "fan2", "fan3", "mallory",
             "quiet"]
    people = {name: make_account(name) for name in names}
    alice, bob, carol, dave, erin, star, fan1, fan2, fan3, mallory, quiet = people.values()

    # The graph, before anyone posts.
    for target in (bob, carol, star, erin, quiet, mallory):
        follow_create(account=alice, target=target)
    for target in (alice, carol, dave):
        follow_create(account=bob, target=target)
    follow_create(account=carol, target=bob, show_reblogs=False)
    follow_create(account=carol, target=alice)
    follow_create(account=carol, target=star)
    follow_create(account=dave, target=bob)
    follow_create(account=erin, target=alice)
    for fan in (fan1, fan2, fan3):
        follow_create(account=fan, target=star)  # five followers: merged at read
    mute_create(account=alice, target=quiet)

    # Posts of every visibility, replies, direct messages.
    public = post(bob, "public")
    unlisted = post(bob, "unlisted", visibility="unlisted")
    private = post(bob, "followers only", visibility="private")
    to_alice_and_dave = post(bob, "@alice @dave psst", visibility="direct")
    to_erin = post(bob, "@erin psst", visibility="direct")  # erin does not follow bob
    assert to_erin.pk not in {s for s, _ in stored(erin)}
    daves = post(dave, "dave here")
    post(carol, "@bob agreed", in_reply_to_id=public.pk)  # alice follows both
    bob_to_dave = post(bob, "@dave hi", in_reply_to_id=daves.pk)  # alice does not follow dave
    post(bob, "and another thing", in_reply_to_id=public.pk)  # a self-reply
    alice_to_dave = post(alice, "@dave hello", in_reply_to_id=daves.pk)  # her own, to a stranger
    alice_to_bob = post(alice, "@bob yes", in_reply_to_id=unlisted.pk)
    alices_direct = post(alice, "@bob just us", visibility="direct")
    alices_lonely = post(alice, "@dave you do not follow me", visibility="direct")
    alices = post(alice, "alice posts")

    # Reblogs: of a followed account's post, twice, of a reblog, of one's own.
    reblog_create(account=carol, status=daves)  # alice follows carol, not dave
    reblog_create(account=erin, status=daves)  # collapsed: carol's is within the window
    reblog_create(account=bob, status=alices)  # never on alice's own feed
    reblog_create(account=bob, status=public)  # his own, already on his followers' feeds
    daves_second = post(dave, "dave again")
    by_erin = reblog_create(account=erin, status=daves_second)
    reblog_create(account=carol, status=by_erin)  # a reblog of a reblog: of the original

    # A celebrity: not fanned out, but for direct messages; replies to them fan out.
    famous = post(star, "hello fans")
    post(star, "@alice for you", visibility="direct")
    post(bob, "@star congrats", in_reply_to_id=famous.pk)
    reblog_create(account=bob, status=famous)

    # A muted account, and a reblog of it; a blocked one, after its posts came in.
    reblog_create(account=carol, status=post(quiet, "shh"))
    first_of_mallory = post(mallory, "mallory")
    second_of_mallory = post(mallory, "mallory again")
    reblog_create(account=bob, status=first_of_mallory)
    post(carol, "@mallory no", in_reply_to_id=second_of_mallory.pk)
    block_create(account=alice, target=mallory)

    # Imported posts reach no feed, not even their author's.
    import_posts(bob, note_item(1, text="from before", published="2024-03-05T14:02:11Z"))
    import_posts(alice, note_item(2, text="mine from before", published="2024-03-06T14:02:11Z"))

    # A follow after the posts: the merge brings them, and replies to them.
    follow_create(account=erin, target=bob)

    # A deleted post takes its reblogs; an unfollow takes the author's posts.
    gone = post(dave, "soon gone")
    reblog_create(account=carol, status=gone)
    status_delete(account=dave, status=gone)

    # The window: once REBLOG_WINDOW newer entries are on the feed, a reblog of an
    # original shows again.
    for n in range(REBLOG_WINDOW + 5):
        post(bob, f"filler {n}")
    again = reblog_create(account=erin, status=public)
    follow_delete(account=dave, target=bob)

    accounts = [a for a in people.values()]
    live = {a.username: stored(a) for a in accounts}
    live_shown = {a.username: shown(a) for a in accounts}

    # The rules at work, independently of the rebuild.
    alices_feed = {s for s, _ in live["alice"]}
    assert {alice_to_dave.pk, alices_lonely.pk, alices_direct.pk, to_alice_and_dave.pk} <= alices_feed
    assert {alice_to_bob.pk, private.pk, again.pk} <= alices_feed
    assert not {bob_to_dave.pk, famous.pk, first_of_mallory.pk} & alices_feed
    assert [r for s, r in live["alice"] if r == daves.pk] == [daves.pk]  # collapsed to one
    assert to_erin.pk in {s for s, _ in live["erin"]}  # merged once erin follows bob
    assert to_alice_and_dave.pk not in {s for s, _ in live["carol"]}
    assert alice_to_bob.pk in {s for s, _ in live["erin"]}  # merged with the follow
    assert famous.pk in live_shown["alice"] and famous.pk in {s for s, _ in live["star"]}
    assert live["dave"] and all(Status.objects.get(pk=s).account_id != bob.pk
                                for s, _ in live["dave"])
    imported = Status.objects.filter(created_at__lt=timezone.now().replace(year=2025))
    assert imported.count() == 2
    assert not {s for entries in live.values() for s, _ in entries} & set(
        imported.values_list("pk", flat=True))

    # Emptied, then rebuilt together (as after a restore) ...
    store = feed_store()
    for account in accounts:
        store.clear(account_id=account.pk)
    feeds_rebuild(account_ids=[a.pk for a in accounts])
    assert {a.username: stored(a) for a in accounts} == live
    assert {a.username: shown(a) for a in accounts} == live_shown

    # ... and one by one (a returning account).
    for account in accounts:
        store.clear(account_id=account.pk)
        feed_rebuild(account_id=account.pk)
    assert {a.username: stored(a) for a in accounts} == live


def clear_and_rebuild(*accounts) -> None:
    for account in accounts:
        feed_store().clear(account_id=account.pk)
    feeds_rebuild(account_ids=[a.pk for a in accounts])


def test_ones_own_direct_posts_and_replies_to_strangers_are_rebuilt(store_kind, alice, bob,
                                                                      make_account):
    """A rebuild once left out the owner's direct posts and replies to accounts the
    owner does not follow; fan-out always put them on the owner's feed."""
    dave = make_account("dave")
    daves = post(dave, "a stranger's post")
    mine = [post(alice, "mine").pk,
            post(alice, "@bob between us", visibility="direct").pk,
            post(alice, "@dave hi", in_reply_to_id=daves.pk).pk]
    expected = [(pk, None) for pk in reversed(mine)]
    assert stored(alice) == expected
    clear_and_rebuild(alice)
    assert stored(alice) == expected


def test_rebuilt_reblogs_collapse_as_fanout_collapses_them(store_kind, alice, bob, carol,
                                                           make_account):
    """A rebuild once kept every reblog; fan-out keeps one per original within the
    newest REBLOG_WINDOW entries, and none of an original already among them."""
    dave, erin = make_account("dave"), make_account("erin")
    for target in (bob, carol, erin):
        follow_create(account=alice, target=target)
    bobs = post(bob, "bob's")
    reblog_create(account=carol, status=bobs)  # bob's post is on the feed: collapsed
    daves = post(dave, "not followed")
    by_carol = reblog_create(account=carol, status=daves)  # shown
    reblog_create(account=erin, status=by_carol)  # another reblog of dave's: collapsed
    fillers = [post(bob, f"filler {n}").pk for n in range(REBLOG_WINDOW)]
    by_erin = reblog_create(account=erin, status=bobs)  # bob's post is 41 entries down
    expected = [(by_erin.pk, bobs.pk), *[(f, None) for f in reversed(fillers)],
                (by_carol.pk, daves.pk), (bobs.pk, None)]
    assert stored(alice) == expected
    clear_and_rebuild(alice)
    assert stored(alice) == expected


def test_imported_posts_are_not_rebuilt(store_kind, alice, bob):
    """Posts brought back from an archive were fanned out to no one, the importer
    included; a rebuild once put them on feeds."""
    from tests.portability.files import note_item

    follow_create(account=alice, target=bob)
    live = post(bob, "written here")
    import_posts(bob, note_item(1, text="from the old server", published="2024-03-05T14:02:11Z"))
    assert Status.objects.filter(account=bob).count() == 2
    assert stored(alice) == stored(bob) == [(live.pk, None)]
    clear_and_rebuild(alice, bob)
    assert stored(alice) == stored(bob) == [(live.pk, None)]
