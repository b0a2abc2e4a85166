"""Media attachments: /api/v1/media, /api/v2/media (docs: methods/media.md).

Uploads are multipart (``file``; ``description`` and ``focus`` optional; a custom
``thumbnail`` is accepted and ignored: previews are always made here).
"""

from __future__ import annotations

from typing import Any

from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from tribune.api.auth import ApiError, write
from tribune.api.base import responses
from tribune.api.presenters import media_attachment_out
from tribune.api.schemas import MediaAttachment
from tribune.media import services
from tribune.media.models import ProcessingState

router = Router(tags=["media"])


class MediaIn(Schema):
    description: str | None = None
    focus: str | None = None


def _upload(request, file: UploadedFile | None, payload: MediaIn, *, process_now: bool):
    return services.media_create(
        account=request.auth.require_account(), upload=file,
        description=payload.description or "", focus=payload.focus, process_now=process_now)


@router.post("/v2/media", response={202: MediaAttachment, **responses(MediaAttachment)},
             auth=write("media"))
def media_create_v2(request, payload: Form[MediaIn], file: File[UploadedFile] = None):
    """Upload a file; 202 with ``url`` null while it is processed in the background,
    200 when it is already done."""
    media = _upload(request, file, payload, process_now=False)
    media.refresh_from_db()
    status = 200 if media.state == ProcessingState.DONE else 202
    return Status(status, media_attachment_out(media))


@router.post("/v1/media", response=responses(MediaAttachment), auth=write("media"))
def media_create_v1(request, payload: Form[MediaIn], file: File[UploadedFile] = None):
    """Upload a file and process it before answering (deprecated by v2, still used)."""
    return media_attachment_out(_upload(request, file, payload, process_now=True))


@router.get("/v1/media/{media_id}", response={206: MediaAttachment, **responses(MediaAttachment)},
            auth=write("media"))
def media_get(request, media_id: str):
    """One's own attachment: 206 while it is processed, 200 when done, 422 with the
    reason when processing refused it."""
    media = services.media_get(account=request.auth.require_account(), media_id=media_id)
    if media.state == ProcessingState.FAILED:
        raise ApiError(422, media.error or "Error processing the uploaded file")
    code = 206 if media.state == ProcessingState.PENDING else 200
    return Status(code, media_attachment_out(media))


@router.put("/v1/media/{media_id}", response=responses(MediaAttachment), auth=write("media"))
def media_update(request, media_id: str, payload: MediaIn):
    """Change an attachment's description (alt text) or focal point."""
    media = services.media_update(account=request.auth.require_account(), media_id=media_id,
                                  description=payload.description, focus=payload.focus)
    return media_attachment_out(media)


@router.delete("/v1/media/{media_id}", response=responses(dict[str, Any]), auth=write("media"))
def media_delete(request, media_id: str):
    """Delete an attachment that is not attached to a status (Mastodon 4.4)."""
    services.media_delete(account=request.auth.require_account(), media_id=media_id)
    return {}
