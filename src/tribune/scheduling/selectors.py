"""Reads of scheduled posts."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import NotFound
from tribune.core.ids import parse_id
from tribune.core.pagination import Cursor, Page, paginate
from tribune.scheduling.models import ScheduledStatus


def _base(account: Account):
    return ScheduledStatus.objects.filter(account=account).prefetch_related("media_attachments")


def scheduled_statuses_page(*, account: Account, cursor: Cursor) -> Page:
    """``account``'s scheduled posts, newest scheduled first by id (Mastodon pages
    them by id), with their reserved attachments; two queries."""
    return paginate(_base(account), cursor)


def scheduled_statuses_by_time(*, account: Account) -> list[ScheduledStatus]:
    """Every scheduled post of ``account``'s, the next to be published first (at
    most 300, the limit)."""
    return list(_base(account).order_by("scheduled_at", "id"))


def scheduled_status_get(*, account: Account,
                         scheduled_status_id: int | str) -> ScheduledStatus:
    """One of ``account``'s scheduled posts; NotFound for anyone else's, an unknown
    or a malformed id."""
    try:
        return _base(account).get(pk=parse_id(scheduled_status_id))
    except (ScheduledStatus.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None
