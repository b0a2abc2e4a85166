"""One test suite for every FeedStore implementation (database and Redis).

The Redis store uses the Redis named by TRIBUNE_REDIS_URL, else a local Redis on
127.0.0.1:6379 (database 13); without one these tests skip, or fail under
TRIBUNE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import pytest

from tests.redis_service import redis_url_or_skip
from tribune.timelines.feeds import (
    MAX_ITEMS,
    REBLOG_WINDOW,
    DatabaseFeedStore,
    RedisFeedStore,
)

pytestmark = pytest.mark.django_db(transaction=True)

def _redis_client(settings):
    import redis

    return redis.Redis.from_url(redis_url_or_skip(settings))


@pytest.fixture(params=["database", "redis"])
def store(request, settings):
    if request.param == "database":
        yield DatabaseFeedStore()
        return
    client = _redis_client(settings)
    made = RedisFeedStore(client)
    yield made
    keys = client.keys("feed:*")
    if keys and not settings.TRIBUNE_REDIS_URL:
        # Only the feeds of this test's accounts: ids are unique to the test.
        ours = [k for k in keys if int(k.split(b":")[1]) in _made_accounts]
        if ours:
            client.delete(*ours)


_made_accounts: set[int] = set()


@pytest.fixture
def reader(make_account):
    account = make_account()
    _made_accounts.add(account.pk)
    return account


@pytest.fixture
def post(make_account):
    """``post(author)``: a status row made by the service, without fan-out (tasks
    run at once in tests, so the store under test is filled by hand)."""
    from tribune.statuses.services import status_create

    def make(author, text="hello", reblog_of=None):
        if reblog_of is not None:
            from tribune.statuses.services import reblog_create

            return reblog_create(account=author, status=reblog_of)
        return status_create(account=author, text=text)

    return make


def page(store, account, **kw):
    args = {"max_id": None, "since_id": None, "min_id": None, "limit": 20, "exclude_authors": set()}
    args.update(kw)
    return store.page(account_id=account.pk, **args)


def test_newest_first_and_idempotent(store, reader, bob, post):
    ids = [post(bob, f"post {n}").pk for n in range(5)]
    for sid in ids:
        store.add(status_id=sid, reblog_of_id=None, account_ids=[reader.pk])
    store.add(status_id=ids[2], reblog_of_id=None, account_ids=[reader.pk])  # again
    assert page(store, reader) == sorted(ids, reverse=True)
    assert store.size(account_id=reader.pk) == 5


def test_pagination_windows(store, reader, bob, post):
    ids = sorted(post(bob, f"post {n}").pk for n in range(10))
    for sid in ids:
        store.add(status_id=sid, reblog_of_id=None, account_ids=[reader.pk])
    newest_first = ids[::-1]
    assert page(store, reader, limit=3) == newest_first[:3]
    assert page(store, reader, max_id=newest_first[2], limit=3) == newest_first[3:6]
    assert page(store, reader, since_id=ids[6], limit=40) == newest_first[:3]
    # min_id: the ids just above it, newest first
    assert page(store, reader, min_id=ids[2], limit=3) == [ids[5], ids[4], ids[3]]
    assert page(store, reader, min_id=ids[2], max_id=ids[5], limit=10) == [ids[4], ids[3]]
    assert page(store, reader, max_id=ids[0]) == []


def test_neighbouring_ids_keep_their_order(store, reader, bob, post):
    """Ids above 2**53 that differ only in their lowest bits are one Redis score;
    the order and the bounds must still be exact."""
    base = post(bob).pk
    ids = [base + n for n in (1, 2, 3, 5, 8)]
    from tribune.statuses.models import Status

    template = Status.objects.get(pk=base)
    for sid in ids:
        Status.objects.create(id=sid, account=bob, text="same millisecond",
                              created_at=template.created_at,
                              visibility=template.visibility)
        store.add(status_id=sid, reblog_of_id=None, account_ids=[reader.pk])
    assert page(store, reader) == ids[::-1]
    assert page(store, reader, max_id=ids[3]) == ids[:3][::-1]
    assert page(store, reader, since_id=ids[1]) == ids[2:][::-1]
    assert page(store, reader, min_id=ids[0], limit=2) == [ids[2], ids[1]]


def test_excluded_authors_are_left_out_also_in_reblogs(store, reader, bob, carol, post):
    bobs = post(bob, "bob")
    carols = post(carol, "carol")
    boost = post(carol, reblog_of=bobs)
    for s in (bobs, carols, boost):
        store.add(status_id=s.pk, reblog_of_id=s.reblog_of_id, account_ids=[reader.pk])
    assert page(store, reader, exclude_authors={bob.pk}) == [carols.pk]
    assert set(page(store, reader, exclude_authors={carol.pk})) == {bobs.pk}


def test_a_page_is_filled_past_excluded_entries(store, reader, bob, carol, post):
    carols = [post(carol, f"c{n}").pk for n in range(3)]
    bobs = [post(bob, f"b{n}").pk for n in range(60)]  # newer than carol's
    for sid in carols + bobs:
        store.add(status_id=sid, reblog_of_id=None, account_ids=[reader.pk])
    assert page(store, reader, exclude_authors={bob.pk}, limit=20) == carols[::-1]


def test_reblogs_collapse_within_the_window_only(store, reader, bob, carol, make_account, post):
    original = post(bob, "original")
    store.add(status_id=original.pk, reblog_of_id=None, account_ids=[reader.pk])
    first = post(carol, reblog_of=original)
    store.add(status_id=first.pk, reblog_of_id=original.pk, account_ids=[reader.pk])
    assert page(store, reader) == [original.pk]  # the original is recent: collapsed
    # Once REBLOG_WINDOW newer entries have pushed it down, a reblog shows again.
    fillers = [post(bob, f"filler {n}").pk for n in range(REBLOG_WINDOW)]
    for sid in fillers:
        store.add(status_id=sid, reblog_of_id=None, account_ids=[reader.pk])
    dave = make_account()
    second = post(dave, reblog_of=original)
    store.add(status_id=second.pk, reblog_of_id=original.pk, account_ids=[reader.pk])
    assert page(store, reader, limit=1) == [second.pk]


def test_a_reblog_of_a_reblogged_original_collapses_for_one_feed_only(
        store, reader, bob, carol, make_account, post):
    other = make_account()
    _made_accounts.add(other.pk)
    original = post(bob, "original")
    first = post(carol, reblog_of=original)
    store.add(status_id=first.pk, reblog_of_id=original.pk, account_ids=[reader.pk])
    second = post(make_account(), reblog_of=original)
    store.add(status_id=second.pk, reblog_of_id=original.pk, account_ids=[reader.pk, other.pk])
    assert page(store, reader) == [first.pk]
    assert page(store, other) == [second.pk]


def test_remove_status_entries_and_discard(store, reader, bob, carol, post):
    outside = post(bob, "not on this feed")
    bobs = [post(bob, f"b{n}") for n in range(3)]
    carols = post(carol, "c")
    boost = post(carol, reblog_of=outside)
    for s in [*bobs, carols]:
        store.add(status_id=s.pk, reblog_of_id=None, account_ids=[reader.pk])
    store.add(status_id=boost.pk, reblog_of_id=outside.pk, account_ids=[reader.pk])
    store.remove_status(status_id=bobs[1].pk, account_ids=[reader.pk])
    assert bobs[1].pk not in page(store, reader)
    assert store.entries(account_id=reader.pk) == [
        (boost.pk, outside.pk), (carols.pk, None), (bobs[2].pk, None), (bobs[0].pk, None)]
    store.discard(account_id=reader.pk, entries=[(boost.pk, outside.pk), (bobs[2].pk, None)])
    assert page(store, reader) == [carols.pk, bobs[0].pk]
    store.discard(account_id=reader.pk, entries=[])
    assert store.size(account_id=reader.pk) == 2


def test_a_recent_reblog_collapses_a_new_one_when_the_original_is_old(
        store, reader, bob, carol, make_account, post):
    """The feed holds the original far down and a reblog of it near the top: the
    reblog near the top decides (the database store once looked at either)."""
    original = post(bob, "original")
    store.add(status_id=original.pk, reblog_of_id=None, account_ids=[reader.pk])
    for n in range(REBLOG_WINDOW + 5):
        store.add(status_id=post(bob, f"filler {n}").pk, reblog_of_id=None, account_ids=[reader.pk])
    first = post(carol, reblog_of=original)
    store.add(status_id=first.pk, reblog_of_id=original.pk, account_ids=[reader.pk])
    second = post(make_account(), reblog_of=original)
    store.add(status_id=second.pk, reblog_of_id=original.pk, account_ids=[reader.pk])
    assert page(store, reader, limit=2)[0] == first.pk
    assert second.pk not in page(store, reader, limit=100)


def test_replace_keeps_the_entries_from_its_bound_up(store, reader, bob, carol, make_account,
                                                     post):
    """A rebuild replaces what is below its bound and leaves what fan-out wrote
    since, exactly, also for ids a Redis score cannot tell apart."""
    from tribune.statuses.models import Status

    second, untouched = make_account(), make_account()
    _made_accounts.update({second.pk, untouched.pk})
    template = post(bob, "base")
    ids = [template.pk + n for n in (1, 2, 3, 4)]  # one Redis score
    Status.objects.bulk_create([
        Status(id=sid, account=bob, text="t", created_at=template.created_at,
               visibility=template.visibility) for sid in ids])
    for sid in [template.pk, *ids[2:]]:
        store.add(status_id=sid, reblog_of_id=None, account_ids=[reader.pk])
    store.add(status_id=ids[0], reblog_of_id=None, account_ids=[untouched.pk])
    boost = post(carol, reblog_of=template)
    store.replace(feeds={reader.pk: [(ids[0], None), (ids[1], None)],
                         second.pk: [(boost.pk, template.pk)]}, below=ids[2])
    assert store.entries(account_id=reader.pk) == [(i, None) for i in ids[::-1]]
    assert store.entries(account_id=second.pk) == [(boost.pk, template.pk)]
    assert store.entries(account_id=untouched.pk) == [(ids[0], None)]


def test_feeds_are_trimmed_to_the_newest_entries(store, reader, bob, post):
    from tribune.statuses.models import Status

    template = post(bob, "first")
    extra = 15
    ids = [template.pk + n for n in range(1, MAX_ITEMS + extra)]
    Status.objects.bulk_create([
        Status(id=sid, account=bob, text="t",
               created_at=template.created_at, visibility=template.visibility)
        for sid in ids])
    ids = [template.pk, *ids]
    for sid in ids:
        store.add(status_id=sid, reblog_of_id=None, account_ids=[reader.pk])
    newest = page(store, reader, limit=40)  # the first page trims the database store
    assert newest == ids[::-1][:40]
    assert store.size(account_id=reader.pk) == MAX_ITEMS
    assert page(store, reader, max_id=ids[extra + 1], limit=40) == [ids[extra]]


def test_add_many_and_clear(store, reader, bob, carol, post):
    a, b = post(bob, "a"), post(carol, "b")
    boost = post(carol, reblog_of=a)
    store.add_many(account_id=reader.pk, entries=[(a.pk, None), (b.pk, None), (boost.pk, a.pk)])
    store.add_many(account_id=reader.pk, entries=[(a.pk, None)])
    assert page(store, reader) == [boost.pk, b.pk, a.pk]
    store.clear(account_id=reader.pk)
    assert page(store, reader) == []
    assert store.size(account_id=reader.pk) == 0
