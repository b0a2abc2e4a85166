"""Fan-out at scale: inactive followers are skipped and caught up when they return;
accounts with very many followers are merged at read time; fan-out is set-based."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tribune.accounts.models import Account
from tribune.graph.services import block_create, follow_create, mute_create
from tribune.statuses.models import Status
from tribune.statuses.services import reblog_create, status_create
from tribune.timelines.feeds import feed_store
from tribune.timelines.services import fanout_status

pytestmark = pytest.mark.django_db(transaction=True)

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend",
                           "QUEUES": ["default", "timelines", "federation", "media", "portability"]}}


def in_store(account) -> list[int]:
    return feed_store().page(account_id=account.pk, max_id=None, since_id=None, min_id=None,
                             limit=40, exclude_authors=set())


def home_ids(api) -> list[int]:
    response = api.get("/api/v1/timelines/home", {"limit": 40})
    assert response.status_code in (200, 206)
    return [int(s["id"]) for s in response.json()]


def make_inactive(account, days: int) -> None:
    Account.objects.filter(pk=account.pk).update(active_at=timezone.now() - timedelta(days=days))
    account.refresh_from_db()


def test_inactive_followers_get_no_fanout(settings, alice, bob, carol):
    settings.TRIBUNE_FEED_ACTIVE_DAYS = 14
    follow_create(account=alice, target=bob)
    follow_create(account=carol, target=bob)
    make_inactive(alice, days=15)
    make_inactive(carol, days=13)
    status = status_create(account=bob, text="who is around?")
    assert status.pk not in in_store(alice)
    assert status.pk in in_store(carol)
    assert status.pk in in_store(bob)  # authors always see their own


def test_a_returning_account_gets_206_then_its_rebuilt_feed(settings, alice, bob, carol, api_as):
    follow_create(account=alice, target=bob)
    follow_create(account=alice, target=carol)
    make_inactive(alice, days=30)
    bobs = status_create(account=bob, text="while you were away").pk
    carols = status_create(account=carol, text="me too").pk
    assert in_store(alice) == []
    settings.TASKS = DUMMY_TASKS  # the rebuild waits in the queue
    api = api_as(alice)
    response = api.get("/api/v1/timelines/home")
    assert response.status_code == 206
    assert response.json() == []
    from django_tasks import default_task_backend

    queued = [r for r in default_task_backend.results if r.task.name == "rebuild_home_feed"]
    assert [r.kwargs for r in queued] == [{"account_id": alice.pk}]
    # the worker runs it
    queued[0].task.call(**queued[0].kwargs)
    response = api.get("/api/v1/timelines/home")
    assert response.status_code == 200
    assert [int(s["id"]) for s in response.json()] == [carols, bobs]
    # a second request in the same hour starts nothing new
    assert len([r for r in default_task_backend.results
                if r.task.name == "rebuild_home_feed"]) == 1


def test_a_returning_account_on_the_web_sees_catching_up(settings, alice, bob, client):
    follow_create(account=alice, target=bob)
    make_inactive(alice, days=30)
    settings.TASKS = DUMMY_TASKS
    client.force_login(alice.user)
    page = client.get("/", HTTP_HOST="localhost").content.decode()
    assert "Catching up" in page
    from tribune.timelines.services import feed_rebuild

    feed_rebuild(account_id=alice.pk)
    assert "Catching up" not in client.get("/", HTTP_HOST="localhost").content.decode()


def test_rebuild_applies_the_feed_rules(settings, alice, bob, carol, make_account):
    dave = make_account("dave")
    follow_create(account=alice, target=bob)
    follow_create(account=alice, target=carol, show_reblogs=False)
    make_inactive(alice, days=30)
    own = status_create(account=alice, text="mine").pk
    bobs = status_create(account=bob, text="bob").pk
    reply_to_stranger = status_create(account=bob, text="@dave hi",
                                      in_reply_to_id=status_create(account=dave, text="x").pk).pk
    carol_boost = reblog_create(account=carol, status=status_create(account=dave, text="y")).pk
    private = status_create(account=bob, text="followers", visibility="private").pk
    direct = status_create(account=bob, text="@carol secret", visibility="direct").pk
    strangers = status_create(account=dave, text="not followed").pk
    from tribune.timelines.services import feed_rebuild

    feed_rebuild(account_id=alice.pk)
    ids = set(in_store(alice))
    assert {own, bobs, private} <= ids
    assert not ids & {reply_to_stranger, carol_boost, direct, strangers}


def test_celebrities_are_merged_at_read_time(settings, alice, bob, carol, make_account, api_as):
    settings.TRIBUNE_FANOUT_MAX_FOLLOWERS = 2
    star = make_account("star")
    fans = [alice, bob, carol]
    for fan in fans:
        follow_create(account=fan, target=star)
    follow_create(account=alice, target=bob)
    before = status_create(account=bob, text="bob first").pk
    famous = [status_create(account=star, text=f"hello fans {n}").pk for n in range(3)]
    after = status_create(account=bob, text="bob after").pk
    # nothing was written to the fans' feeds for the star's posts
    for fan in fans:
        assert not set(in_store(fan)) & set(famous)
    assert set(famous) <= set(in_store(star))
    api = api_as(alice)
    expected = [after, *famous[::-1], before]
    assert home_ids(api) == expected
    # paging through the merged timeline
    first = api.get("/api/v1/timelines/home", {"limit": 2}).json()
    assert [int(s["id"]) for s in first] == expected[:2]
    second = api.get("/api/v1/timelines/home", {"limit": 2, "max_id": first[-1]["id"]}).json()
    assert [int(s["id"]) for s in second] == expected[2:4]
    newer = api.get("/api/v1/timelines/home", {"limit": 2, "min_id": before}).json()
    assert [int(s["id"]) for s in newer] == [famous[1], famous[0]]
    since = api.get("/api/v1/timelines/home", {"limit": 40, "since_id": famous[1]}).json()
    assert [int(s["id"]) for s in since] == [after, famous[2]]


def test_merged_celebrity_posts_follow_the_feed_rules(settings, alice, bob, make_account, api_as):
    settings.TRIBUNE_FANOUT_MAX_FOLLOWERS = 0
    star, stranger = make_account("star"), make_account("stranger")
    follow_create(account=alice, target=star, show_reblogs=False)
    follow_create(account=alice, target=bob)
    shown = status_create(account=star, text="for everyone").pk
    private = status_create(account=star, text="followers only", visibility="private").pk
    direct = status_create(account=star, text="@bob psst", visibility="direct").pk
    reply_to_stranger = status_create(account=star, text="@stranger hi", in_reply_to_id=status_create(
        account=stranger, text="hey").pk).pk
    reply_to_bob = status_create(account=star, text="@bob hi", in_reply_to_id=status_create(
        account=bob, text="hey star").pk).pk
    boost = reblog_create(account=star, status=status_create(account=stranger, text="boost me")).pk
    ids = home_ids(api_as(alice))
    assert {shown, private, reply_to_bob} <= set(ids)
    assert not {direct, reply_to_stranger, boost} & set(ids)
    mute_create(account=alice, target=star)
    assert not {shown, private, reply_to_bob} & set(home_ids(api_as(alice)))


def test_a_blocked_celebrity_is_not_merged(settings, alice, make_account, api_as):
    settings.TRIBUNE_FANOUT_MAX_FOLLOWERS = 0
    star = make_account("star")
    follow_create(account=alice, target=star)
    sid = status_create(account=star, text="hello").pk
    assert sid in home_ids(api_as(alice))
    block_create(account=star, target=alice)
    assert sid not in home_ids(api_as(alice))


def _fanout_queries(make_account, followers: int) -> int:
    author = make_account()
    for _ in range(followers):
        follow_create(account=make_account(), target=author)
    blocker = make_account()
    follow_create(account=blocker, target=author)
    block_create(account=blocker, target=author) if False else mute_create(account=blocker, target=author)
    status = status_create(account=author, text="counting")
    with CaptureQueriesContext(connection) as queries:
        reached = fanout_status(status_id=status.pk)
    assert reached == followers + 1  # the followers and the author, not the muter
    return len(queries)


def test_fanout_costs_the_same_queries_for_3_or_30_followers(make_account):
    assert _fanout_queries(make_account, 3) == _fanout_queries(make_account, 30)


def test_home_read_with_celebrities_costs_a_fixed_number_of_queries(settings, alice, make_account,
                                                                    api_as):
    settings.TRIBUNE_FANOUT_MAX_FOLLOWERS = 1
    for n in range(4):
        star = make_account(f"star{n}")
        follow_create(account=alice, target=star)
        follow_create(account=make_account(), target=star)  # 2 followers: merged
        for k in range(3):
            status_create(account=star, text=f"{n}/{k}")
    api = api_as(alice)
    api.get("/api/v1/timelines/home")  # warm: activity and caches
    with CaptureQueriesContext(connection) as with_stars:
        assert len(api.get("/api/v1/timelines/home").json()) == 12
    # The same statuses from the feed store: the stars are no longer merged, and
    # the feed is rebuilt with their posts.
    settings.TRIBUNE_FANOUT_MAX_FOLLOWERS = 10_000
    from tribune.timelines.services import feed_rebuild

    assert feed_rebuild(account_id=alice.pk) == 12
    with CaptureQueriesContext(connection) as without:
        assert len(api.get("/api/v1/timelines/home").json()) == 12
    # one query to find the followed stars, one for their statuses
    assert len(with_stars) - len(without) <= 2


def test_merged_reblogs_of_one_post_show_once(settings, alice, bob, carol, make_account, api_as):
    """Two followed celebrities reblog one post, and a fanned-out account reblogs a
    celebrity's post: each original appears once, as its first appearance."""
    settings.TRIBUNE_FANOUT_MAX_FOLLOWERS = 1
    star, eve = make_account("star"), make_account("eve")
    for celebrity in (star, carol, eve):
        follow_create(account=alice, target=celebrity)
        follow_create(account=make_account(), target=celebrity)  # 2 followers: merged
    follow_create(account=alice, target=bob)  # 1 follower: fanned out
    post = status_create(account=star, text="the post").pk
    reblog_create(account=carol, status=Status.objects.get(pk=post))
    reblog_create(account=eve, status=Status.objects.get(pk=post))
    reblog_create(account=bob, status=Status.objects.get(pk=post))
    home = api_as(alice).get("/api/v1/timelines/home").json()
    shown = [s["reblog"]["id"] if s["reblog"] else s["id"] for s in home]
    assert shown == [str(post)]
    assert home[0]["reblog"] is None  # the first appearance: the post itself


def test_a_mute_that_has_ended_no_longer_keeps_posts_off_the_feed(alice, bob):
    from tribune.graph.models import Mute

    follow_create(account=alice, target=bob)
    mute_create(account=alice, target=bob, duration=60)
    muted = status_create(account=bob, text="while muted")
    assert muted.pk not in in_store(alice)
    Mute.objects.filter(account=alice, target=bob).update(
        expires_at=timezone.now() - timedelta(seconds=1))  # the minute has passed
    after = status_create(account=bob, text="after the mute ended")
    assert after.pk in in_store(alice)
