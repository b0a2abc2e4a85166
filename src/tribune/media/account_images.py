"""Avatars and headers: uploads through the attachments' pipeline, cropped to
Mastodon's sizes, stored through ``accounts.services``.

An upload is judged by its content, checked against the same size and pixel
limits and re-encoded from its pixels by ``processing.process_upload`` (no EXIF,
location or other metadata survives), then centre-cropped and resized to exactly
400x400 (avatar) or 1500x500 (header), Mastodon's sizes (Account::Avatar,
Account::Header). Only pictures are accepted. Profile pictures are always still:
an animated GIF becomes its preview frame (which needs ffmpeg, as on posts), so
``avatar_static`` is always ``avatar``. Pictures with transparency are stored as
PNG, others as JPEG.

This lives in ``media`` because ``accounts`` sits below it: ``accounts`` stores
the already-processed files and knows nothing of Pillow.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from tribune.accounts.models import Account
from tribune.accounts.selectors import can_act
from tribune.accounts.services import (
    account_image_remove,
    account_image_store,
    account_update,
)
from tribune.core.errors import Forbidden, Unavailable, ValidationFailed
from tribune.media.processing import (
    IMAGE_TYPES,
    JPEG_QUALITY,
    max_image_bytes,
    process_upload,
    sniff,
    sniff_bytes,
)
from tribune.media.services import _local_copy, _unlink
from tribune.media.storage import storage_errors

logger = logging.getLogger(__name__)

AVATAR_SIZE = (400, 400)
HEADER_SIZE = (1500, 500)
SIZES = {"avatar": AVATAR_SIZE, "header": HEADER_SIZE}


@dataclass(frozen=True)
class _Prepared:
    """One profile picture ready to store: a temporary local file."""

    kind: str
    path: Path
    extension: str


def check_picture(upload: UploadedFile | None) -> UploadedFile:
    """``upload`` if it may be a profile picture as far as can be told without
    decoding it: not empty, a JPEG, PNG, GIF or WebP by its first bytes (not an
    HTML page named ``.png``, nor a video), within TRIBUNE_MEDIA_MAX_IMAGE_BYTES.
    Raises ValidationFailed otherwise. Forms call it to point at the field; the
    service calls it again before processing."""
    if upload is None or not upload.size:
        raise ValidationFailed(_("Validation failed: File can't be blank"))
    upload.seek(0)
    mime = sniff_bytes(upload.read(16))
    upload.seek(0)
    if mime not in IMAGE_TYPES:
        raise ValidationFailed(_("Validation failed: File content type is invalid"))
    if upload.size > max_image_bytes():
        raise ValidationFailed(_("Validation failed: File is larger than %(limit)s")
                               % {"limit": filesizeformat(max_image_bytes())})
    return upload


def _prepare(kind: str, upload: UploadedFile | None) -> _Prepared:
    """The cleaned, cropped picture for ``kind`` from ``upload``; raises
    ValidationFailed for anything ``process_upload`` refuses."""
    upload = check_picture(upload)
    with _local_copy(upload) as path:
        return prepare_picture(kind, path)


def prepare_picture(kind: str, path: Path) -> _Prepared:
    """The cleaned picture for ``kind`` ("avatar" or "header") from the file at
    ``path`` (an upload's local copy, or a remote account's fetched picture),
    cropped to its size in a new temporary file the caller deletes. Raises
    ValidationFailed for anything ``processing.process_upload`` refuses and for
    what is not a picture (video, audio)."""
    if sniff(path) not in IMAGE_TYPES:
        raise ValidationFailed(_("Validation failed: File content type is invalid"))
    processed = process_upload(path)
    try:
        # A still picture's cleaned original; an animated GIF's preview frame.
        still = processed.file if processed.type == "image" else processed.thumbnail
        if still is None:
            raise ValidationFailed(_("Validation failed: File content type is invalid"))
        return _crop(kind, still)
    finally:
        _unlink(processed)


def _crop(kind: str, source: Path) -> _Prepared:
    """``source`` (a file ``process_upload`` wrote) centre-cropped and resized to
    the size of ``kind``, written to a new temporary file."""
    with Image.open(source) as image:
        image.load()
        transparent = image.has_transparency_data
        pixels = image.convert("RGBA" if transparent else "RGB")
    fitted = ImageOps.fit(pixels, SIZES[kind], Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    fitted.info = {}  # pixels only, whatever the copy carried along
    extension = ".png" if transparent else ".jpg"
    handle, name = tempfile.mkstemp(prefix="tribune-profile-", suffix=extension)
    os.close(handle)
    path = Path(name)
    try:
        if transparent:
            fitted.save(path, "PNG", optimize=True)
        else:
            fitted.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _Prepared(kind=kind, path=path, extension=extension)


def account_profile_update(*, account: Account, avatar: UploadedFile | None = None,
                           header: UploadedFile | None = None, remove_avatar: bool = False,
                           remove_header: bool = False, **fields) -> Account:
    """Change ``account``'s profile: new avatar and header pictures, going back to
    the default ones (``remove_avatar``, ``remove_header``; an upload wins over
    its removal), and any keyword argument of ``accounts.services.account_update``
    in ``fields`` (display name, note, locked, bot, posting defaults...).

    The pictures are processed first and the fields checked next, so a refused
    picture or field changes nothing. A replaced or removed picture's file is
    deleted from storage after commit. Raises ValidationFailed for a picture
    ``processing.process_upload`` refuses (not an image by content, too large, too
    many pixels, unreadable) and anything ``account_update`` refuses, and Forbidden
    for a new picture from an account restricted by a moderation decision.
    """
    uploads = [(kind, upload) for kind, upload in (("avatar", avatar), ("header", header))
               if upload is not None]
    if uploads and not can_act(account):
        raise Forbidden(_("Your account is restricted by a moderation decision: you can "
                          "read, but not post, boost, favourite or follow"))
    prepared: list[_Prepared] = []
    try:
        for kind, upload in uploads:
            prepared.append(_prepare(kind, upload))
        with transaction.atomic():  # fields and pictures change together, or not at all
            account = account_update(account=account, **fields)
            for item in prepared:
                with item.path.open("rb") as handle:
                    account_image_store(account=account, kind=item.kind,
                                        content=File(handle), extension=item.extension)
            for kind, remove, upload in (("avatar", remove_avatar, avatar),
                                         ("header", remove_header, header)):
                if remove and upload is None:
                    account_image_remove(account=account, kind=kind)
    except storage_errors() as exc:
        logger.warning("media storage failed: %s", exc)
        raise Unavailable(_("The media storage cannot be reached just now; try again "
                            "later")) from None
    finally:
        for item in prepared:
            item.path.unlink(missing_ok=True)
    return account
