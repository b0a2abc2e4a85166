"""Lists through their services and selectors: Mastodon's rules for titles,
policies, the 50-list limit and members one follows; members leave with the
follow; what a list's timeline shows."""

from __future__ import annotations

import pytest

from tribune.core.errors import NotFound, ValidationFailed
from tribune.core.pagination import Cursor
from tribune.graph.services import (
    block_create,
    follow_create,
    follow_delete,
    follower_remove,
    mute_create,
)
from tribune.lists import selectors
from tribune.lists.models import List, ListAccount
from tribune.lists.services import (
    list_accounts_add,
    list_accounts_remove,
    list_create,
    list_delete,
    list_update,
)
from tribune.statuses.services import reblog_create, status_create

pytestmark = pytest.mark.django_db


def members(lst) -> set[str]:
    return set(ListAccount.objects.filter(list=lst).values_list("account__username", flat=True))


def timeline(lst, **cursor) -> list[int]:
    return selectors.list_timeline_ids(list_=selectors.list_get(account=lst.account,
                                                                list_id=lst.pk),
                                       cursor=Cursor(**cursor)).items


def test_create_defaults_and_validation(alice):
    lst = list_create(account=alice, title="Friends")
    assert (lst.title, lst.replies_policy, lst.exclusive) == ("Friends", "list", False)
    other = list_create(account=alice, title="News", replies_policy="none", exclusive=True)
    assert (other.replies_policy, other.exclusive) == ("none", True)
    for title in (None, "", "   "):
        with pytest.raises(ValidationFailed, match="Title can't be blank"):
            list_create(account=alice, title=title)
    with pytest.raises(ValidationFailed, match=r"too long \(maximum is 256 characters\)"):
        list_create(account=alice, title="x" * 257)
    assert list_create(account=alice, title="é" * 256).title == "é" * 256
    with pytest.raises(ValidationFailed, match="Replies policy is not included in the list"):
        list_create(account=alice, title="Odd", replies_policy="everyone")
    assert [x.title for x in selectors.lists_of(account=alice)] == ["Friends", "News", "é" * 256]


def test_at_most_fifty_lists(alice, bob, settings):
    List.objects.bulk_create([List(account=alice, title=f"l{i}") for i in range(50)])
    with pytest.raises(ValidationFailed) as refused:
        list_create(account=alice, title="one too many")
    assert str(refused.value) == "Validation failed: You have reached the maximum number of lists"
    list_create(account=bob, title="bob's first")  # the limit is per account
    list_delete(account=alice, list_id=List.objects.filter(account=alice).first().pk)
    list_create(account=alice, title="room again")


def test_update_and_delete_only_ones_own(alice, bob):
    lst = list_create(account=alice, title="Friends")
    updated = list_update(account=alice, list_id=str(lst.pk), replies_policy="followed")
    assert (updated.title, updated.replies_policy, updated.exclusive) == ("Friends", "followed",
                                                                          False)
    updated = list_update(account=alice, list_id=lst.pk, title="Close friends", exclusive=True)
    assert (updated.title, updated.exclusive) == ("Close friends", True)
    with pytest.raises(ValidationFailed):
        list_update(account=alice, list_id=lst.pk, title="")
    for call in (lambda: list_update(account=bob, list_id=lst.pk, title="mine now"),
                 lambda: list_delete(account=bob, list_id=lst.pk),
                 lambda: selectors.list_get(account=bob, list_id=lst.pk),
                 lambda: selectors.list_get(account=alice, list_id="nonsense"),
                 lambda: list_accounts_add(account=bob, list_id=lst.pk, members=[alice])):
        with pytest.raises(NotFound):
            call()
    list_delete(account=alice, list_id=lst.pk)
    assert not List.objects.exists()


