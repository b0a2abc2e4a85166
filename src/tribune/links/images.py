"""A preview card's picture, made safe to serve: decoded with Pillow only if it
is a small enough JPEG, PNG, GIF or WebP, then re-encoded as a new JPEG (first
frame, orientation applied, no metadata) of at most 400 pixels a side, the size
Mastodon keeps for card images."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from tribune.media.processing import blurhash_of

FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
MAX_PIXELS = 25_000_000  # checked from the header, before anything is decoded
MAX_SIDE = 400
QUALITY = 85


class NotAnImage(ValueError):
    """The bytes are not a picture Tribune will show."""


@dataclass(frozen=True)
class CardImage:
    """The re-encoded picture: JPEG ``data``, its size in pixels and BlurHash."""

    data: bytes
    width: int
    height: int
    blurhash: str


def card_image(data: bytes) -> CardImage:
    """``data`` re-encoded as a card picture; raises NotAnImage for anything else
    (unknown or unsupported format, broken file, over MAX_PIXELS)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(data), formats=sorted(FORMATS))
            if source.width * source.height > MAX_PIXELS:
                raise NotAnImage("too many pixels")
            source.seek(0)
            source.load()
            picture = ImageOps.exif_transpose(source)
            picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            picture = _flatten(picture)
    except NotAnImage:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, EOFError) as exc:
        raise NotAnImage(str(exc)) from None
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=QUALITY, optimize=True)  # writes no EXIF/XMP
    return CardImage(out.getvalue(), picture.width, picture.height, blurhash_of(picture, components=(4, 3)))


def _flatten(picture: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white."""
    if picture.mode in ("RGBA", "LA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")

