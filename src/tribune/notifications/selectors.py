"""Reads of notifications."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import NotFound
from tribune.core.ids import parse_id
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


def _filtered(qs, *, types: list[str] | None, exclude_types: list[str] | None,
              account_id: int | str | None):
    if types:
        qs = qs.filter(type__in=types)
    if exclude_types:
        qs = qs.exclude(type__in=exclude_types)
    if account_id not in (None, ""):
        try:
            qs = qs.filter(from_account_id=parse_id(account_id))
        except (TypeError, ValueError):
            return qs.none()  # a malformed id matches no sender, as an unknown one
    return qs


def notifications(*, viewer: Account, cursor: Cursor, types: list[str] | None = None,
                  exclude_types: list[str] | None = None,
                  account_id: int | str | None = None) -> Page:
    """The viewer's notifications, newest first, filtered by type and sender.

    Unknown type names match nothing (Mastodon ignores them); notifications from
    accounts the viewer blocks, is blocked by or mutes with notifications are
    hidden, and so are those about statuses the viewer can no longer see.
    """
    qs = _filtered(_base(viewer), types=types, exclude_types=exclude_types,
                   account_id=account_id)
    return paginate(qs, cursor)


def notification_get(*, viewer: Account, notification_id: int | str) -> Notification:
    """One of the viewer's notifications; NotFound otherwise."""
    try:
        return _base(viewer).get(pk=parse_id(notification_id))
    except (Notification.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None


def unread_count(*, viewer: Account, since_id: int | None, types: list[str] | None = None,
                 exclude_types: list[str] | None = None, account_id: int | str | None = None,
                 limit: int | None = None) -> int:
    """How many of the viewer's notifications are newer than ``since_id`` (the
    notifications marker), with the list's filters, counting at most ``limit``."""
    qs = _filtered(_base(viewer), types=types, exclude_types=exclude_types,
                   account_id=account_id)
    if since_id:
        qs = qs.filter(pk__gt=since_id)
    if limit is not None:
        qs = qs.order_by("-id")[:limit]
    return qs.count()


TYPES = list(NotificationType.values)
