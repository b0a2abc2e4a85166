"""Followed hashtags in the home timeline, on both feed stores: fan-out brings a
stranger's public post with a followed tag, the rules keep the rest out, and a
rebuilt feed is the feed fan-out made (docs/adr/0031)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.timelines.test_rebuild import shown, stored
from tribune.accounts.models import Account
from tribune.graph.services import (
    block_create,
    follow_create,
    follow_delete,
    mute_create,
)
from tribune.statuses.models import Status
from tribune.statuses.services import reblog_create, status_create
from tribune.timelines.feeds import feed_store
from tribune.timelines.services import feed_rebuild
from tribune.trends.services import tag_follow, tag_unfollow

pytestmark = pytest.mark.django_db(transaction=True)


def post(account, text, **kwargs) -> Status:
    return status_create(account=account, text=text, **kwargs)


def test_a_strangers_public_post_with_a_followed_tag_reaches_the_home_feed(
    store_kind, alice, bob, carol, make_account
):
    tag_follow(account=alice, name="Birds")
    blocked, muted, frozen = (make_account(n) for n in ("blocked", "muted", "frozen"))
    block_create(account=alice, target=blocked)
    mute_create(account=alice, target=muted)
    Account.objects.filter(pk=frozen.pk).update(frozen_at=timezone.now())
    reached = post(bob, "a heron at dawn #birds")
    other_case = post(carol, "#BIRDS in the rain")
    left_out = [
        post(bob, "#birds for followers", visibility="private"),
        post(bob, "#birds quietly", visibility="unlisted"),
        post(bob, "no tag here"),
        post(blocked, "#birds from the blocked"),
        post(muted, "#birds from the muted"),
        reblog_create(
            account=carol, status=reached
        ),  # boosts do not go to tag followers
    ]
    frozen_post = Status.objects.create(
        account=frozen,
        text="#birds",
        content="<p>#birds</p>",
        created_at=timezone.now(),
    )
    frozen_post.tags.add(reached.tags.get())
    from tribune.timelines.services import fanout_status

    fanout_status(status_id=frozen_post.pk)
    entries = [s for s, _ in stored(alice)]
    assert entries == [other_case.pk, reached.pk]
    assert shown(alice) == [other_case.pk, reached.pk]
    assert not set(entries) & {s.pk for s in left_out}


def test_inactive_tag_followers_get_nothing_and_unfollowing_stops_it(
    store_kind, settings, alice, bob, carol
):
    settings.TRIBUNE_FEED_ACTIVE_DAYS = 14
    tag_follow(account=alice, name="tides")
    tag_follow(account=carol, name="tides")
    Account.objects.filter(pk=carol.pk).update(
        active_at=timezone.now() - timedelta(days=15)
    )
    first = post(bob, "#tides high")
    assert [s for s, _ in stored(alice)] == [first.pk]
    assert first.pk not in [s for s, _ in stored(carol)]
    tag_unfollow(account=alice, name="tides")
    post(bob, "#tides low")
    assert [s for s, _ in stored(alice)] == [first.pk]  # what came before stays


def test_a_followed_authors_tagged_post_comes_once_and_the_follow_rules_decide(
    store_kind, alice, bob, carol
):
    follow_create(account=alice, target=bob)
    tag_follow(account=alice, name="moths")
    tagged = post(bob, "#moths at the lamp")
    assert [s for s, _ in stored(alice)] == [tagged.pk]
    # A reply to a stranger by a followed account stays out (the reply rule).
    reply = post(bob, "@carol #moths indeed", in_reply_to_id=post(carol, "moths?").pk)
    assert reply.pk not in [s for s, _ in stored(alice)]
    # Unfollowing keeps the post the followed hashtag brings anyway.
    follow_delete(account=alice, target=bob)
    assert tagged.pk in [s for s, _ in stored(alice)]


def test_a_celebritys_tagged_post_reaches_tag_followers_who_do_not_follow_them(
    store_kind, settings, alice, bob, carol, make_account
):
    settings.TRIBUNE_FANOUT_MAX_FOLLOWERS = 1
    follow_create(account=carol, target=bob)
    follow_create(account=alice, target=bob)  # bob is a "celebrity": two followers
    dave = make_account("dave")
    for account in (alice, carol, dave):
        tag_follow(account=account, name="comets")
    star_post = post(bob, "#comets tonight")
    # Dave does not follow bob: the hashtag brings the post to his feed.
    assert [s for s, _ in stored(dave)] == [star_post.pk]
    # Alice and Carol follow bob: his posts are merged at read time, not stored,
    # and the followed hashtag does not bring them a second time.
    assert star_post.pk not in [s for s, _ in stored(alice)]
    assert shown(alice).count(star_post.pk) == 1
    assert shown(carol).count(star_post.pk) == 1


def test_a_rebuilt_feed_holds_the_followed_tags_posts(
    store_kind, alice, bob, carol, make_account
):
    tag_follow(account=alice, name="ferns")
    follow_create(account=alice, target=carol)
    blocked = make_account("blocked")
    block_create(account=alice, target=blocked)
    post(bob, "#ferns uncurling")
    post(carol, "from a followed account")
    post(bob, "#ferns for followers", visibility="private")
    post(blocked, "#ferns from the blocked")
    post(bob, "untagged")
    reblog_create(account=make_account("booster"), status=post(bob, "#ferns again"))
    post(alice, "my own #ferns")
    live = stored(alice)
    assert len(live) == 4
    feed_store().clear(account_id=alice.pk)
    assert stored(alice) == []
    feed_rebuild(account_id=alice.pk)
    assert stored(alice) == live
