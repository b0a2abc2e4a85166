"""Reads for imports and exports: a person's graph and posts in bulk, in id order
and in chunks (an export of 100,000 posts never holds them all), and the imports
and archives the settings page lists."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import NotFound
from tribune.core.ids import parse_id
from tribune.graph.models import Block, Follow, Mute
from tribune.portability.models import Export, Import, ImportedItem, ImportRow, JobState
from tribune.statuses.models import Bookmark, Favourite, Status

CHUNK = 500
_LOCAL_STATUS = re.compile(r"/(?:users/(?P<name>[^/]+)/statuses|@(?P<at>[^/]+))/(?P<id>[0-9]+)")


def acct_of(account: Account) -> str:
    """``user@domain`` as Mastodon's CSVs write it: this instance's accounts with
    this instance's domain too."""
    return f"{account.username}@{account.domain or settings.TRIBUNE_DOMAIN}"


def following_of(account: Account) -> Iterator[Follow]:
    """``account``'s accepted follows, oldest first, with their targets."""
    return (Follow.objects.filter(account=account).select_related("target")
            .order_by("id").iterator(chunk_size=CHUNK))


def followers_of(account: Account) -> Iterator[Follow]:
    return (Follow.objects.filter(target=account).select_related("account")
            .order_by("id").iterator(chunk_size=CHUNK))


def blocks_of(account: Account) -> Iterator[Block]:
    return (Block.objects.filter(account=account).select_related("target")
            .order_by("id").iterator(chunk_size=CHUNK))


def mutes_of(account: Account) -> Iterator[Mute]:
    """Active mutes only: an expired mute is no longer one (graph.active_mutes)."""
    now = timezone.now()
    return (Mute.objects.filter(account=account)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .select_related("target").order_by("id").iterator(chunk_size=CHUNK))


def _marked_statuses(model, account: Account) -> Iterator[Status]:
    rows = (model.objects.filter(account=account)
            .select_related("status__account").order_by("id").iterator(chunk_size=CHUNK))
    return (row.status for row in rows)


def bookmarked_statuses(account: Account) -> Iterator[Status]:
    return _marked_statuses(Bookmark, account)


def favourited_statuses(account: Account) -> Iterator[Status]:
    return _marked_statuses(Favourite, account)


def own_statuses(account: Account) -> Iterator[Status]:
    """``account``'s posts and boosts, oldest first, with everything the ActivityPub
    serialisers read (federation.serializers). Posts a moderation decision removed
    are left out: they are not the author's to publish again elsewhere."""
    return (Status.objects.filter(account=account, removed_at__isnull=True)
            .select_related("account", "in_reply_to__account", "reblog_of__account", "poll")
            .prefetch_related("mentions__account", "tags", "media_attachments")
            .order_by("id").iterator(chunk_size=CHUNK))


def imported_status(*, account: Account, source: str, source_id: str) -> Status | None:
    """The post ``account`` imported from ``source_id`` of ``source``, if any."""
    item = (ImportedItem.objects.filter(account=account, source=source, source_id=source_id)
            .select_related("status__account").first())
    return item.status if item else None


def status_for_uri(*, account: Account, uri: str) -> Status | None:
    """The post that ``uri`` names, if ``account`` can see it here: a post of this
    instance by its ActivityPub id (``/users/NAME/statuses/ID``) or page
    (``/@NAME/ID``), one of ``account``'s imported posts by its old id, or a post
    of another server already known by its id. None otherwise."""
    from tribune.statuses.policy import can_view

    uri = (uri or "").strip()
    if not uri:
        return None
    status = None
    match = _LOCAL_STATUS.fullmatch(uri[len(settings.TRIBUNE_BASE_URL):]) \
        if uri.startswith(settings.TRIBUNE_BASE_URL + "/") else None
    if match is not None:
        try:
            status = (Status.objects.select_related("account", "reblog_of__account")
                      .filter(pk=parse_id(match["id"]), account__domain="").first())
        except ValueError:
            status = None
        author = match["name"] or match["at"]
        if status is not None and status.account.username.lower() != author.lower():
            status = None
    if status is None:
        status = imported_status(account=account, source="mastodon", source_id=uri)
    if status is None:
        status = (Status.objects.select_related("account", "reblog_of__account")
                  .filter(uri=uri).exclude(account__domain="").first())
    if status is None or not can_view(account, status):
        return None
    return status


# --- the settings page ------------------------------------------------------------


def imports_of(*, account: Account, limit: int = 20) -> list[Import]:
    """``account``'s latest imports, newest first."""
    return list(Import.objects.filter(account=account).order_by("-id")[:limit])


def import_get(*, account: Account, import_id: int | str) -> Import:
    """One of ``account``'s imports; NotFound for anyone else's or an unknown id."""
    try:
        return Import.objects.get(pk=parse_id(import_id), account=account)
    except (Import.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None


def import_rows(*, batch: Import, offset: int = 0, limit: int = 200,
                result: str | None = None) -> list[ImportRow]:
    """Rows of ``batch`` in file order, ``result`` only when given."""
    rows = ImportRow.objects.filter(batch=batch).order_by("number")
    if result:
        rows = rows.filter(result=result)
    return list(rows[offset : offset + limit])


def export_latest(*, account: Account) -> Export | None:
    """``account``'s most recent archive request (any state), or None."""
    return Export.objects.filter(account=account).order_by("-id").first()


def export_get(*, account: Account, export_id: int | str) -> Export:
    """One of ``account``'s finished archives; NotFound otherwise."""
    try:
        return Export.objects.get(pk=parse_id(export_id), account=account,
                                  state=JobState.FINISHED)
    except (Export.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None