def test_members_must_be_followed_and_added_once(alice, bob, carol):
    lst = list_create(account=alice, title="Friends")
    follow_create(account=alice, target=bob)
    with pytest.raises(ValidationFailed) as refused:
        list_accounts_add(account=alice, list_id=lst.pk, members=[bob, carol])
    assert str(refused.value) == "Validation failed: Account must be a followed account"
    assert members(lst) == set()  # all or nothing
    added = list_accounts_add(account=alice, list_id=lst.pk, members=[bob, alice, bob])
    assert members(lst) == {"bob", "alice"}  # the owner may add themselves
    assert {m.follow_id is None for m in added} == {True, False}
    with pytest.raises(ValidationFailed) as refused:
        list_accounts_add(account=alice, list_id=lst.pk, members=[bob])
    assert str(refused.value) == "Validation failed: Account has already been taken"

    locked = carol
    locked.locked = True
    locked.save()
    follow_create(account=alice, target=locked)  # a pending request is not a follow
    with pytest.raises(ValidationFailed, match="followed account"):
        list_accounts_add(account=alice, list_id=lst.pk, members=[locked])

    assert list_accounts_remove(account=alice, list_id=lst.pk, members=[bob, carol]) == 1
    assert members(lst) == {"alice"}
    assert [x.pk for x in selectors.lists_with_member(account=alice, member=alice)] == [lst.pk]


@pytest.mark.parametrize("ending", ["unfollow", "block", "blocked", "removed_from_followers"])
def test_members_leave_the_lists_when_the_follow_ends(alice, bob, carol, ending):
    friends, news = list_create(account=alice, title="Friends"), list_create(account=alice,
                                                                             title="News")
    follow_create(account=alice, target=bob)
    follow_create(account=alice, target=carol)
    for lst in (friends, news):
        list_accounts_add(account=alice, list_id=lst.pk, members=[bob, carol, alice])
    {
        "unfollow": lambda: follow_delete(account=alice, target=bob),
        "block": lambda: block_create(account=alice, target=bob),
        "blocked": lambda: block_create(account=bob, target=alice),
        "removed_from_followers": lambda: follower_remove(account=bob, follower=alice),
    }[ending]()
    assert members(friends) == members(news) == {"carol", "alice"}
    assert selectors.lists_with_member(account=alice, member=bob) == []
    # Following again does not bring the account back into the lists (as Mastodon).
    if ending in ("unfollow", "removed_from_followers"):
        follow_create(account=alice, target=bob)
        assert members(friends) == {"carol", "alice"}


def test_timeline_shows_members_posts_as_the_owner_may_see_them(alice, bob, carol,
                                                                 make_account):
    dave = make_account("dave")
    lst = list_create(account=alice, title="Friends")
    follow_create(account=alice, target=bob)
    follow_create(account=alice, target=dave)
    list_accounts_add(account=alice, list_id=lst.pk, members=[bob])
    public = status_create(account=bob, text="hello")
    private = status_create(account=bob, text="followers only", visibility="private")
    unlisted = status_create(account=bob, text="quiet", visibility="unlisted")
    status_create(account=bob, text="@carol a direct one", visibility="direct")
    status_create(account=carol, text="not a member")
    status_create(account=dave, text="followed but not listed")
    assert timeline(lst) == [unlisted.pk, private.pk, public.pk]
    assert timeline(lst, limit=2) == [unlisted.pk, private.pk]
    assert timeline(lst, max_id=private.pk) == [public.pk]
    assert timeline(lst, min_id=public.pk, limit=1) == [private.pk]
    assert timeline(lst, since_id=public.pk) == [unlisted.pk, private.pk]

    mute_create(account=alice, target=bob)
    assert timeline(lst) == []


