"""Reads of notifications."""

from __future__ import annotations

from tribune.accounts.models import Account
from tribune.core.errors import NotFound
from tribune.core.pagination import Cursor, Page, paginate
from tribune.graph.selectors import notification_muted_ids
from tribune.notifications.models import Notification, NotificationType
from tribune.statuses.models import Status
from tribune.statuses.policy import visible_q
from tribune.statuses.selectors import STATUS_PREFETCH, STATUS_RELATED

NOTIFICATION_DEFAULT_LIMIT = 40
NOTIFICATION_MAX_LIMIT = 80


def _base(viewer: Account):
    qs = Notification.objects.filter(account=viewer).exclude(
        from_account_id__in=notification_muted_ids(viewer.pk))
    # A status the viewer can no longer see (e.g. a follow ended) is not shown.
    qs = qs.exclude(status__isnull=False, status__in=Status.objects.exclude(visible_q(viewer)))
    return qs.select_related(
        "from_account", *(f"status__{r}" for r in STATUS_RELATED)
    ).prefetch_related(*(f"status__{p}" for p in STATUS_PREFETCH))


def notifications(*, viewer: Account, cursor: Cursor, types: list[str] | None = None,
                  exclude_types: list[str] | None = None, account_id: int | None = None) -> Page:
    """The viewer's notifications, newest first, filtered by type and sender."""
    qs = _base(viewer)
    if types:
        qs = qs.filter(type__in=types)
    if exclude_types:
        qs = qs.exclude(type__in=exclude_types)
    if account_id is not None:
        qs = qs.filter(from_account_id=account_id)
    return paginate(qs, cursor)


def notification_get(*, viewer: Account, notification_id: int | str) -> Notification:
    """One of the viewer's notifications; NotFound otherwise."""
    try:
        return _base(viewer).get(pk=int(notification_id))
    except (Notification.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("Record not found") from None


def unread_count(*, viewer: Account, since_id: int | None) -> int:
    qs = _base(viewer)
    if since_id:
        qs = qs.filter(pk__gt=since_id)
    return qs.count()


TYPES = list(NotificationType.values)
