"""Media of other servers: the attachments of remote posts, and remote accounts'
avatars and headers, copied to our own storage (docs/adr/0037).

As Mastodon does (docs: entities/MediaAttachment.md, ``remote_url``), a remote
post's attachments are stored as ``MediaAttachment`` rows of its author with the
origin's URL in ``remote_url``, pending; after commit a task on the ``media``
queue fetches each file through the SSRF-safe client (``core.http.fetch``:
checked addresses, bounded time and size) and runs the uploads' processing on it
(``processing.process_upload``: type judged by content, pictures re-encoded from
their pixels, BlurHash, ffmpeg for video), so readers' browsers never contact the
other server. Until then, or when the file cannot be had, it stays uncached:
the API's ``url`` is the ``remote_url`` and ``preview_url`` null, as Mastodon
answers. Avatars and headers (the actor's ``icon`` and ``image``) go through the
local profile pictures' processing (``account_images``) and are fetched again
only when their URL changes.

Nothing here knows ActivityStreams: ``federation`` reads the documents and hands
over :class:`RemoteMedia` and plain URLs.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import domain_block_for
from tribune.accounts.services import (
    account_remote_image_store,
    account_remote_image_urls_set,
)
from tribune.core import http
from tribune.core.entity_cache import new_version
from tribune.core.errors import ValidationFailed
from tribune.core.ids import new_id
from tribune.media.account_images import prepare_picture
from tribune.media.models import MediaAttachment, MediaType, ProcessingState
from tribune.media.processing import max_image_bytes, process_upload, sniff
from tribune.media.services import (
    _delete_files,
    _delete_files_on_commit,
    _names,
    _store_or_discard,
)

logger = logging.getLogger(__name__)

MAX_REMOTE_ATTACHMENTS = 4  # Mastodon shows four; the rest of a remote post's are dropped
MAX_URL = 500  # the column's size
MAX_DESCRIPTION = 1500  # characters, Mastodon's limit, remote alt text cut to it
MAX_DIMENSION = 100_000  # pixels: a declared width or height above it is ignored
# A whole fetch, redirects and body included (seconds): long enough for a video
# at the size limit on a fair link, short enough that a trickling peer holds a
# media worker only this long.
FETCH_TIMEOUT = 60.0
_BLURHASH_RE = re.compile(r"^[0-9A-Za-z#$%*+,\-.:;=?@\[\]^_{|}~]{6,100}$")


@dataclass(frozen=True)
class RemoteMedia:
    """One attachment of a remote post as its server describes it.

    ``url`` the file's http(s) URL (at most 500 characters); ``media_type`` the
    declared MIME type or ""; ``kind`` the ActivityStreams type, lower case
    (``image``, ``video``, ``audio``, ``document``); ``description`` the alt
    text; ``blurhash`` as declared or ""; ``width``/``height`` in pixels, 0 when
    not declared; ``focus`` Mastodon's focal point in [-1, 1], or None.
    """

    url: str
    media_type: str = ""
    kind: str = "document"
    description: str = ""
    blurhash: str = ""
    width: int = 0
    height: int = 0
    focus: tuple[float, float] | None = None


def remote_media_url(url: str) -> bool:
    """Whether ``url`` may be an attachment's or picture's ``remote_url``: http(s)
    with a host, at most 500 characters, no control characters."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return False
    if len(url) > MAX_URL or any(ord(c) < 0x21 or c == "\x7f" for c in url):
        return False
    return bool(url.split("://", 1)[1].split("/", 1)[0])


def _declared_type(item: RemoteMedia) -> str:
    """The MediaType a remote attachment claims: by MIME type, else by its AS type."""
    mime = item.media_type.lower()
    for prefix, media_type in (("image/", MediaType.IMAGE), ("video/", MediaType.VIDEO),
                               ("audio/", MediaType.AUDIO)):
        if mime.startswith(prefix):
            return media_type
    if not mime:
        return {"image": MediaType.IMAGE, "video": MediaType.VIDEO,
                "audio": MediaType.AUDIO}.get(item.kind, MediaType.UNKNOWN)
    return MediaType.UNKNOWN


def _row_fields(item: RemoteMedia) -> dict:
    """The attachment's columns from what its server declares (before caching)."""
    description = item.description.replace("\x00", "")[:MAX_DESCRIPTION]
    focus = item.focus if item.focus is not None and all(
        -1.0 <= v <= 1.0 for v in item.focus) else (0.0, 0.0)
    meta = {}
    if 0 < item.width <= MAX_DIMENSION and 0 < item.height <= MAX_DIMENSION:
        meta["original"] = {"width": item.width, "height": item.height,
                            "size": f"{item.width}x{item.height}",
                            "aspect": round(item.width / item.height, 6)}
    return {"type": _declared_type(item), "description": description,
            "focus_x": focus[0], "focus_y": focus[1], "meta": meta,
            "blurhash": item.blurhash if _BLURHASH_RE.match(item.blurhash or "") else ""}


