"""Real image files for the media tests, made with Pillow (and one PNG by hand)."""

from __future__ import annotations

import functools
import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg(size=(64, 48), colour=(200, 30, 30), *, orientation: int | None = None,
         gps: bool = False) -> bytes:
    """A JPEG; with ``gps`` its EXIF holds a camera model and a location."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if gps:
        exif[0x0110] = "Secret Camera"  # Model
        location = exif.get_ifd(GPS_IFD)
        location[1] = "N"
        location[2] = (48.0, 51.0, 29.0)
        location[3] = "E"
        location[4] = (2.0, 17.0, 40.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at home")
    return out.getvalue()


def png(size=(40, 30), colour=(10, 120, 200, 128)) -> bytes:
    """A PNG with an alpha channel."""
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, "PNG")
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (16, 16), (i * 80, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


@functools.cache
def png_bomb(side: int = 20000) -> bytes:
    """A valid ``side`` x ``side`` one-colour PNG (1-bit grey): a few tens of
    kilobytes that would decode to hundreds of megapixels."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body)
            + _chunk(b"IEND", b""))


HTML_AS_PNG = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
