"""Turning an upload into the files Tribune serves.

:func:`process_upload` decides the type from the file's content (never its name
or declared type) and returns a :class:`Processed`; it raises ValidationFailed
for anything it refuses (unknown type, too large, a decompression bomb, video
without ffmpeg). Images are handled here with Pillow; video, audio and animated
GIFs by ``media.video`` with ffmpeg.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blurhash
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from tribune.core.errors import ValidationFailed


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

# --- what the upload is ----------------------------------------------------------

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
AUDIO_TYPES = ("audio/mpeg", "audio/ogg", "audio/wav", "audio/mp4")
# The served original keeps at most this many pixels (Mastodon's IMAGE_LIMIT,
# 3840x2160); the preview at most 640x360's worth (its ``small`` style).
ORIGINAL_PIXELS = 3840 * 2160
SMALL_PIXELS = 640 * 360
JPEG_QUALITY = 90
_SNIFF_BYTES = 16


def sniff(path: Path) -> str | None:
    """The MIME type of the file at ``path`` read from its first bytes (never its
    name): JPEG, PNG, GIF and WebP images; MP4, QuickTime, WebM video; MP3, Ogg,
    WAV and M4A audio. None for anything else (an HTML page named ``.png``)."""
    with path.open("rb") as handle:
        return sniff_bytes(handle.read(_SNIFF_BYTES))


# ISO base media brands of still-image formats (AVIF, HEIC/HEIF), which share
# MP4's container but are not video.
IMAGE_BRANDS = frozenset({b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc",
                          b"hevx", b"mif1", b"msf1"})


def sniff_bytes(head: bytes) -> str | None:
    """:func:`sniff` on the first 16 bytes of a file."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":  # ISO base media: the brand says which
        brand = head[8:12]
        if brand in IMAGE_BRANDS:  # AVIF and HEIF still images: not supported
            return None
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        return "video/mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):  # QuickTime without ftyp
        return "video/quicktime"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM (or Matroska)
        return "video/webm"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    # An ID3 tag, or an MPEG audio frame sync (11 bits) with a layer (not 00, which
    # is AAC's ADTS).
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF
                                   and head[1] & 0xE0 == 0xE0 and head[1] & 0x06):
        return "audio/mpeg"
    return None


def max_pixels() -> int:
    """The largest image accepted, in pixels (TRIBUNE_MEDIA_MAX_PIXELS)."""
    return settings.TRIBUNE_MEDIA_MAX_PIXELS


def max_image_bytes() -> int:
    """The largest image file accepted, in bytes (TRIBUNE_MEDIA_MAX_IMAGE_BYTES)."""
    return settings.TRIBUNE_MEDIA_MAX_IMAGE_BYTES


def video_supported() -> bool:
    """Whether video, audio and animated GIFs can be processed here (ffmpeg)."""
    try:
        from tribune.media import video
    except ModuleNotFoundError as exc:
        if exc.name != "tribune.media.video":
            raise
        return False
    return video.ffmpeg_available()


def process_upload(path: Path) -> Processed:
    """Turn the upload at ``path`` into the files served.

    Images (JPEG, PNG, static GIF, WebP) are decoded with Pillow and re-encoded
    from their pixels alone, so no EXIF (location included), XMP, ICC profile or
    comment survives; the EXIF orientation is applied first. The original keeps at
    most 3840x2160's worth of pixels, the JPEG (or, with transparency, WebP)
    preview at most 640x360's; ``meta`` has ``original`` and ``small`` (``width``,
    ``height``, ``size`` as "WxH", ``aspect``). Animated GIFs, video and audio go
    to ``media.video`` (ffmpeg). ``path`` is left as is; the returned files are
    temporary and the caller's to move or delete.

    Raises ValidationFailed for an unknown type (judged by content, not name), a
    file over TRIBUNE_MEDIA_MAX_IMAGE_BYTES, an image over
    TRIBUNE_MEDIA_MAX_PIXELS (decompression bombs), a file that cannot be decoded,
    and video, audio or animated GIFs on a server without ffmpeg.
    """
    mime = sniff(path)
    if mime is None:
        raise ValidationFailed(_("Validation failed: File content type is invalid"))
    if mime not in IMAGE_TYPES:
        return _through_ffmpeg(path, kind="audio" if mime.startswith("audio/") else "video")
    if path.stat().st_size > max_image_bytes():
        raise ValidationFailed(_("Validation failed: File is larger than %(limit)s")
                               % {"limit": filesizeformat(max_image_bytes())})
    with warnings.catch_warnings():
        # A bomb warning becomes an error: nothing half-way gets decoded.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=[FORMATS[mime]]) as image:
                _check_pixels(image.width, image.height)
                if not (mime == "image/gif" and getattr(image, "n_frames", 1) > 1):
                    return _process_image(image, mime)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise ValidationFailed(_("Validation failed: File could not be read as an image")) from None
    return _through_ffmpeg(path, kind="gif")  # an animated GIF


FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


def _too_many_pixels() -> ValidationFailed:
    return ValidationFailed(
        _("Validation failed: Image is larger than %(pixels)s pixels")
        % {"pixels": intcomma(max_pixels())})


def _check_pixels(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ValidationFailed(_("Validation failed: File could not be read as an image"))
    if width * height > max_pixels():
        raise _too_many_pixels()


def _through_ffmpeg(path: Path, *, kind: str) -> Processed:
    if not video_supported():
        if kind == "gif":
            raise ValidationFailed(_("Animated GIFs need ffmpeg on the server"))
        raise ValidationFailed(_("Video and audio need ffmpeg on the server"))
    from tribune.media import video

    return video.process_video(path, kind=kind)


def _process_image(image: Image.Image, mime: str) -> Processed:
    """The cleaned original and the preview of one decoded still image."""
    image.load()  # decode now, inside the bomb guard
    upright = ImageOps.exif_transpose(image)  # a copy when it turned anything
    transparent = upright.has_transparency_data
    clean = _pixels_only(upright, "RGBA" if transparent else "RGB")
    clean = _shrink(clean, ORIGINAL_PIXELS)
    small = _shrink(clean, SMALL_PIXELS)
    made: list[Path] = []
    try:
        if mime == "image/jpeg":
            original, extension = _save(clean, ".jpg", made, "JPEG", quality=JPEG_QUALITY,
                                        optimize=True)
        elif mime == "image/webp":
            original, extension = _save(clean, ".webp", made, "WEBP", quality=JPEG_QUALITY)
        else:  # PNG and static GIFs: lossless, as drawings and screenshots need
            original, extension = _save(clean, ".png", made, "PNG", optimize=True)
        if transparent:
            preview, _ext = _save(small, ".webp", made, "WEBP", quality=80)
        else:
            preview, _ext = _save(small, ".jpg", made, "JPEG", quality=80, optimize=True)
        return Processed(type="image", file=original, extension=extension, thumbnail=preview,
                         meta={"original": _dimensions(clean), "small": _dimensions(small)},
                         blurhash=blurhash_of(small))
    except BaseException:
        for temporary in made:
            temporary.unlink(missing_ok=True)
        raise


def _pixels_only(image: Image.Image, mode: str) -> Image.Image:
    """A new image holding ``image``'s pixels in ``mode`` and nothing else: no
    ``info`` (EXIF, XMP, ICC, comments), no palette tricks. Colours are taken to
    sRGB first when the image carries an ICC profile."""
    image = _to_srgb(image)
    converted = image.convert(mode)
    return Image.frombytes(mode, converted.size, converted.tobytes())


def _to_srgb(image: Image.Image) -> Image.Image:
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        target = ImageCms.createProfile("sRGB")
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, target, outputMode=mode) or image
    except Exception:  # a broken or unusual profile: keep the pixels as they are
        return image


def _shrink(image: Image.Image, pixels: int) -> Image.Image:
    """``image`` scaled down (never up) to at most ``pixels`` pixels, same aspect."""
    width, height = image.size
    if width * height <= pixels:
        return image
    scale = math.sqrt(pixels / (width * height))
    size = (max(1, math.floor(width * scale)), max(1, math.floor(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _save(image: Image.Image, suffix: str, made: list[Path], fmt: str,
          **options: Any) -> tuple[Path, str]:
    handle, name = tempfile.mkstemp(prefix="tribune-media-", suffix=suffix)
    os.close(handle)
    path = Path(name)
    made.append(path)
    image.save(path, fmt, **options)
    return path, suffix


def _dimensions(image: Image.Image) -> dict[str, Any]:
    width, height = image.size
    return {"width": width, "height": height, "size": f"{width}x{height}",
            "aspect": round(width / height, 6)}


def blurhash_of(image: Image.Image, *, components: tuple[int, int] = (4, 4)) -> str:
    """The BlurHash of ``image`` (Mastodon uses 4x4 components), from a 32-pixel
    copy: the encoder is pure Python and the hash keeps only the broad colours."""
    tiny = image.convert("RGB")
    tiny.thumbnail((32, 32))
    data, row = tiny.tobytes(), 3 * tiny.width
    rows = [[data[x:x + 3] for x in range(y * row, (y + 1) * row, 3)]
            for y in range(tiny.height)]
    return str(blurhash.encode(rows, components_x=components[0], components_y=components[1]))