def media_remote_replace(*, status, attachments: Sequence[RemoteMedia]) -> list[MediaAttachment]:
    """Make ``attachments`` (the first four with an acceptable URL) the
    attachments of the remote ``status``, in that order, and return the rows;
    call inside the transaction that writes the post or its edit.

    An attachment already there with the same ``remote_url`` is kept (its file
    stays cached) with the alt text and focal point it has now; new ones are
    stored pending and fetched after commit (:func:`media_remote_cache`); the
    others are deleted with their files after commit, as Mastodon's edit of a
    remote post does (UpdateStatusService). Declared alt text is cut to 1,500
    characters, a BlurHash that is not one and a focal point outside [-1, 1]
    are dropped. Raises ValidationFailed for a local author's status.
    """
    if status.account.is_local:
        raise ValidationFailed(_("Validation failed: not a remote post"))
    wanted: list[RemoteMedia] = []
    for item in attachments:
        if remote_media_url(item.url) and item.url not in {w.url for w in wanted}:
            wanted.append(item)
        if len(wanted) == MAX_REMOTE_ATTACHMENTS:
            break
    current = {m.remote_url: m for m in
               MediaAttachment.objects.select_for_update().filter(status_id=status.pk)}
    rows: list[MediaAttachment] = []
    fresh: list[str] = []
    now = timezone.now()
    for position, item in enumerate(wanted):
        fields = _row_fields(item)
        media = current.pop(item.url, None)
        if media is not None:
            kept = {"description": fields["description"], "focus_x": fields["focus_x"],
                    "focus_y": fields["focus_y"], "position": position}
            MediaAttachment.objects.filter(pk=media.pk).update(**kept)
            for name, value in kept.items():
                setattr(media, name, value)
        else:
            media = MediaAttachment.objects.create(
                id=new_id(), account_id=status.account_id, status_id=status.pk,
                position=position, remote_url=item.url, state=ProcessingState.PENDING,
                created_at=now, **fields)
            fresh.append(str(media.pk))
        rows.append(media)
    removed = list(current.values())
    if removed:
        MediaAttachment.objects.filter(pk__in=[m.pk for m in removed]).delete()
        _delete_files_on_commit([n for m in removed for n in _names(m)])
    for pk in fresh:
        transaction.on_commit(lambda pk=pk: _enqueue_cache(pk), robust=True)
    return rows


def _enqueue_cache(media_id: str) -> None:
    from tribune.media.tasks import cache_remote_media

    cache_remote_media.enqueue(media_id)


def _media_rejected(account: Account) -> bool:
    """Whether the operator keeps no media of ``account``'s server (a domain
    block with ``reject_media``, Mastodon's "Reject media files")."""
    block = domain_block_for(account.domain) if account.domain else None
    return block is not None and (block.reject_media or block.severity == "suspend")


@contextmanager
def _fetched_file(url: str, *, max_bytes: int) -> Iterator[Path]:
    """The body of ``url`` (through ``core.http.fetch``, at most ``max_bytes``
    and :data:`FETCH_TIMEOUT`) in a temporary file, deleted afterwards. Raises
    http.FetchError for anything but a 200 answer within those bounds."""
    response = http.fetch(url, headers={"Accept": "image/*, video/*, audio/*;q=0.9, */*;q=0.1"},
                          max_bytes=max_bytes, timeout=FETCH_TIMEOUT)
    if response.status != 200:
        raise http.FetchError(f"{url} answered {response.status}")
    handle, name = tempfile.mkstemp(prefix="tribune-remote-")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(response.content)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _max_bytes(media_type: str) -> int:
    """The largest file fetched for an attachment that claims ``media_type``:
    the local uploads' limit for its type (pictures, else video and audio)."""
    if media_type == MediaType.IMAGE:
        return max_image_bytes()
    return max(max_image_bytes(), settings.TRIBUNE_MEDIA_MAX_VIDEO_BYTES)


