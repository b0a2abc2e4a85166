"""Default avatar and header images, drawn once per process as PNG bytes.

Mastodon clients expect every account to have absolute avatar and header URLs; an
account without its own image points at these (accounts.selectors.account_avatar_url).
"""

from __future__ import annotations

import functools
import struct
import zlib

from django.http import HttpRequest, HttpResponse


def _png(width: int, height: int, pixel_rows) -> bytes:
    """An 8-bit RGB PNG (RFC 2083) from rows of ``bytes`` (3 bytes per pixel)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + row for row in pixel_rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


@functools.cache
def avatar_png() -> bytes:
    """400x400: a light silhouette (head and shoulders) on a slate background."""
    size, background, figure = 400, bytes((0x5B, 0x6B, 0x7F)), bytes((0xD9, 0xDE, 0xE4))
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            head = (x - 200) ** 2 + (y - 155) ** 2 <= 75**2
            body = y >= 260 and (x - 200) ** 2 + (y - 400) ** 2 <= 150**2
            row += figure if head or body else background
        rows.append(bytes(row))
    return _png(size, size, rows)


@functools.cache
def header_png() -> bytes:
    """1500x500: a plain slate band."""
    row = bytes((0x3B, 0x47, 0x58)) * 1500
    return _png(1500, 500, [row] * 500)


def _image(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def default_avatar(request: HttpRequest) -> HttpResponse:
    return _image(avatar_png())


def default_header(request: HttpRequest) -> HttpResponse:
    return _image(header_png())
