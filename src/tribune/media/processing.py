"""Turning an upload into the files Tribune serves.

:func:`process_upload` decides the type from the file's content (never its name
or declared type) and returns a :class:`Processed`; it raises ValidationFailed
for anything it refuses (unknown type, too large, a decompression bomb, video
without ffmpeg). Images are handled here with Pillow; video, audio and animated
GIFs by ``media.video`` with ffmpeg.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Processed:
    """The result of processing one upload.

    ``type`` is a ``MediaType`` value; ``file`` the cleaned original (metadata
    stripped, orientation applied, resized to the limits) and ``thumbnail`` the
    small preview (None for audio without a picture), both temporary files the
    caller moves to storage; ``extension`` the served file's (``.jpg``, ``.png``,
    ``.webp``, ``.gif``, ``.mp4``, ``.mp3``...); ``meta`` Mastodon's ``meta`` object
    without ``focus``; ``blurhash`` the preview's BlurHash or "".
    """

    type: str
    file: Path
    extension: str
    thumbnail: Path | None = None
    meta: dict = field(default_factory=dict)
    blurhash: str = ""
