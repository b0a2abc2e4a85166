"""The default avatar and header that every account's URLs point to."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.test import Client


def _decode_png(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, raw scanlines) of an 8-bit RGB PNG, decoded independently."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, width, height, idat = 8, 0, 0, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.mark.parametrize("path, size", [("/avatars/original/missing.png", (400, 400)),
                                        ("/headers/original/missing.png", (1500, 500))])
def test_default_images_are_valid_pngs(path, size, db):
    response = Client(HTTP_HOST="localhost").get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    width, height, raw = _decode_png(response.content)
    assert (width, height) == size
    assert len(raw) == height * (1 + 3 * width)


def test_account_urls_point_at_served_images(alice, api_as):
    me = api_as(alice).get("/api/v1/accounts/verify_credentials").json()
    client = Client(HTTP_HOST="localhost")
    for key in ("avatar", "avatar_static", "header", "header_static"):
        assert me[key].startswith("http://127.0.0.1:8000/")
        path = me[key].removeprefix("http://127.0.0.1:8000")
        assert client.get(path).status_code == 200


def test_landing_page_lists_rules(db, client):
    from tribune.moderation.services import rule_create

    rule_create(text="Be kind to each other")
    page = Client(HTTP_HOST="localhost").get("/")
    assert page.status_code == 200
    assert "Be kind to each other" in page.content.decode()
    french = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="fr").get("/")
    assert french.status_code == 200


def test_admin_static_files_are_served(db):
    response = Client(HTTP_HOST="localhost").get("/static/admin/css/base.css")
    assert response.status_code == 200


def test_admin_changes_the_registration_mode(db, settings):
    from django.contrib.auth import get_user_model

    from tribune.accounts.instance import registration_mode

    settings.TRIBUNE_REGISTRATIONS = "open"
    admin = get_user_model().objects.create_superuser("root", "root@example.test", "pw-for-tests-only")
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    page = client.get("/admin/core/sitesetting/add/")
    assert page.status_code == 200
    saved = client.post("/admin/core/sitesetting/add/", {"key": "registrations", "value": "approval"})
    assert saved.status_code == 302, saved.content[:500]
    assert registration_mode() == "approval"
    api = Client(HTTP_HOST="localhost").get("/api/v2/instance").json()["registrations"]
    assert api["enabled"] is True and api["approval_required"] is True
    assert api["reason_required"] is True  # account_sign_up refuses a blank reason
    refused = client.post("/admin/core/sitesetting/add/", {"key": "registrations", "value": "bogus"})
    assert refused.status_code == 200  # the form shows the error
    assert registration_mode() == "approval"
