"""Web Push deliveries, on the ``push`` queue of their own so that a slow push
service never delays timelines or federation."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)

QUEUE = "push"
# Waits before the 2nd, 3rd and 4th tries of a push that failed for a reason that
# may pass; a notification is worth little later than that.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1))


@task(queue_name=QUEUE)
def push_notification(
    *, notification_id: int, subscription_id: int | None = None, attempt: int = 1
) -> None:
    """Push notification ``notification_id`` to each subscription of its recipient
    that wants it (or to ``subscription_id`` only, on a later try). A notification
    or subscription gone meanwhile is skipped; a failure that may pass is tried
    again after ``RETRY_DELAYS`` where the task backend can defer work."""
    from tribune.notifications.models import Notification, PushSubscription
    from tribune.notifications.push import PushFailed, push_send, push_wanted

    notification = (
        Notification.objects.select_related("from_account", "status")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:
        return
    subscriptions = PushSubscription.objects.select_related(
        "access_token", "account"
    ).filter(account_id=notification.account_id)
    if subscription_id is not None:
        subscriptions = subscriptions.filter(pk=subscription_id)
    for subscription in subscriptions:
        if not push_wanted(subscription, notification):
            continue
        try:
            push_send(subscription=subscription, notification=notification)
        except PushFailed as error:
            backend = push_notification.get_backend()
            if (
                error.temporary
                and attempt <= len(RETRY_DELAYS)
                and backend.supports_defer
            ):
                push_notification.using(
                    run_after=timezone.now() + RETRY_DELAYS[attempt - 1]
                ).enqueue(
                    notification_id=notification_id,
                    subscription_id=subscription.pk,
                    attempt=attempt + 1,
                )
            else:
                logger.info(
                    "push of notification %s to subscription %s given up: %s",
                    notification_id,
                    subscription.pk,
                    error,
                )
