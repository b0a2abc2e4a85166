"""Avatars and headers through the client API: multipart ``avatar`` and ``header``
on update_credentials, Mastodon 4.2's DELETE /api/v1/profile/avatar and /header,
and the Account entity's URLs (each JSON answer checked against the schema)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import encode_multipart
from PIL import Image

from tests.media import images
from tribune.accounts.models import Account
from tribune.core.urls import absolute

pytestmark = pytest.mark.django_db(transaction=True)

BOUNDARY = "PrOfIlEbOuNdArY"


def patch_multipart(api, fields: dict):
    """PATCH update_credentials as multipart, as Mastodon apps send pictures."""
    response = api.client.patch(
        "/api/v1/accounts/update_credentials", encode_multipart(BOUNDARY, fields),
        content_type=f"multipart/form-data; boundary={BOUNDARY}", **api.headers)
    return api._checked("PATCH", "/api/v1/accounts/update_credentials", response)


def upload(data: bytes, name: str = "me.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def stored(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as handle:
        picture = Image.open(io.BytesIO(handle.read()))
        picture.load()
    return picture


def stored_names(settings) -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_avatar_and_header_are_cleaned_cropped_and_shown(alice, api_as, settings):
    api = api_as(alice)
    r = patch_multipart(api, {"avatar": upload(images.jpeg((900, 600), gps=True)),
                              "header": upload(images.jpeg((800, 800)), "header.jpg"),
                              "display_name": "Alice Pictured"})
    assert r.status_code == 200, r.content
    me = r.json()
    alice.refresh_from_db()
    assert alice.avatar.name.startswith("accounts/avatars/") and alice.avatar.name.endswith(".jpg")
    assert alice.header.name.startswith("accounts/headers/")
    assert me["display_name"] == "Alice Pictured"
    assert me["avatar"] == absolute(f"/system/{alice.avatar.name}") == me["avatar_static"]
    assert me["header"] == absolute(f"/system/{alice.header.name}") == me["header_static"]

    avatar = stored(alice.avatar.name)
    assert avatar.size == (400, 400)
    assert not avatar.getexif() and "exif" not in avatar.info and "comment" not in avatar.info
    assert stored(alice.header.name).size == (1500, 500)

    # Every Account entity shows them: lookup, and the author of a post.
    looked_up = api_as(None).get("/api/v1/accounts/lookup", {"acct": "alice"}).json()
    assert looked_up["avatar"] == me["avatar"]
    status = api.post("/api/v1/statuses", json={"status": "hello"}).json()
    assert status["account"]["avatar"] == me["avatar"]
    # And the file is served.
    served = api.client.get(f"/system/{alice.avatar.name}")
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"


def test_replacing_deletes_the_old_file(alice, api_as, settings):
    api = api_as(alice)
    assert patch_multipart(api, {"avatar": upload(images.jpeg())}).status_code == 200
    first = Account.objects.get(pk=alice.pk).avatar.name
    assert patch_multipart(api, {"avatar": upload(images.png((500, 300)), "me.png")}).status_code == 200
    second = Account.objects.get(pk=alice.pk).avatar.name
    assert second != first and second.endswith(".png")  # transparency kept
    assert not default_storage.exists(first)
    assert stored_names(settings) == {second}


@pytest.mark.parametrize("data", [images.HTML_AS_PNG, images.png_bomb(), b""],
                         ids=["html", "bomb", "empty"])
def test_refused_pictures_are_422_and_change_nothing(alice, api_as, settings, data):
    api = api_as(alice)
    assert patch_multipart(api, {"avatar": upload(images.jpeg())}).status_code == 200
    before = Account.objects.get(pk=alice.pk)
    r = patch_multipart(api, {"avatar": upload(data, "avatar.png"), "display_name": "Changed"})
    assert r.status_code == 422, r.content
    assert r.json()["error"].startswith("Validation failed")
    after = Account.objects.get(pk=alice.pk)
    assert (after.avatar.name, after.display_name) == (before.avatar.name, before.display_name)
    assert stored_names(settings) == {before.avatar.name}


def test_a_refused_field_keeps_the_old_picture(alice, api_as, settings):
    api = api_as(alice)
    r = patch_multipart(api, {"avatar": upload(images.jpeg()), "display_name": "x" * 31})
    assert r.status_code == 422
    assert not Account.objects.get(pk=alice.pk).avatar
    assert stored_names(settings) == set()


def test_other_fields_leave_the_pictures_alone(alice, api_as):
    api = api_as(alice)
    assert patch_multipart(api, {"header": upload(images.jpeg())}).status_code == 200
    header = Account.objects.get(pk=alice.pk).header.name
    me = api.patch("/api/v1/accounts/update_credentials", json={"note": "still here"}).json()
    assert me["header"].endswith(header)
    assert me["avatar"] == absolute("/avatars/original/missing.png")


def test_delete_profile_avatar_and_header(alice, api_as, settings):
    api = api_as(alice)
    patch_multipart(api, {"avatar": upload(images.jpeg()), "header": upload(images.jpeg())})
    r = api.delete("/api/v1/profile/avatar")
    assert r.status_code == 200, r.content
    assert r.json()["avatar"] == absolute("/avatars/original/missing.png")
    assert {n.split("/")[1] for n in stored_names(settings)} == {"headers"}
    r = api.delete("/api/v1/profile/header")
    assert r.json()["header"] == absolute("/headers/original/missing.png")
    assert stored_names(settings) == set()
    assert api.delete("/api/v1/profile/header").status_code == 200  # nothing to remove
    assert api_as(alice, scopes="read").delete("/api/v1/profile/avatar").status_code == 403
