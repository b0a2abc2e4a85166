"""Delivery of activities to other servers, on the ``federation`` task queue
(docs/adr/0023, 0030): one task per activity and inbox, signed with the sending
local account's key, tried again on failures that may pass with Mastodon's
back-off over two to three days, held back while the domain's circuit breaker is
open, and dropped while the domain is marked unavailable (``health``)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.backends.base import BaseTaskBackend

from tribune.federation.health import MAX_RETRIES, RETRY_DELAYS, retry_delay

logger = logging.getLogger(__name__)

QUEUE = "federation"
__all__ = ["MAX_RETRIES", "QUEUE", "RETRY_DELAYS", "actor_counts", "deliver", "delivery_enqueue",
           "poll_fetch", "poll_update"]


def _again(*, run_after: datetime, **kwargs: Any) -> bool:
    backend: BaseTaskBackend = deliver.get_backend()
    if not backend.supports_defer:
        return False
    deliver.using(run_after=run_after).enqueue(**kwargs)
    return True


@task(queue_name=QUEUE)
def deliver(*, account_id: int, inbox: str, activity: dict[str, Any], attempt: int = 1) -> None:
    """POST ``activity`` to ``inbox`` signed by the local account ``account_id``;
    ``attempt`` is 1 for the first try.

    Before trying, the inbox's domain health decides (``health.delivery_verdict``):
    while the breaker is open the delivery is not tried and counts as a failed
    try (queued again after its back-off, and not before the cool-down ends), so
    every delivery ends within the back-off's two to three days; while the domain is
    unavailable it is dropped (a Follow is tried even so). A failure that may pass (unreachable,
    429, 5xx) is counted against the domain and tried again after
    ``health.retry_delay`` (where the task backend can defer work), at most
    ``MAX_RETRIES`` times; a final one (4xx, refused address) is logged and
    dropped and does not count against the domain's health. An account deleted
    meanwhile sends nothing. Nor does an inbox on a suspended domain get anything
    (docs/adr/0029).
    """
    from tribune.accounts.models import Account
    from tribune.federation.client import (
        FederationRequestError,
        account_signer,
        post_activity,
    )
    from tribune.federation.health import (
        delivery_failed,
        delivery_succeeded,
        delivery_verdict,
        inbox_domain,
    )

    account = Account.objects.filter(pk=account_id, domain="").first()
    if account is None or _suspended(inbox):
        return
    domain = inbox_domain(inbox)
    verdict = delivery_verdict(domain=domain)
    # A Follow is tried even so (Mastodon's bypass_availability for follows).
    if verdict.action == "drop" and activity.get("type") != "Follow":
        logger.info("delivery of %s to %s dropped: %s is unavailable", activity.get("type"),
                    inbox, domain)
        return
    if verdict.action == "defer" and verdict.until is not None and deliver.get_backend(
            ).supports_defer:
        # Held back by the open breaker: a try that failed without being made.
        _retry(account_id=account_id, inbox=inbox, activity=activity, attempt=attempt,
               not_before=verdict.until, why=f"{domain} is held back")
        return
    try:
        post_activity(inbox, activity, signer=account_signer(account))
    except FederationRequestError as error:
        if not error.temporary:
            logger.warning("delivery of %s to %s given up: %s", activity.get("type"), inbox,
                           error)
            return
        delivery_failed(domain=domain)
        _retry(account_id=account_id, inbox=inbox, activity=activity, attempt=attempt,
               not_before=None, why=str(error))
        return
    delivery_succeeded(domain=domain)


def _retry(*, account_id: int, inbox: str, activity: dict[str, Any], attempt: int,
           not_before: datetime | None, why: str) -> None:
    """Queue try ``attempt + 1`` after ``retry_delay`` and not before
    ``not_before``; give up (logged) after ``MAX_RETRIES`` retries or where the
    backend cannot defer."""
    run_after = timezone.now() + retry_delay(attempt - 1) if attempt <= MAX_RETRIES else None
    if run_after is not None and not_before is not None:
        run_after = max(run_after, not_before)
    if run_after is not None and _again(run_after=run_after, account_id=account_id,
                                        inbox=inbox, activity=activity, attempt=attempt + 1):
        logger.info("delivery to %s not done (%s); trying again", inbox, why)
    else:
        logger.warning("delivery of %s to %s given up: %s", activity.get("type"), inbox, why)


def delivery_enqueue(*, account_id: int, inbox: str, activity: dict[str, Any]) -> None:
    """Deliver ``activity`` once the current transaction commits (never for a
    transaction that rolls back)."""
    transaction.on_commit(lambda: deliver.enqueue(account_id=account_id, inbox=inbox,
                                                  activity=activity), robust=False)


def _suspended(inbox: str) -> bool:
    """Whether ``inbox``'s host is on a suspended domain (nothing is sent there)."""
    from urllib.parse import urlsplit

    from tribune.accounts.selectors import domain_suspended

    try:
        host = urlsplit(inbox).hostname or ""
    except ValueError:
        return True
    if domain_suspended(host):
        logger.info("delivery to %s dropped: the domain is suspended", inbox)
        return True
    return False


@task(queue_name=QUEUE)
def deliver_as_instance(*, inbox: str, activity: dict[str, Any], attempt: int = 1) -> None:
    """POST ``activity`` to ``inbox`` signed by the instance actor
    (``instance_actor``; forwarded reports), tried again as ``deliver``."""
    from tribune.federation.client import FederationRequestError, post_activity
    from tribune.federation.instance_actor import instance_signer

    if _suspended(inbox):
        return
    try:
        post_activity(inbox, activity, signer=instance_signer())
    except FederationRequestError as error:
        backend: BaseTaskBackend = deliver_as_instance.get_backend()
        if error.temporary and attempt <= len(RETRY_DELAYS) and backend.supports_defer:
            deliver_as_instance.using(run_after=timezone.now() + RETRY_DELAYS[attempt - 1]
                                      ).enqueue(inbox=inbox, activity=activity,
                                                attempt=attempt + 1)
        else:
            logger.warning("delivery of %s to %s given up: %s", activity.get("type"), inbox,
                           error)


@task(queue_name=QUEUE)
def poll_update(*, poll_id: int) -> None:
    """The ``Update`` of a local poll's ``Question`` with its counts at this
    moment (``outbox.poll_update_send``), queued by ``outbox.poll_update_soon``
    to run once its window ends."""
    from tribune.federation.outbox import poll_update_send

    poll_update_send(poll_id=poll_id)


@task(queue_name=QUEUE)
def poll_fetch(*, poll_id: int) -> None:
    """Read a remote poll's counts again from its server
    (``federation.polls.poll_fetch_now``), queued by ``poll_refresh_soon``."""
    from tribune.federation.polls import poll_fetch_now

    poll_fetch_now(poll_id=poll_id)


@task(queue_name=QUEUE)
def actor_counts(*, account_id: int, urls: dict[str, str]) -> None:
    """Read a remote account's counts from its collections
    (``actors.actor_counts_fetch``), queued when its actor is stored."""
    from tribune.federation.actors import actor_counts_fetch

    actor_counts_fetch(account_id=account_id, urls=urls)
