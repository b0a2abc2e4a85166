"""A person's archive and CSV files, in Mastodon's layout so that other servers'
importers and tools read them (Mastodon's BackupService and Export; data formats
in its documentation, user/moving.md).

The archive is one zip::

    actor.json            the account as an actor (federation.serializers.person),
                          with ``outbox``, ``likes``, ``bookmarks``, ``icon`` and
                          ``image`` pointing at the files below
    outbox.json           OrderedCollection of Create (posts, with their
                          attachments at their paths in the archive) and Announce
                          (boosts) activities, oldest first
    likes.json            OrderedCollection of the ids of favourited posts
    bookmarks.json        the same for bookmarks
    avatar.EXT, header.EXT
    media_attachments/files/123/456/.../original/NAME
    following_accounts.csv, follower_accounts.csv, blocked_accounts.csv,
    muted_accounts.csv, bookmarks.csv, lists.csv     as the settings page offers them
    move.json             the signed move statement, once the account has moved
                          (portability.moving)

Posts include followers-only and direct ones (they are the person's own, as in
Mastodon's archive); posts a moderation decision removed are left out.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import ValidationFailed
from tribune.federation import serializers as ap
from tribune.lists.selectors import memberships_for_export
from tribune.portability.csvfiles import COLUMNS, write_csv
from tribune.portability.models import Export, JobState
from tribune.portability.moving import move_archive_due, move_statement
from tribune.portability.selectors import (
    acct_of,
    blocks_of,
    bookmarked_statuses,
    favourited_statuses,
    followers_of,
    following_of,
    mutes_of,
    own_statuses,
)

logger = logging.getLogger(__name__)

# Mastodon lets a person ask for an archive once every 7 days (user/moving.md).
EXPORT_INTERVAL = timedelta(days=7)
_CHUNK = 1024 * 1024


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _csv_following(account: Account) -> bytes:
    rows = [[acct_of(f.target), _bool(f.show_reblogs), _bool(f.notify), ""]
            for f in following_of(account)]
    return write_csv(rows, header=list(COLUMNS["following"]))


def _csv_followers(account: Account) -> bytes:
    return write_csv([[acct_of(f.account)] for f in followers_of(account)])


def _csv_blocks(account: Account) -> bytes:
    return write_csv([[acct_of(b.target)] for b in blocks_of(account)])


def _csv_mutes(account: Account) -> bytes:
    rows = [[acct_of(m.target), _bool(m.hide_notifications)] for m in mutes_of(account)]
    return write_csv(rows, header=list(COLUMNS["mutes"]))


def _csv_bookmarks(account: Account) -> bytes:
    return write_csv([[ap.status_id(s)] for s in bookmarked_statuses(account)])


def _csv_lists(account: Account) -> bytes:
    # One row per member, no header (Export#to_lists_csv); empty lists have no row.
    return write_csv([[m.list.title, acct_of(m.account)]
                      for m in memberships_for_export(account=account)])


# The CSV files, by file name, with Mastodon's names and headers (Export#to_*_csv:
# following and mutes have a header line, the others none).
CSV_EXPORTS: dict[str, Callable[[Account], bytes]] = {
    "following_accounts.csv": _csv_following,
    "follower_accounts.csv": _csv_followers,
    "blocked_accounts.csv": _csv_blocks,
    "muted_accounts.csv": _csv_mutes,
    "bookmarks.csv": _csv_bookmarks,
    "lists.csv": _csv_lists,
}


def export_csv(*, account: Account, name: str) -> bytes:
    """The CSV file ``name`` (a key of ``CSV_EXPORTS``) of ``account``'s data;
    KeyError for another name."""
    return CSV_EXPORTS[name](account)


# --- the archive -------------------------------------------------------------------


def _media_path(media) -> str:
    """Where an attachment goes in the archive: Mastodon's storage path without its
    leading ``system/`` (``media_attachments/files/110/123/.../original/NAME``)."""
    digits = f"{media.pk:018d}"
    groups = "/".join(digits[i:i + 3] for i in range(0, len(digits), 3))
    return f"media_attachments/files/{groups}/original/{PurePosixPath(media.file.name).name}"


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _entry(arcname: str, compress_type: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    """A member dated now (a member opened by name alone is dated 1980)."""
    info = zipfile.ZipInfo(arcname, date_time=time.localtime()[:6])
    info.compress_type = compress_type
    return info


def _copy_stored(archive: zipfile.ZipFile, name: str, arcname: str) -> bool:
    """Copy the stored file ``name`` into the archive as it is (pictures and video
    are compressed already); False (logged) when the storage no longer has it, so
    one lost file does not lose the archive."""
    info = _entry(arcname, zipfile.ZIP_STORED)
    try:
        with default_storage.open(name, "rb") as source, \
                archive.open(info, "w", force_zip64=True) as target:
            while chunk := source.read(_CHUNK):
                target.write(chunk)
    except FileNotFoundError:
        logger.warning("export: %s is missing from storage", name)
        return False
    return True


def _write_outbox(archive: zipfile.ZipFile, account: Account,
                  attachment_url: Callable[[Any], str]) -> None:
    """``outbox.json``, written one activity at a time (an account of 100,000 posts
    is never held in memory); ``totalItems`` comes last, once counted."""
    head = ap.ordered_collection("outbox.json", [], total=False)
    del head["orderedItems"]
    opening = json.dumps(head, ensure_ascii=False)[:-1] + ', "orderedItems": ['
    count = 0
    with archive.open(_entry("outbox.json"), "w", force_zip64=True) as out:
        out.write(opening.encode("utf-8"))
        for status in own_statuses(account):
            activity = (ap.announce(status) if status.reblog_of_id
                        else ap.create(status, attachment_url=attachment_url))
            out.write(((",\n" if count else "\n") + json.dumps(activity, ensure_ascii=False))
                      .encode("utf-8"))
            count += 1
        out.write(f'\n], "totalItems": {count}}}'.encode())


def archive_write(*, account: Account, path: Path) -> None:
    """Write ``account``'s archive (the layout above) to the zip file ``path``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        media_files: list[tuple[str, str]] = []

        def attachment_url(media) -> str:
            arcname = _media_path(media)
            media_files.append((media.file.name, arcname))
            return arcname

        _write_outbox(archive, account, attachment_url)
        for name, arcname in media_files:
            _copy_stored(archive, name, arcname)
        for collection, statuses in (("likes.json", favourited_statuses(account)),
                                     ("bookmarks.json", bookmarked_statuses(account))):
            ids = [ap.status_id(s) for s in statuses]
            archive.writestr(collection, _json(ap.ordered_collection(collection, ids,
                                                                     total=False)))
        pictures = {}
        for kind in ("avatar", "header"):
            field = getattr(account, kind)
            if field:
                arcname = f"{kind}{PurePosixPath(field.name).suffix}"
                if _copy_stored(archive, field.name, arcname):
                    pictures[kind] = arcname
        actor = ap.person(account, icon_url=pictures.get("avatar"),
                          image_url=pictures.get("header"))
        for kind, key in (("avatar", "icon"), ("header", "image")):
            if kind not in pictures:  # none, or lost from storage
                actor.pop(key, None)
        actor.update({"outbox": "outbox.json", "likes": "likes.json",
                      "bookmarks": "bookmarks.json"})
        archive.writestr("actor.json", _json(actor))
        for name, build in CSV_EXPORTS.items():
            archive.writestr(name, build(account))
        if (statement := move_statement(account)) is not None:
            archive.writestr("move.json", _json(statement))