def media_remote_cache(*, media_id: int | str) -> bool:
    """Fetch and process the remote attachment ``media_id`` (the ``media``
    queue's task after a remote post is stored), so its ``file`` and
    ``thumbnail`` are on our storage; returns whether it is cached now.

    The file is fetched through ``core.http.fetch`` (refused addresses, at most
    three redirects, :data:`FETCH_TIMEOUT` seconds, at most the local uploads'
    size limit for its declared type) and goes through
    ``processing.process_upload`` like an upload: a file over the limits, too
    slow, refused by the other server, or not a picture, video or audio by its
    content leaves the attachment uncached (``failed``, the reason in
    ``error``; content of no known type makes it ``unknown``), logged, never
    raised. Nothing is fetched from a server whose media the operator rejects.
    Idempotent: an attachment no longer pending, or gone, is left alone.
    """
    media = (MediaAttachment.objects.select_related("account")
             .filter(pk=media_id, state=ProcessingState.PENDING).exclude(remote_url="").first())
    if media is None:
        return False
    url = media.remote_url
    if _media_rejected(media.account):
        _remote_failed(media, "media of this server are not stored here")
        return False
    try:
        with _fetched_file(url, max_bytes=_max_bytes(media.type)) as path:
            known = sniff(path) is not None
            processed = process_upload(path)
    except http.FetchError as exc:
        logger.info("media: %s of %s not cached: %s", url, media.pk, exc)
        _remote_failed(media, str(exc))
        return False
    except ValidationFailed as exc:
        logger.info("media: %s of %s refused: %s", url, media.pk, exc)
        _remote_failed(media, str(exc), unknown=not known)
        return False
    except Exception as exc:  # a broken file must not stop the queue
        logger.exception("media: processing %s of %s failed", url, media.pk)
        _remote_failed(media, f"processing failed: {type(exc).__name__}")
        return False
    _store_or_discard(media, processed)
    with transaction.atomic():
        updated = MediaAttachment.objects.filter(
            pk=media.pk, state=ProcessingState.PENDING, remote_url=url).update(
            type=media.type, meta=media.meta, blurhash=media.blurhash,
            file_size=media.file_size, state=ProcessingState.DONE, error="",
            file=media.file.name, thumbnail=media.thumbnail.name or "")
        if updated:
            _status_renewed(media)
    if not updated:  # deleted (or replaced) meanwhile: these files are nobody's
        _delete_files([media.file.name or "", media.thumbnail.name or ""])
    return bool(updated)


def _status_renewed(media: MediaAttachment) -> None:
    """A new version for ``media``'s status: its cached entity shows the file."""
    if media.status_id is not None:
        status_model = MediaAttachment._meta.get_field("status").related_model
        status_model.objects.filter(pk=media.status_id).update(version=new_version())


def _remote_failed(media: MediaAttachment, error: str, *, unknown: bool = False) -> None:
    fields = {"state": ProcessingState.FAILED, "error": error[:300]}
    if unknown:
        fields["type"] = MediaType.UNKNOWN
    with transaction.atomic():
        if MediaAttachment.objects.filter(pk=media.pk, state=ProcessingState.PENDING).update(
                **fields) and unknown:
            _status_renewed(media)


# --- avatars and headers ------------------------------------------------------------


def account_remote_images_set(*, account: Account, avatar_url: str, header_url: str) -> None:
    """Take the remote ``account``'s avatar and header URLs as its server names
    them now (the actor's ``icon`` and ``image``); a changed one is fetched and
    stored after commit (:func:`account_remote_image_cache`), a removed one goes
    back to the default picture. Call inside the transaction that stores the
    actor. Raises ValidationFailed for a local account."""
    for kind in account_remote_image_urls_set(account=account, avatar_url=avatar_url,
                                              header_url=header_url):
        pk = str(account.pk)
        transaction.on_commit(lambda kind=kind, pk=pk: _enqueue_image(pk, kind), robust=True)


def _enqueue_image(account_id: str, kind: str) -> None:
    from tribune.media.tasks import cache_remote_account_image

    cache_remote_account_image.enqueue(account_id, kind)


def account_remote_image_cache(*, account_id: int | str, kind: str) -> bool:
    """Fetch the remote account's ``kind`` ("avatar" or "header") from the URL
    its server names and store it as a local upload of that picture is stored
    (``account_images``: a picture by content, within the image limits,
    re-encoded, cropped to 400x400 or 1500x500); returns whether it was stored.
    A picture that cannot be had (too large, too slow, not a picture) leaves the
    default one, logged, never raised; a URL that changed meanwhile is left to
    the newer task. Nothing is fetched from a server whose media the operator
    rejects."""
    account = Account.objects.filter(pk=account_id).exclude(domain="").first()
    if account is None or kind not in ("avatar", "header"):
        return False
    url = getattr(account, f"{kind}_remote_url")
    if not url:
        return False
    if _media_rejected(account):
        logger.info("media: the %s of %s is not fetched: media rejected", kind, account.uri)
        return False
    try:
        with _fetched_file(url, max_bytes=max_image_bytes()) as path:
            prepared = prepare_picture(kind, path)
    except (http.FetchError, ValidationFailed) as exc:
        logger.info("media: the %s of %s (%s) not cached: %s", kind, account.uri, url, exc)
        account_remote_image_store(account=account, kind=kind, url=url, content=None)
        return False
    except Exception:  # a broken file must not stop the queue
        logger.exception("media: the %s of %s (%s) could not be processed", kind, account.uri,
                         url)
        account_remote_image_store(account=account, kind=kind, url=url, content=None)
        return False
    try:
        with prepared.path.open("rb") as handle:
            return account_remote_image_store(account=account, kind=kind, url=url,
                                              content=File(handle),
                                              extension=prepared.extension)
    finally:
        prepared.path.unlink(missing_ok=True)
