"""Delivery health (docs/adr/0030): Mastodon's back-off over two to three days, a
per-domain circuit breaker (open, half-open probe, closed), and Mastodon's
unavailable-domain rule (failures on seven distinct days; cleared when the
domain is heard from). Time is passed in, never slept."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tests.federation.test_inbox import ZED, post
from tribune.federation import health
from tribune.federation.health import (
    BREAKER_COOLDOWN,
    BREAKER_FAILURES,
    delivery_failed,
    delivery_succeeded,
    delivery_verdict,
    retry_delay,
)
from tribune.federation.models import DeliveryHealth

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DOMAIN = "remote.test"


def test_the_back_off_is_mastodons_sixteen_retries_over_two_to_three_days():
    rng = random.Random(7)
    waits = [retry_delay(n, rng=rng) for n in range(health.MAX_RETRIES)]
    for n, wait in enumerate(waits):
        low = n**4 + 15
        assert low <= wait.total_seconds() <= low + 9 * (n + 1) + 0.5 * n**4
    # sum of n**4 for n < 16 is 178,312 s; plus 16 * 15 s; plus the jitter
    total = sum(w.total_seconds() for w in waits)
    assert 178_552 <= total <= 178_552 + 9 * sum(range(1, 17)) + 0.5 * 178_312
    assert timedelta(days=2) < timedelta(seconds=total) < timedelta(days=3.2)
    assert waits[-1] > timedelta(hours=14)  # the last wait alone is 50,640 s and more
    with pytest.raises(ValueError):
        retry_delay(health.MAX_RETRIES)


def test_the_jitter_spreads_the_retries_of_one_outage():
    waits = {retry_delay(5, rng=random.Random(seed)) for seed in range(30)}
    assert len(waits) > 1


@pytest.mark.django_db
def test_the_breaker_opens_after_consecutive_failures_then_lets_one_probe_through():
    for i in range(BREAKER_FAILURES - 1):
        delivery_failed(domain=DOMAIN, now=T0 + timedelta(seconds=i))
    assert (
        delivery_verdict(domain=DOMAIN, now=T0 + timedelta(minutes=1)).action == "send"
    )
    opened = T0 + timedelta(minutes=2)
    row = delivery_failed(domain=DOMAIN, now=opened)
    assert (
        row.failures == BREAKER_FAILURES and row.open_until == opened + BREAKER_COOLDOWN
    )
    verdict = delivery_verdict(domain=DOMAIN, now=opened + BREAKER_COOLDOWN / 2)
    assert (verdict.action, verdict.until) == ("defer", opened + BREAKER_COOLDOWN)
    # half-open: the first caller after the cool-down is the one probe
    later = opened + BREAKER_COOLDOWN + timedelta(seconds=1)
    assert delivery_verdict(domain=DOMAIN, now=later).action == "send"
    second = delivery_verdict(domain=DOMAIN, now=later)
    assert (second.action, second.until) == ("defer", later + BREAKER_COOLDOWN)
    # the probe fails: open again for a cool-down
    row = delivery_failed(domain=DOMAIN, now=later)
    assert row.open_until == later + BREAKER_COOLDOWN
    assert (
        delivery_verdict(domain=DOMAIN, now=later + BREAKER_COOLDOWN / 2).action
        == "defer"
    )
    # the next probe succeeds: closed, failures forgotten
    again = later + BREAKER_COOLDOWN + timedelta(seconds=1)
    assert delivery_verdict(domain=DOMAIN, now=again).action == "send"
    delivery_succeeded(domain=DOMAIN)
    assert not DeliveryHealth.objects.filter(domain=DOMAIN).exists()
    assert delivery_verdict(domain=DOMAIN, now=again).action == "send"


@pytest.mark.django_db
def test_a_domain_failing_on_seven_distinct_days_is_unavailable():
    for day in range(6):
        for hour in (0, 5, 23):  # several failures a day count as one day
            row = delivery_failed(
                domain=DOMAIN, now=T0.replace(hour=hour) + timedelta(days=day)
            )
    assert (row.failure_days, row.unavailable_since) == (6, None)
    seventh = T0 + timedelta(days=6)
    row = delivery_failed(domain=DOMAIN, now=seventh)
    assert row.failure_days == 7 and row.unavailable_since == seventh
    assert (
        delivery_verdict(domain=DOMAIN, now=seventh + timedelta(days=30)).action
        == "drop"
    )
    assert delivery_verdict(domain="other.test", now=seventh).action == "send"


@pytest.mark.django_db
def test_a_success_between_failures_starts_the_days_again():
    for day in range(6):
        delivery_failed(domain=DOMAIN, now=T0 + timedelta(days=day))
    delivery_succeeded(domain=DOMAIN)
    row = delivery_failed(domain=DOMAIN, now=T0 + timedelta(days=6))
    assert (row.failure_days, row.unavailable_since) == (1, None)


def _unavailable(now):
    for day in range(7):
        delivery_failed(domain=DOMAIN, now=now - timedelta(days=6 - day))


def test_an_unavailable_domain_gets_nothing_until_it_is_heard_from(
    zed, zed_keys, alice, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from tribune.federation.tasks import deliver

    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "federation"],
        }
    }
    _unavailable(datetime.now(UTC))
    deliver.call(
        account_id=alice.pk, inbox=f"{ZED}/inbox", activity={"type": "Like", "id": "x"}
    )
    assert [r for r in zed.received if r.method == "POST"] == []
    assert DBTaskResult.objects.count() == 0  # dropped, not tried again later
    # an activity from remote.test arrives: it is up, its failures are forgotten
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Like",
        "id": "https://remote.test/likes/1",
        "actor": ZED,
        "object": "https://elsewhere.test/statuses/1",
    }
    assert post("/inbox", like, private_pem=zed_keys[0]).status_code == 202
    assert not DeliveryHealth.objects.filter(domain=DOMAIN).exists()
    deliver.call(
        account_id=alice.pk, inbox=f"{ZED}/inbox", activity={"type": "Like", "id": "x"}
    )
    assert [r.path for r in zed.received if r.method == "POST"] == ["/users/zed/inbox"]


def test_an_open_breaker_holds_deliveries_back_without_trying_them(
    zed, alice, settings
):
    from django_tasks_db.models import DBTaskResult

    from tribune.federation.tasks import deliver

    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "federation"],
        }
    }
    now = datetime.now(UTC)
    for i in range(BREAKER_FAILURES):
        row = delivery_failed(domain=DOMAIN, now=now + timedelta(milliseconds=i))
    # a first try is held to the end of the cool-down (60 s, past its 15-24 s)
    deliver.call(
        account_id=alice.pk, inbox=f"{ZED}/inbox", activity={"type": "Like", "id": "x"}
    )
    assert [r for r in zed.received if r.method == "POST"] == []
    (deferred,) = DBTaskResult.objects.all()
    assert deferred.args_kwargs["kwargs"]["attempt"] == 2  # counted as a failed try
    assert deferred.run_after == row.open_until
    # a late try keeps its own longer back-off (retry 9 waits 9**4 + 15 s at least)
    DBTaskResult.objects.all().delete()
    before = datetime.now(UTC)
    deliver.call(
        account_id=alice.pk,
        inbox=f"{ZED}/inbox",
        activity={"type": "Like", "id": "x"},
        attempt=10,
    )
    (deferred,) = DBTaskResult.objects.all()
    assert deferred.args_kwargs["kwargs"]["attempt"] == 11
    assert deferred.run_after >= before + timedelta(seconds=9**4 + 15)
    # the last try is not queued again: held back, it is given up
    DBTaskResult.objects.all().delete()
    deliver.call(
        account_id=alice.pk,
        inbox=f"{ZED}/inbox",
        activity={"type": "Like", "id": "x"},
        attempt=health.MAX_RETRIES + 1,
    )
    assert DBTaskResult.objects.count() == 0
    assert [r for r in zed.received if r.method == "POST"] == []


def test_failures_that_may_pass_count_against_the_domain_and_final_ones_do_not(
    zed, alice, settings
):
    from tribune.federation.tasks import deliver

    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "federation"],
        }
    }
    zed.routes["/users/zed/inbox"] = (410, {}, b"")
    deliver.call(
        account_id=alice.pk, inbox=f"{ZED}/inbox", activity={"type": "Like", "id": "x"}
    )
    assert not DeliveryHealth.objects.exists()
    zed.routes["/users/zed/inbox"] = (503, {}, b"")
    deliver.call(
        account_id=alice.pk, inbox=f"{ZED}/inbox", activity={"type": "Like", "id": "x"}
    )
    assert DeliveryHealth.objects.get(domain=DOMAIN).failures == 1
    zed.routes["/users/zed/inbox"] = (202, {}, b"")
    deliver.call(
        account_id=alice.pk, inbox=f"{ZED}/inbox", activity={"type": "Like", "id": "x"}
    )
    assert not DeliveryHealth.objects.exists()


@pytest.mark.django_db
def test_the_health_command_lists_failing_domains_and_clears_one(capsys):
    import argparse

    from tribune.cli.federation import cmd_federation

    _unavailable(T0)
    delivery_failed(domain="slow.test", now=T0)
    assert cmd_federation(argparse.Namespace(clear=None)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[1].split()[:3] == [DOMAIN, "7", "7"] and "unavailable since" in lines[1]
    )
    assert lines[2].split()[:3] == ["slow.test", "1", "1"]
    assert cmd_federation(argparse.Namespace(clear=DOMAIN)) == 0
    assert list(DeliveryHealth.objects.values_list("domain", flat=True)) == [
        "slow.test"
    ]
    assert delivery_verdict(domain=DOMAIN, now=T0).action == "send"


def test_a_follow_is_tried_even_to_an_unavailable_domain(zed, alice):
    from tribune.federation.tasks import deliver

    _unavailable(datetime.now(UTC))
    follow = {"type": "Follow", "id": "f", "actor": "a", "object": ZED}
    deliver.call(account_id=alice.pk, inbox=f"{ZED}/inbox", activity=follow)
    assert [r.path for r in zed.received if r.method == "POST"] == ["/users/zed/inbox"]
    # and its success tells us the domain is back
    assert not DeliveryHealth.objects.filter(domain=DOMAIN).exists()
