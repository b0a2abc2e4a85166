"""Delivery health per remote domain (docs/adr/0030): the back-off schedule of a
failed delivery, a circuit breaker, and Mastodon's unavailable-domain rule.

- **Back-off**: Mastodon's ActivityPub::DeliveryWorker: 16 retries, retry
  ``n`` (0-based) after Sidekiq's default ``n**4 + 15`` seconds plus Sidekiq's
  jitter ``rand(10) * (n + 1)`` plus Mastodon's own ``rand(0.5 * n**4)``; the
  last retry comes 2.1 to 3.1 days after the first try.
- **Circuit breaker**: after ``BREAKER_FAILURES`` consecutive failures to a
  domain it opens for ``BREAKER_COOLDOWN``: deliveries to it are not tried and
  count as failed tries (``tasks.deliver`` queues them again after their
  back-off, not before the cool-down ends); then one delivery is let through as
  a probe (half-open), the others wait another cool-down. The probe's success
  closes it, its failure opens it again.
- **Unavailable**: a domain with failures on ``UNAVAILABLE_DAYS`` (7) distinct
  days and no success between (Mastodon's DeliveryFailureTracker with
  ``FAILURE_DAYS_THRESHOLD = 7``) is marked unavailable; its deliveries are
  dropped untried until an activity from it arrives in our inbox, or an
  operator clears it (``tribune federation health --clear DOMAIN``).

The state is one ``DeliveryHealth`` row per failing domain; a healthy domain has
none, so a successful delivery costs one indexed read.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Case, F, PositiveIntegerField, Q, When
from django.utils import timezone

from tribune.federation.models import DeliveryHealth

MAX_RETRIES = 16
# The jitter-free part of each wait, for the retry n (0-based): n**4 + 15 seconds.
RETRY_DELAYS = tuple(timedelta(seconds=n**4 + 15) for n in range(MAX_RETRIES))
# Mastodon's Stoplight around each delivery: STOPLIGHT_FAILURE_THRESHOLD = 10,
# STOPLIGHT_COOLDOWN = 60 (seconds).
BREAKER_FAILURES = 10  # consecutive failed deliveries that open the breaker
BREAKER_COOLDOWN = timedelta(seconds=60)
UNAVAILABLE_DAYS = 7  # distinct days with failures, Mastodon's FAILURE_DAYS_THRESHOLD


def retry_delay(retry: int, *, rng: random.Random | None = None) -> timedelta:
    """The wait before retry ``retry`` (0-based, below ``MAX_RETRIES``):
    ``retry**4 + 15`` seconds plus ``rand(10) * (retry + 1)`` plus
    ``rand(0.5 * retry**4)`` (Mastodon's delivery worker; the random parts spread
    the retries of one outage). Raises ValueError past the last retry."""
    if not 0 <= retry < MAX_RETRIES:
        raise ValueError(f"no retry {retry}: there are {MAX_RETRIES}")
    rng = rng or random
    jitter = rng.randrange(10) * (retry + 1) + rng.random() * 0.5 * retry**4
    return RETRY_DELAYS[retry] + timedelta(seconds=jitter)


def inbox_domain(inbox: str) -> str:
    """The host of an inbox URL, lower case, with its port if it has one."""
    try:
        return urlsplit(inbox).netloc.rpartition("@")[2].lower()
    except ValueError:
        return ""


@dataclass(frozen=True)
class Verdict:
    """Whether to try a delivery now: ``action`` is ``"send"``, ``"defer"`` (to
    ``until``; the breaker is open) or ``"drop"`` (the domain is unavailable)."""

    action: str
    until: datetime | None = None


SEND = Verdict("send")


def delivery_verdict(*, domain: str, now: datetime | None = None) -> Verdict:
    """What to do with a delivery to ``domain`` at ``now`` (see the module's
    docstring). When the cool-down is over, the caller that gets ``send`` is the
    one probe: it moved ``open_until`` a cool-down on, so that others defer."""
    now = now or timezone.now()
    health = (
        DeliveryHealth.objects.filter(domain=domain)
        .only("open_until", "unavailable_since")
        .first()
    )
    if health is None:
        return SEND
    if health.unavailable_since is not None:
        return Verdict("drop")
    if health.open_until is None:
        return SEND
    if health.open_until > now:
        return Verdict("defer", health.open_until)
    # Half-open: one caller claims the probe by moving the end of the cool-down.
    claimed = DeliveryHealth.objects.filter(
        domain=domain, open_until=health.open_until
    ).update(open_until=now + BREAKER_COOLDOWN)
    return SEND if claimed else Verdict("defer", now + BREAKER_COOLDOWN)


def delivery_failed(*, domain: str, now: datetime | None = None) -> DeliveryHealth:
    """Count one failed delivery to ``domain`` at ``now``: one more consecutive
    failure, one more failure day when the last was on an earlier UTC day; opens
    the breaker at ``BREAKER_FAILURES`` and marks the domain unavailable at
    ``UNAVAILABLE_DAYS``. Returns the row as it is now."""
    now = now or timezone.now()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = DeliveryHealth.objects.filter(domain=domain)
    updated = rows.update(
        failures=F("failures") + 1,
        last_failure_at=now,
        failure_days=Case(
            When(last_failure_at__lt=day_start, then=F("failure_days") + 1),
            default=F("failure_days"),
            output_field=PositiveIntegerField(),
        ),
    )
    if not updated:
        try:
            with transaction.atomic():
                DeliveryHealth.objects.create(
                    domain=domain,
                    failures=1,
                    failure_days=1,
                    first_failure_at=now,
                    last_failure_at=now,
                )
        except IntegrityError:  # another worker counted the first failure
            return delivery_failed(domain=domain, now=now)
    rows.filter(failures__gte=BREAKER_FAILURES).filter(
        Q(open_until__isnull=True) | Q(open_until__lte=now)
    ).update(open_until=now + BREAKER_COOLDOWN)
    rows.filter(
        failure_days__gte=UNAVAILABLE_DAYS, unavailable_since__isnull=True
    ).update(unavailable_since=now)
    return rows.get()


def delivery_succeeded(*, domain: str) -> None:
    """A delivery to ``domain`` went through: forget its failures (closes the
    breaker). One query, a delete of nothing for a healthy domain."""
    DeliveryHealth.objects.filter(domain=domain).delete()


def delivery_health_clear(*, domain: str) -> bool:
    """Forget ``domain``'s failures: it delivered to us (an inbound activity
    from it), or an operator cleared it. True when there was something to
    forget."""
    deleted, _rows = DeliveryHealth.objects.filter(domain=domain.lower()).delete()
    return bool(deleted)


def unhealthy_domains() -> list[DeliveryHealth]:
    """The domains with failing deliveries, unavailable ones first, then by
    consecutive failures (most first)."""
    return list(
        DeliveryHealth.objects.order_by(
            F("unavailable_since").desc(nulls_last=True), "-failures", "domain"
        )
    )
