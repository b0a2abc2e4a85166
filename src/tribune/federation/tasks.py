"""Delivery of activities to other servers, on the ``federation`` task queue
(docs/adr/0023): one task per activity and inbox, signed with the sending local
account's key, tried again later on failures that may pass."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.backends.base import BaseTaskBackend

logger = logging.getLogger(__name__)

QUEUE = "federation"
# Waits before the 2nd, 3rd, ... tries of a delivery that failed for a reason that
# may pass (unreachable, 429, 5xx); after the last it is given up and logged.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1),
                timedelta(hours=6))


@task(queue_name=QUEUE)
def deliver(*, account_id: int, inbox: str, activity: dict[str, Any], attempt: int = 1) -> None:
    """POST ``activity`` to ``inbox`` signed by the local account ``account_id``.

    A failure that may pass is tried again after ``RETRY_DELAYS`` (where the task
    backend can defer work); a final one (4xx, refused address) is logged and
    dropped. An account deleted meanwhile sends nothing, nor does an inbox on a
    suspended domain (docs/adr/0029).
    """
    from tribune.accounts.models import Account
    from tribune.federation.client import (
        FederationRequestError,
        account_signer,
        post_activity,
    )

    account = Account.objects.filter(pk=account_id, domain="").first()
    if account is None or _suspended(inbox):
        return
    try:
        post_activity(inbox, activity, signer=account_signer(account))
    except FederationRequestError as error:
        backend: BaseTaskBackend = deliver.get_backend()
        if error.temporary and attempt <= len(RETRY_DELAYS) and backend.supports_defer:
            logger.info("delivery to %s failed (%s); trying again", inbox, error)
            deliver.using(run_after=timezone.now() + RETRY_DELAYS[attempt - 1]).enqueue(
                account_id=account_id, inbox=inbox, activity=activity, attempt=attempt + 1)
        else:
            logger.warning("delivery of %s to %s given up: %s", activity.get("type"), inbox,
                           error)


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