def archive_name(now=None) -> str:
    """Mastodon's archive file name: ``archive-YYYYMMDDHHMMSS-<32 hex>.zip``."""
    now = now or timezone.now()
    return f"archive-{now:%Y%m%d%H%M%S}-{secrets.token_hex(16)}.zip"


# --- archive requests (the settings page) -------------------------------------------


def export_request(*, account: Account) -> Export:
    """Ask for a new archive of ``account``'s data, made by a task on the
    ``portability`` queue after commit. Raises ValidationFailed when the last
    request (not a failed one) is less than ``EXPORT_INTERVAL`` old, as Mastodon
    allows one archive a week, unless the account has moved since and needs the
    archive with its move statement (``moving.move_archive_due``)."""
    now = timezone.now()
    with transaction.atomic():
        # Locked, so two clicks at once make one request.
        Account.objects.select_for_update().filter(pk=account.pk).first()
        last = (Export.objects.filter(account=account).exclude(state=JobState.FAILED)
                .order_by("-created_at").first())
        if (last is not None and last.created_at > now - EXPORT_INTERVAL
                and not move_archive_due(account=account, since=now - EXPORT_INTERVAL)):
            raise ValidationFailed(
                # No full stop after the date: English dates may end in "p.m.".
                _("You can request an archive once every 7 days: your next one after "
                  "%(date)s")
                % {"date": date_format(last.created_at + EXPORT_INTERVAL, "DATETIME_FORMAT")})
        export = Export.objects.create(account=account, created_at=now)
        pk = export.pk
        transaction.on_commit(lambda: _enqueue(pk), robust=False)
    return export


def _enqueue(export_id: int) -> None:
    from tribune.portability.tasks import run_export

    run_export.enqueue(export_id=str(export_id))


def export_run(*, export_id: int | str) -> None:
    """Make the archive of a requested export and store it (the ``portability``
    queue's task); older archives of the account are deleted with their files.
    Idempotent: a finished export is left alone; one interrupted midway is made
    again from the start."""
    export = Export.objects.filter(pk=export_id).select_related("account").first()
    if export is None or export.state == JobState.FINISHED:
        return
    Export.objects.filter(pk=export.pk).update(state=JobState.RUNNING)
    handle, name = tempfile.mkstemp(prefix="tribune-export-", suffix=".zip")
    path = Path(name)
    os.close(handle)
    try:
        archive_write(account=export.account, path=path)
        with path.open("rb") as source:
            stored = default_storage.save(f"exports/{archive_name()}", File(source))
    except Exception as exc:
        logger.exception("export %s failed", export.pk)
        Export.objects.filter(pk=export.pk).update(state=JobState.FAILED,
                                                   error=str(exc)[:500] or type(exc).__name__,
                                                   finished_at=timezone.now())
        return
    finally:
        path.unlink(missing_ok=True)
    size = default_storage.size(stored)
    older = list(Export.objects.filter(account=export.account, pk__lt=export.pk)
                 .exclude(file=""))
    with transaction.atomic():
        Export.objects.filter(pk=export.pk).update(
            state=JobState.FINISHED, file=stored, file_size=size, error="",
            finished_at=timezone.now())
        Export.objects.filter(pk__in=[e.pk for e in older]).update(file="", file_size=0)
    for old in older:
        try:
            default_storage.delete(old.file.name)
        except Exception:  # a storage outage must not undo the new archive: log it
            logger.exception("export: could not delete %s", old.file.name)
