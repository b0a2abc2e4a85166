"""Writes to media attachments: upload, process, describe, attach, clean up.

Files are written and deleted through Django's default storage only (the data dir
or an S3-compatible bucket), never by local path. Processing works on temporary
local copies. A file is deleted from storage after the transaction that drops its
row commits, so a rollback never leaves a row without its file.

Mastodon's behaviour (docs: methods/media.md): ``POST /api/v1/media`` processes
at once, ``POST /api/v2/media`` may answer before processing is done; an upload
is attached by listing its id in ``media_ids`` when posting, at most four, only
one's own, only once, only when processed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import can_act
from tribune.core.entity_cache import new_version
from tribune.core.errors import Forbidden, NotFound, Unavailable, ValidationFailed
from tribune.core.ids import new_id, parse_id
from tribune.media.models import MediaAttachment, MediaType, ProcessingState
from tribune.media.processing import (
    IMAGE_TYPES,
    Processed,
    max_image_bytes,
    process_upload,
    sniff_bytes,
)
from tribune.media.storage import storage_errors
from tribune.media.video import ffmpeg_available

logger = logging.getLogger(__name__)

DESCRIPTION_LIMIT = 1500  # characters, Mastodon's
MAX_ATTACHMENTS = 4
ORPHAN_AGE = timedelta(days=1)
_CHUNK = 1024 * 1024


# --- input ------------------------------------------------------------------------


def _check_description(description: str) -> str:
    if "\x00" in description:
        raise ValidationFailed(_("Validation failed: Description contains a character that "
                                 "is not allowed"))
    if len(description) > DESCRIPTION_LIMIT:
        raise ValidationFailed(
            _("Validation failed: Description is too long (maximum is %(limit)d characters)")
            % {"limit": DESCRIPTION_LIMIT})
    return description


def parse_focus(focus: str | None) -> tuple[float, float] | None:
    """``"x,y"`` with both in [-1, 1] as a pair of floats; None for None or "".
    Raises ValidationFailed otherwise (Mastodon's focal points, api/guidelines)."""
    if focus in (None, ""):
        return None
    try:
        x_text, y_text = str(focus).split(",")
        x, y = float(x_text), float(y_text)
    except ValueError:
        raise ValidationFailed(_("Validation failed: Focus must be two numbers, x,y")) from None
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise ValidationFailed(_("Validation failed: Focus must be between -1.0 and 1.0"))
    return x, y


def _type_for(mime: str) -> str:
    if mime.startswith("image/"):
        return MediaType.IMAGE
    return MediaType.AUDIO if mime.startswith("audio/") else MediaType.VIDEO


def _file_name(suffix: str) -> str:
    # Unguessable names: a file's URL is only known to those who see the post.
    return f"{secrets.token_hex(16)}{suffix}"


@contextlib.contextmanager
def _local_copy(source) -> Iterator[Path]:
    """A temporary local file with the content of ``source`` (an uploaded or
    stored file), deleted afterwards."""
    handle, name = tempfile.mkstemp(prefix="tribune-upload-")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in source.chunks(_CHUNK):
                out.write(chunk)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except Exception:  # a storage outage must not undo a deletion: log it
            logger.exception("media: could not delete %s from storage", name)


def _delete_files_on_commit(names: list[str]) -> None:
    names = [n for n in names if n]
    if names:
        transaction.on_commit(lambda: _delete_files(names))


def _names(media: MediaAttachment) -> list[str]:
    return [media.upload.name or "", media.file.name or "", media.thumbnail.name or ""]


# --- upload and processing ------------------------------------------------------


def media_create(*, account: Account, upload: UploadedFile | None, description: str = "",
                 focus: str | None = None, process_now: bool) -> MediaAttachment:
    """Accept ``upload`` from ``account`` as a new, unattached MediaAttachment.

    With ``process_now`` (``POST /api/v1/media``, the web compose box) the file is
    processed before anything is stored: a refused file leaves no row and no file.
    Otherwise (``POST /api/v2/media``) the upload is stored under ``uploads/`` and
    the row returned pending; a task on the ``media`` queue processes it after
    commit. Either way, an upload still unattached a day later is deleted.

    ``description`` is the alt text (at most 1,500 characters); ``focus`` "x,y" in
    [-1, 1]. Raises Forbidden for a restricted account and ValidationFailed for a
    missing file, a type not recognised from its content, a file over the size
    limits, and anything :func:`processing.process_upload` refuses.
    """
    if not can_act(account):
        raise Forbidden(_("Your account is restricted by a moderation decision: you can "
                          "read, but not post, boost, favourite or follow"))
    description = _check_description(description or "")
    point = parse_focus(focus) or (0.0, 0.0)
    if upload is None or not upload.size:
        raise ValidationFailed(_("Validation failed: File can't be blank"))
    upload.seek(0)
    mime = sniff_bytes(upload.read(16))
    upload.seek(0)
    if mime is None:
        raise ValidationFailed(_("Validation failed: File content type is invalid"))
    limit = (max_image_bytes() if mime in IMAGE_TYPES
             else settings.TRIBUNE_MEDIA_MAX_VIDEO_BYTES)
    if upload.size > limit:
        raise ValidationFailed(_("Validation failed: File is larger than %(limit)s")
                               % {"limit": filesizeformat(limit)})
    needs_ffmpeg = mime not in IMAGE_TYPES or (mime == "image/gif" and _animated(upload))
    if needs_ffmpeg and not ffmpeg_available():
        # Known now, so refused now rather than after a 202 (v2).
        raise ValidationFailed(_("Validation failed: Video, audio and animated GIFs need "
                                 "ffmpeg on this server"))
    media = MediaAttachment(id=new_id(), account=account, description=description,
                            focus_x=point[0], focus_y=point[1], type=_type_for(mime),
                            created_at=timezone.now())
    # Pictures are quick to process: done at once even for v2, as Mastodon does, so
    # a client may attach them straight away; video and animations go to the queue.
    process_now = process_now or not needs_ffmpeg
    try:
        return _create(media, upload, process_now=process_now)
    except storage_errors() as exc:
        logger.warning("media storage failed: %s", exc)
        raise Unavailable(_("The media storage cannot be reached just now; try again "
                            "later")) from None


def _animated(upload: UploadedFile) -> bool:
    """Whether an uploaded GIF has more than one frame (read from its header and
    frame list; unreadable files count as still and are refused later)."""
    from PIL import Image

    upload.seek(0)
    try:
        with Image.open(upload) as image:
            return getattr(image, "n_frames", 1) > 1
    except Exception:  # a broken file is refused by processing
        return False
    finally:
        upload.seek(0)


def _create(media: MediaAttachment, upload: UploadedFile, *, process_now: bool
            ) -> MediaAttachment:
    if process_now:
        with _local_copy(upload) as path:
            processed = process_upload(path)
        try:
            _store(media, processed)
            with transaction.atomic():
                media.save()
                _schedule_cleanup(media)
        except BaseException:
            _delete_files(_names(media))
            raise
        finally:
            _unlink(processed)
        return media
    media.upload.save(_file_name(Path(upload.name or "").suffix[:10].lower()), upload, save=False)
    try:
        with transaction.atomic():
            media.save()
            pk = str(media.pk)
            transaction.on_commit(lambda: _enqueue_processing(pk), robust=False)
            _schedule_cleanup(media)
    except BaseException:
        _delete_files(_names(media))
        raise
    return media


def _enqueue_processing(media_id: str) -> None:
    from tribune.media.tasks import process_media

    process_media.enqueue(media_id)


def _schedule_cleanup(media: MediaAttachment) -> None:
    """After commit, schedule the deletion of ``media`` should it still be unattached
    in a day. Backends that cannot defer skip it; ``media_cleanup_orphans`` (the
    ``tribune media cleanup`` command) catches those."""
    from tribune.media.tasks import cleanup_orphan

    if not cleanup_orphan.get_backend().supports_defer:
        return
    pk, when = str(media.pk), media.created_at + ORPHAN_AGE
    transaction.on_commit(lambda: cleanup_orphan.using(run_after=when).enqueue(pk), robust=True)


def _store_or_discard(media: MediaAttachment, processed: Processed) -> None:
    """``_store``, then the processed files' temporary copies removed; on any
    failure the files already written to storage are deleted again."""
    try:
        _store(media, processed)
    except BaseException:
        _delete_files([media.file.name or "", media.thumbnail.name or ""])
        raise
    finally:
        _unlink(processed)


def _store(media: MediaAttachment, processed: Processed) -> None:
    """Write the processed files to storage and fill the row's fields (unsaved)."""
    with processed.file.open("rb") as handle:
        media.file.save(_file_name(processed.extension), File(handle), save=False)
    if processed.thumbnail is not None:
        with processed.thumbnail.open("rb") as handle:
            media.thumbnail.save(_file_name(processed.thumbnail.suffix), File(handle), save=False)
    media.type = processed.type
    media.meta = processed.meta
    media.blurhash = processed.blurhash
    media.file_size = processed.file.stat().st_size
    media.state = ProcessingState.DONE
    media.error = ""


def _unlink(processed: Processed) -> None:
    processed.file.unlink(missing_ok=True)
    if processed.thumbnail is not None:
        processed.thumbnail.unlink(missing_ok=True)


def media_process(*, media_id: int | str) -> None:
    """Process a pending upload (the ``media`` queue's task): write ``file`` and
    ``thumbnail``, fill type, meta and BlurHash, delete the upload. A refused file
    marks the attachment failed with the reason and leaves no file. Idempotent: an
    attachment no longer pending (or gone) is left alone."""
    media = MediaAttachment.objects.filter(pk=media_id, state=ProcessingState.PENDING).first()
    if media is None:
        return
    upload_name = media.upload.name
    if not upload_name:
        _fail(media, _("Validation failed: File can't be blank"))
        return
    try:
        with default_storage.open(upload_name, "rb") as stored, _local_copy(stored) as path:
            processed = process_upload(path)
    except ValidationFailed as exc:
        _fail(media, str(exc))
        return
    except Exception:
        logger.exception("media: processing %s failed", media_id)
        _fail(media, _("Error processing the uploaded file"))
        return
    _store_or_discard(media, processed)
    with transaction.atomic():
        updated = MediaAttachment.objects.filter(pk=media.pk, state=ProcessingState.PENDING).update(
            type=media.type, meta=media.meta, blurhash=media.blurhash, file_size=media.file_size,
            state=ProcessingState.DONE, error="", file=media.file.name,
            thumbnail=media.thumbnail.name or "", upload="")
    if updated:
        _delete_files([upload_name])
    else:  # deleted (or processed by a twin task) meanwhile: these files are nobody's
        _delete_files([media.file.name or "", media.thumbnail.name or ""])


def _fail(media: MediaAttachment, error: str) -> None:
    names = _names(media)
    MediaAttachment.objects.filter(pk=media.pk).update(
        state=ProcessingState.FAILED, error=error[:300], upload="", file="", thumbnail="")
    _delete_files(names)


# --- reading and describing -------------------------------------------------------


def media_get(*, account: Account, media_id: int | str) -> MediaAttachment:
    """One of ``account``'s own attachments; NotFound for anyone else's or an
    unknown id (Mastodon looks only among the caller's)."""
    try:
        return MediaAttachment.objects.get(pk=parse_id(media_id), account=account)
    except (MediaAttachment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None


def media_update(*, account: Account, media_id: int | str, description: str | None = None,
                 focus: str | None = None) -> MediaAttachment:
    """Change the alt text and focal point of one of ``account``'s attachments
    (``PUT /api/v1/media/:id``); None leaves a field as it is. Raises NotFound for
    others' attachments and ValidationFailed for a description over 1,500
    characters or a bad focus. For an attached one, its status gets a new version
    (core.entity_cache), since the status's entity shows the alt text."""
    media = media_get(account=account, media_id=media_id)
    fields = []
    if description is not None:
        media.description = _check_description(description)
        fields.append("description")
    point = parse_focus(focus)
    if point is not None:
        media.focus_x, media.focus_y = point
        fields += ["focus_x", "focus_y"]
    if fields:
        with transaction.atomic():
            media.save(update_fields=fields)
            if media.status_id is not None:
                # The status model through the relation: media sits below statuses.
                status_model = MediaAttachment._meta.get_field("status").related_model
                status_model.objects.filter(pk=media.status_id).update(version=new_version())
    return media


def media_delete(*, account: Account, media_id: int | str) -> None:
    """Delete one of ``account``'s unattached attachments with its files (``DELETE
    /api/v1/media/:id``). NotFound for others'; ValidationFailed once attached or
    reserved for a scheduled post."""
    media = media_get(account=account, media_id=media_id)
    if media.status_id is not None or media.scheduled_status_id is not None:
        raise ValidationFailed(_("Media attachment is currently used by a status"))
    with transaction.atomic():
        MediaAttachment.objects.filter(pk=media.pk).delete()
        _delete_files_on_commit(_names(media))


# --- attaching ----------------------------------------------------------------------


def _ids(media_ids: Iterable[int | str]) -> list[int]:
    ids: list[int] = []
    for value in media_ids:
        try:
            media_id = parse_id(value)
        except (ValueError, TypeError, OverflowError):
            raise ValidationFailed(
                _("Media with IDs %(ids)s not found or already attached to another post")
                % {"ids": value}) from None
        if media_id not in ids:
            ids.append(media_id)
    if len(ids) > MAX_ATTACHMENTS:
        raise ValidationFailed(_("Cannot attach more than %(limit)d files")
                               % {"limit": MAX_ATTACHMENTS})
    return ids


def _check_ready(rows: list[MediaAttachment]) -> None:
    if any(m.state == ProcessingState.PENDING for m in rows):
        raise ValidationFailed(
            _("Cannot attach files that have not finished processing. Try again in a moment!"))
    timed = {MediaType.VIDEO, MediaType.AUDIO, MediaType.GIFV}
    if len(rows) > 1 and any(m.type in timed for m in rows):
        raise ValidationFailed(_("Cannot attach a video to a post that already contains images"))


def _free_for_update(account: Account, ids: list[int]) -> list[MediaAttachment]:
    """``account``'s attachments ``ids`` that are neither attached nor reserved nor
    failed, locked, in the order of ``ids``; ValidationFailed naming the others."""
    found = {m.pk: m for m in MediaAttachment.objects.select_for_update().filter(
        pk__in=ids, account=account, status__isnull=True, scheduled_status__isnull=True,
    ).exclude(state=ProcessingState.FAILED)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationFailed(
            _("Media with IDs %(ids)s not found or already attached to another post")
            % {"ids": ", ".join(missing)})
    return [found[i] for i in ids]


def media_reserve(*, account: Account, media_ids: Iterable[int | str],
                  scheduled_status_id: int) -> list[str]:
    """Reserve ``account``'s free, processed attachments ``media_ids`` for the
    scheduled post ``scheduled_status_id`` and return their ids as strings, in
    order; call inside the transaction that writes the scheduled post. The same
    rules and messages as :func:`media_attach`. A reserved upload is not removed
    as unused, cannot be deleted and cannot go to another post; publication
    releases it (:func:`media_release`) just before attaching it."""
    ids = _ids(media_ids)
    if not ids:
        return []
    rows = _free_for_update(account, ids)
    _check_ready(rows)
    MediaAttachment.objects.filter(pk__in=ids).update(scheduled_status_id=scheduled_status_id)
    return [str(i) for i in ids]


def media_release(*, scheduled_status_id: int) -> int:
    """Free the attachments reserved for ``scheduled_status_id``; returns how many.
    Call inside the transaction that publishes or deletes the scheduled post."""
    return MediaAttachment.objects.filter(scheduled_status_id=scheduled_status_id).update(
        scheduled_status_id=None)


def media_attach(*, account: Account, media_ids: Iterable[int | str], status) -> list[MediaAttachment]:
    """Attach ``account``'s unattached, processed attachments ``media_ids`` to
    ``status`` in that order; call inside the transaction that writes the status.

    Raises ValidationFailed with Mastodon's messages (PostStatusService): more than
    four, an id that is unknown, someone else's, failed, already attached or
    reserved for a scheduled post, one still processing, or a video or audio
    together with anything else.
    """
    ids = _ids(media_ids)
    if not ids:
        return []
    found = {m.pk: m for m in _free_for_update(account, ids)}
    rows = [found[i] for i in ids]
    _check_ready(rows)
    for position, media in enumerate(rows):
        # status_id__isnull again: of two posts racing for one upload, one wins.
        if not MediaAttachment.objects.filter(pk=media.pk, status__isnull=True).update(
                status_id=status.pk, position=position):
            raise ValidationFailed(
                _("Media with IDs %(ids)s not found or already attached to another post")
                % {"ids": media.pk})
        media.status_id, media.position = status.pk, position
    return rows


def media_replace(*, account: Account, media_ids: Iterable[int | str], status) -> list[MediaAttachment]:
    """Make ``media_ids`` the attachments of ``account``'s edited ``status``, in that
    order: kept ones may already be attached to it, new ones follow the rules of
    :func:`media_attach`; removed ones are deleted with their files. Call inside
    the transaction that writes the edit."""
    ids = _ids(media_ids)
    current = {m.pk: m for m in MediaAttachment.objects.select_for_update().filter(status_id=status.pk)}
    new_ids = [i for i in ids if i not in current]
    fresh = {m.pk: m for m in media_attach(account=account, media_ids=new_ids, status=status)}
    rows = [current.get(i) or fresh[i] for i in ids]
    _check_ready(rows)
    removed = [m for pk, m in current.items() if pk not in ids]
    if removed:
        MediaAttachment.objects.filter(pk__in=[m.pk for m in removed]).delete()
        _delete_files_on_commit([n for m in removed for n in _names(m)])
    for position, media in enumerate(rows):
        if media.position != position:
            MediaAttachment.objects.filter(pk=media.pk).update(position=position)
            media.position = position
    return rows


def media_delete_for_statuses(*, status_ids: Iterable[int]) -> int:
    """Delete the attachments of statuses about to be deleted, and their files
    after commit (the foreign key would only unlink them). Call inside the
    transaction that deletes the statuses; returns how many were deleted."""
    rows = list(MediaAttachment.objects.filter(status_id__in=list(status_ids))
                .only("pk", "upload", "file", "thumbnail"))
    if not rows:
        return 0
    MediaAttachment.objects.filter(pk__in=[m.pk for m in rows]).delete()
    _delete_files_on_commit([n for m in rows for n in _names(m)])
    return len(rows)


# --- orphans ------------------------------------------------------------------------


def media_cleanup_orphans(*, now: datetime | None = None, older_than: timedelta = ORPHAN_AGE,
                          media_id: int | str | None = None) -> int:
    """Delete uploads neither attached to a status nor reserved for a scheduled
    post within ``older_than`` of their upload (a day by default), with their
    files; only ``media_id`` when given.
    Returns how many were deleted."""
    cutoff = (now or timezone.now()) - older_than
    qs = MediaAttachment.objects.filter(status__isnull=True, scheduled_status__isnull=True,
                                        created_at__lte=cutoff)
    if media_id is not None:
        qs = qs.filter(pk=media_id)
    deleted = 0
    while True:
        with transaction.atomic():
            # Locked and re-checked, so an upload attached meanwhile keeps its files.
            batch = list(qs.select_for_update().only("pk", "upload", "file", "thumbnail")[:500])
            if not batch:
                return deleted
            MediaAttachment.objects.filter(pk__in=[m.pk for m in batch]).delete()
            _delete_files_on_commit([n for m in batch for n in _names(m)])
            deleted += len(batch)
