"""Reads of media: what the instance accepts."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from tribune.media import video as ffmpeg
from tribune.media.processing import (
    AUDIO_TYPES,
    IMAGE_TYPES,
    VIDEO_TYPES,
    max_image_bytes,
    max_pixels,
    video_supported,
)
from tribune.media.services import DESCRIPTION_LIMIT


def media_configuration() -> dict[str, Any]:
    """Mastodon's ``configuration.media_attachments`` of the Instance entity
    (docs: entities/Instance.md): MIME types accepted (video and audio only with
    ffmpeg), sizes in bytes, matrix limits in pixels, the alt-text limit in
    characters."""
    video = video_supported()
    return {
        "supported_mime_types": [*IMAGE_TYPES, *((*VIDEO_TYPES, *AUDIO_TYPES) if video else ())],
        "image_size_limit": max_image_bytes(),
        "image_matrix_limit": max_pixels(),
        "video_size_limit": settings.TRIBUNE_MEDIA_MAX_VIDEO_BYTES if video else 0,
        "video_frame_rate_limit": ffmpeg.MAX_FRAME_RATE if video else 0,
        "video_matrix_limit": ffmpeg.MAX_PIXELS if video else 0,
        "description_limit": DESCRIPTION_LIMIT,
    }
