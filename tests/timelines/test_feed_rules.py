"""The home feed rules (timelines.rules) as fan-out, the follow and unfollow
handlers, the rebuild and the read-time merge apply them, each case with what
Mastodon's FeedManager does."""

from __future__ import annotations

import pytest

from tribune.core.pagination import Cursor
from tribune.graph.services import (
    block_create,
    follow_create,
    follow_delete,
    mute_create,
)
from tribune.statuses.models import Status
from tribune.statuses.services import reblog_create, status_create
from tribune.timelines.feeds import feed_store
from tribune.timelines.rules import ViewersGraph, admits, candidates, merged_q
from tribune.timelines.selectors import home_timeline_ids
from tribune.timelines.services import feeds_rebuild

pytestmark = pytest.mark.django_db(transaction=True)


def ids(account) -> list[int]:
    return [s for s, _ in feed_store().entries(account_id=account.pk)]


def rebuilt(account) -> list[int]:
    feed_store().clear(account_id=account.pk)
    feeds_rebuild(account_ids=[account.pk])
    return ids(account)


def test_a_direct_post_reaches_the_mentioned_who_follow_its_author(store_kind, alice, bob,
                                                                  make_account):
    """Mastodon's deliver_to_mentioned_followers: a direct message from someone one
    does not follow stays out of one's home feed (it is in the notifications)."""
    dave = make_account("dave")
    follow_create(account=alice, target=bob)
    message = status_create(account=bob, text="@alice @dave psst", visibility="direct")
    assert (ids(alice), ids(dave), ids(bob)) == ([message.pk], [], [message.pk])
    assert (rebuilt(alice), rebuilt(dave), rebuilt(bob)) == ([message.pk], [], [message.pk])


def test_a_reply_reaches_followers_of_both_or_the_one_replied_to(store_kind, alice, bob, carol,
                                                                 make_account):
    """Fan-out once let a reply to a stranger through to every follower it
    mentioned; Mastodon shows it to followers of both accounts and to the account
    replied to only."""
    dave = make_account("dave")
    for follower in (alice, carol, dave):
        follow_create(account=follower, target=bob)
    follow_create(account=carol, target=dave)
    daves = status_create(account=dave, text="dave's")
    reply = status_create(account=bob, text="@dave @alice look", in_reply_to_id=daves.pk)
    assert reply.pk not in ids(alice)  # mentioned, but follows bob only
    assert reply.pk in ids(carol)  # follows both
    assert reply.pk in ids(dave)  # replied to
    assert reply.pk not in rebuilt(alice)
    assert reply.pk in rebuilt(carol)
    assert reply.pk in rebuilt(dave)


def test_an_unfollow_keeps_a_followed_accounts_reblog_and_a_block_does_not(
        store_kind, alice, bob, carol, make_account):
    """After an unfollow the author's posts and the replies to them leave the feed
    (Mastodon's unmerge_from_home), but a reblog by an account still followed stays,
    as fan-out and a rebuild would have it; a block takes the reblog too."""
    dave = make_account("dave")
    follow_create(account=alice, target=carol)
    daves = status_create(account=dave, text="dave's")
    boost = reblog_create(account=carol, status=daves)
    follow_create(account=alice, target=dave)  # merges dave's post
    reply = status_create(account=carol, text="@dave yes", in_reply_to_id=daves.pk)
    assert ids(alice) == [reply.pk, boost.pk, daves.pk]
    follow_delete(account=alice, target=dave)
    assert ids(alice) == [boost.pk] == rebuilt(alice)
    block_create(account=alice, target=dave)
    assert ids(alice) == [] == rebuilt(alice)


def test_a_rebuild_keeps_replies_to_a_followed_celebrity(store_kind, settings, alice, bob,
                                                         make_account):
    """A rebuild once judged replies as if celebrities were not followed."""
    settings.TRIBUNE_FANOUT_MAX_FOLLOWERS = 1
    star = make_account("star")
    follow_create(account=alice, target=star)
    follow_create(account=bob, target=star)  # two followers: merged at read time
    follow_create(account=alice, target=bob)
    reply = status_create(account=bob, text="@star congrats",
                          in_reply_to_id=status_create(account=star, text="news").pk)
    assert ids(alice) == [reply.pk] == rebuilt(alice)


@pytest.mark.parametrize("show_reblogs", [True, False])
def test_the_read_time_merge_applies_the_rules(settings, alice, bob, make_account, show_reblogs):
    """A celebrity's posts, merged at read time, pass the same rules as what fan-out
    stores: the query (rules.merged_q) and the predicate (rules.admits) agree."""
    from tests.portability.files import note_item
    from tests.timelines.test_rebuild import import_posts

    settings.TRIBUNE_FANOUT_MAX_FOLLOWERS = 1
    star, stranger, quiet = (make_account(n) for n in ("star", "stranger", "quiet"))
    follow_create(account=alice, target=star, show_reblogs=show_reblogs)
    follow_create(account=bob, target=star)
    follow_create(account=alice, target=bob)
    mute_create(account=alice, target=quiet)
    post = status_create(account=star, text="for all")
    shown = {
        post.pk,
        status_create(account=star, text="followers", visibility="private").pk,
        status_create(account=star, text="@bob yes",
                      in_reply_to_id=status_create(account=bob, text="?").pk).pk,
        status_create(account=star, text="@alice yes",
                      in_reply_to_id=status_create(account=alice, text="?").pk).pk,
        status_create(account=star, text="more", in_reply_to_id=post.pk).pk,
    }
    strangers = status_create(account=stranger, text="hi")
    status_create(account=star, text="@stranger hi", in_reply_to_id=strangers.pk)
    status_create(account=star, text="@alice psst", visibility="direct")  # stored by fan-out
    reblog_create(account=star, status=status_create(account=alice, text="her own"))
    reblog_create(account=star, status=status_create(account=quiet, text="muted"))
    boost = reblog_create(account=star, status=strangers)
    if show_reblogs:
        shown.add(boost.pk)
    import_posts(star, note_item(1, text="from before", published="2024-03-05T14:02:11Z"))

    hidden = {quiet.pk}
    merged = set(Status.objects.filter(merged_q(viewer_id=alice.pk, follows={star.pk: show_reblogs},
                                                hidden=hidden)).values_list("pk", flat=True))
    graph = ViewersGraph([alice.pk])
    graph.max_followers = 10**9  # the rules as fan-out would apply them, were star not merged
    judged = {c.id for c in candidates(Status.objects.filter(account=star, visibility__in=[
        "public", "unlisted", "private"])) if admits(c, alice.pk, graph)}
    assert merged == judged == shown
    page = home_timeline_ids(viewer=alice, cursor=Cursor(limit=40)).items
    assert shown <= set(page)