def test_timeline_reblogs_blocks_and_reply_policies(alice, bob, carol, make_account):
    dave, erin = make_account("dave"), make_account("erin")
    lst = list_create(account=alice, title="Friends")
    for target in (bob, dave, carol):
        follow_create(account=alice, target=target)
    list_accounts_add(account=alice, list_id=lst.pk, members=[bob, dave])
    mine = status_create(account=alice, text="my own")
    carols = status_create(account=carol, text="carol's")
    erins = status_create(account=erin, text="erin's")
    boost_of_mine = reblog_create(account=bob, status=mine)
    boost_of_carol = reblog_create(account=bob, status=carols)
    boost_of_erin = reblog_create(account=dave, status=erins)
    root = status_create(account=bob, text="a thread")
    thread = status_create(account=bob, text="continued", in_reply_to_id=root.pk)
    to_owner = status_create(account=bob, text="@alice hi", in_reply_to_id=mine.pk)
    to_member = status_create(account=bob, text="@dave hi",
                              in_reply_to_id=status_create(account=dave, text="d").pk)
    to_followed = status_create(account=bob, text="@carol hi", in_reply_to_id=carols.pk)
    to_stranger = status_create(account=bob, text="@erin hi", in_reply_to_id=erins.pk)
    shown = timeline(lst)
    assert boost_of_mine.pk not in shown  # nobody needs their own post boosted at them
    assert {boost_of_carol.pk, boost_of_erin.pk, root.pk, thread.pk, to_owner.pk,
            to_member.pk} <= set(shown)
    assert to_followed.pk not in shown and to_stranger.pk not in shown  # policy "list"

    list_update(account=alice, list_id=lst.pk, replies_policy="followed")
    shown = timeline(lst)
    assert to_followed.pk in shown and to_member.pk in shown and to_stranger.pk not in shown
    list_update(account=alice, list_id=lst.pk, replies_policy="none")
    shown = timeline(lst)
    assert to_owner.pk in shown and thread.pk in shown
    assert to_member.pk not in shown and to_followed.pk not in shown

    follow_create(account=alice, target=dave, show_reblogs=False)  # hides dave's boosts
    assert boost_of_erin.pk not in timeline(lst)
    block_create(account=erin, target=alice)  # and a block hides erin everywhere
    block_create(account=alice, target=carol)
    shown = timeline(lst)
    assert boost_of_carol.pk not in shown and boost_of_erin.pk not in shown


def test_export_order_and_members_page(alice, bob, carol):
    follow_create(account=alice, target=bob)
    follow_create(account=alice, target=carol)
    news, friends = list_create(account=alice, title="News"), list_create(account=alice,
                                                                          title="Friends")
    list_accounts_add(account=alice, list_id=news.pk, members=[carol])
    list_accounts_add(account=alice, list_id=friends.pk, members=[carol])
    list_accounts_add(account=alice, list_id=friends.pk, members=[bob])
    rows = [(m.list.title, m.account.username)
            for m in selectors.memberships_for_export(account=alice)]
    assert rows == [("News", "carol"), ("Friends", "carol"), ("Friends", "bob")]
    page = selectors.list_members_page(list_=friends, cursor=Cursor(limit=1))
    assert [a.pk for a in page.items] == [max(bob.pk, carol.pk)]
    everyone = selectors.list_members_page(list_=friends, cursor=None)
    assert {a.pk for a in everyone.items} == {bob.pk, carol.pk} and everyone.next_max_id is None


@pytest.mark.django_db(transaction=True)
def test_an_exclusive_lists_members_leave_the_home_timeline(alice, bob, carol, api_as):
    """Mastodon 4.2's exclusive lists: a member's posts show in the list, not at
    home; other followed accounts and one's own posts stay at home."""
    api = api_as(alice)
    for target in (bob, carol):
        api.post(f"/api/v1/accounts/{target.pk}/follow")
    listed = api.post("/api/v1/lists", json={"title": "Quiet", "exclusive": True}).json()
    api.post(f"/api/v1/lists/{listed['id']}/accounts", json={"account_ids": [str(bob.pk)]})
    from_bob = api_as(bob).post("/api/v1/statuses", json={"status": "in the list"}).json()
    from_carol = api_as(carol).post("/api/v1/statuses", json={"status": "at home"}).json()
    own = api.post("/api/v1/statuses", json={"status": "mine"}).json()
    home = [s["id"] for s in api.get("/api/v1/timelines/home").json()]
    assert home == [own["id"], from_carol["id"]]
    in_list = [s["id"] for s in api.get(f"/api/v1/timelines/list/{listed['id']}").json()]
    assert in_list == [from_bob["id"]]
    api.put(f"/api/v1/lists/{listed['id']}", json={"title": "Quiet", "exclusive": False})
    assert from_bob["id"] in [s["id"] for s in api.get("/api/v1/timelines/home").json()]
