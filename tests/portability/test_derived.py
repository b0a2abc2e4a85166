"""State derived after a restore: the home feeds of recently active accounts are
rebuilt as fan-out made them, set by set (portability.derived)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.timelines.feed_stores import STORES, using_store
from tribune.accounts.models import Account
from tribune.graph.services import follow_create
from tribune.portability.derived import home_feeds_rebuild
from tribune.statuses.services import reblog_create, status_create
from tribune.timelines.feeds import feed_store
from tribune.timelines.services import feeds_restamp

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=STORES)
def store_kind(request, settings):
    with using_store(request.param, settings):
        yield request.param


def entries(account) -> list[tuple[int, int | None]]:
    return feed_store().entries(account_id=account.pk)


def test_active_accounts_get_back_the_feeds_fanout_made(store_kind, alice, bob, carol,
                                                        make_account):
    idle = make_account("idle")
    Account.objects.filter(pk=idle.pk).update(active_at=timezone.now() - timedelta(days=30))
    for follower in (alice, carol, idle):
        follow_create(account=follower, target=bob)
    follow_create(account=bob, target=alice)
    first = status_create(account=bob, text="first")
    status_create(account=alice, text="@bob hi", in_reply_to_id=first.pk)
    status_create(account=bob, text="@alice between us", visibility="direct")
    reblog_create(account=alice, status=first)  # on no feed: collapsed, or bob's own post
    status_create(account=carol, text="nobody follows carol")
    live = {a.username: entries(a) for a in (alice, bob, carol)}
    assert entries(idle) == []  # inactive: no fan-out
    assert [len(f) for f in live.values()] == [3, 3, 2]
    for account in (alice, bob, carol, idle):  # a restore brings no feed entries
        feed_store().clear(account_id=account.pk)

    assert home_feeds_rebuild() == 3
    assert {a.username: entries(a) for a in (alice, bob, carol)} == live
    assert entries(idle) == []  # rebuilt when it comes back (timelines.account_seen)


def _rebuild_queries(make_account, accounts: int) -> int:
    author = make_account()
    readers = [make_account() for _ in range(accounts)]
    for reader in readers:
        follow_create(account=reader, target=author)
        status_create(account=reader, text="mine")
    status_create(account=author, text="for my readers")
    for reader in readers:
        feed_store().clear(account_id=reader.pk)
    with CaptureQueriesContext(connection) as queries:
        home_feeds_rebuild()
    assert all(len(entries(r)) == 2 for r in readers)
    Account.objects.filter(pk__in=[author.pk, *[r.pk for r in readers]]).update(
        active_at=timezone.now() - timedelta(days=30))  # out of the next measure
    return len(queries)


def test_rebuilding_three_or_twelve_feeds_costs_the_same_queries(settings, make_account):
    settings.TRIBUNE_REDIS_URL = ""
    feeds_restamp()  # the stamp's row exists, as it does after the first rebuild
    assert _rebuild_queries(make_account, 3) == _rebuild_queries(make_account, 12)


def test_the_rebuild_says_how_far_it_has_come(settings, monkeypatch, alice, bob, make_account):
    from tribune.portability.derived import COUNTERS, derived_state_rebuild
    from tribune.timelines import services

    settings.TRIBUNE_REDIS_URL = ""
    settings.TRIBUNE_FEED_ACTIVE_DAYS = 14
    idle = make_account("idle")
    Account.objects.filter(pk=idle.pk).update(active_at=timezone.now() - timedelta(days=30))
    active = Account.objects.filter(domain="", active_at__gte=timezone.now() - timedelta(days=14))
    steps: list[tuple[str, int, int]] = []
    monkeypatch.setattr(services, "REBUILD_BATCH", 1)  # one step a feed
    derived_state_rebuild(on_step=lambda *step: steps.append(step))
    n = active.count()
    assert n == 2  # alice and bob
    assert [s for s in steps if s[0] == "counters"] == [
        ("counters", k, len(COUNTERS)) for k in range(len(COUNTERS) + 1)]
    assert [s for s in steps if s[0] == "home feeds"] == [
        ("home feeds", 0, 0), *[("home feeds", k, n) for k in range(1, n + 1)]]
