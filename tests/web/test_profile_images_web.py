"""Avatars and headers in the web interface: the profile settings page uploads and
removes them through the same service as the API; profiles, posts and lists of
accounts show them."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tests.media import images
from tribune.accounts.models import Account
from tribune.graph.services import follow_create
from tribune.statuses.services import status_create

# Replaced files are deleted once the change commits.
pytestmark = pytest.mark.django_db(transaction=True)


def client_for(account) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(account.user)
    return client


def picture(data: bytes, name: str = "me.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def profile_data(**extra) -> dict:
    return {"display_name": "Alice", "note": "", **extra}


def stored_names(settings) -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_the_profile_form_is_multipart_with_picture_inputs(alice):
    page = client_for(alice).get("/settings/profile").content.decode()
    form = re.search(r'<form method="post" class="stack".*?</form>', page, re.S).group(0)
    assert 'enctype="multipart/form-data"' in form
    assert re.search(r'<input type="file" name="avatar"[^>]*accept="image/jpeg,', form)
    assert re.search(r'<input type="file" name="header"', form)
    assert 'src="/avatars/original/missing.png"' in form
    # Nothing to remove yet.
    assert 'name="remove_avatar"' not in form and 'name="remove_header"' not in form


def test_uploaded_pictures_are_cleaned_shown_and_removable(alice, bob, settings):
    client = client_for(alice)
    response = client.post("/settings/profile", profile_data(
        avatar=picture(images.jpeg((300, 500), gps=True)),
        header=picture(images.jpeg((1000, 1000)), "header.jpg")))
    assert response.status_code == 303, response.content.decode()[:2000]
    alice.refresh_from_db()
    with default_storage.open(alice.avatar.name, "rb") as handle:
        avatar = Image.open(io.BytesIO(handle.read()))
        assert avatar.size == (400, 400) and not avatar.getexif()
    avatar_url, header_url = alice.avatar.url, alice.header.url
    assert avatar_url.startswith("/system/accounts/avatars/")

    # The settings page previews them and offers to remove them.
    form = client.get("/settings/profile").content.decode()
    assert f'src="{avatar_url}"' in form and f'src="{header_url}"' in form
    assert 'name="remove_avatar"' in form

    # The profile, a post and a list of accounts show them.
    status_create(account=alice, text="Look at my new picture")
    profile = client_for(bob).get("/@alice").content.decode()
    assert f'<img class="header-image" src="{header_url}"' in profile
    assert f'<img class="avatar large" src="{avatar_url}"' in profile
    post = re.search(r'<article class="status.*?</article>', profile, re.S).group(0)
    assert f'<img class="avatar" src="{avatar_url}"' in post
    follow_create(account=alice, target=bob)
    followers = client_for(bob).get("/@bob/followers").content.decode()
    assert f'src="{avatar_url}"' in followers

    # Removing goes back to the default picture and deletes the file.
    response = client.post("/settings/profile", profile_data(remove_avatar="on"))
    assert response.status_code == 303
    alice.refresh_from_db()
    assert not alice.avatar and alice.header
    assert stored_names(settings) == {alice.header.name}
    assert 'src="/avatars/original/missing.png"' in client_for(bob).get("/@alice").content.decode()


def test_html_named_png_is_a_field_error_and_keeps_the_old_avatar(alice, settings):
    client = client_for(alice)
    client.post("/settings/profile", profile_data(avatar=picture(images.jpeg())))
    old = Account.objects.get(pk=alice.pk).avatar.name
    response = client.post("/settings/profile", profile_data(
        display_name="Changed", avatar=picture(images.HTML_AS_PNG, "avatar.png")))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == ["avatar"]
    # The API's "Validation failed: " is not a person's word: the page gives the reason.
    assert "File content type is invalid" in response.content.decode()
    assert "Validation failed" not in response.content.decode()
    after = Account.objects.get(pk=alice.pk)
    assert (after.avatar.name, after.display_name) == (old, "Alice")
    assert stored_names(settings) == {old}


def test_a_png_bomb_is_refused_on_the_form(alice, settings):
    response = client_for(alice).post("/settings/profile", profile_data(
        header=picture(images.png_bomb(), "header.png")))
    assert response.status_code == 422
    assert "pixels" in " ".join(response.context["form"].non_field_errors())
    assert not Account.objects.get(pk=alice.pk).header
    assert stored_names(settings) == set()


def test_replacing_deletes_the_old_file(alice, settings):
    client = client_for(alice)
    client.post("/settings/profile", profile_data(avatar=picture(images.jpeg())))
    first = Account.objects.get(pk=alice.pk).avatar.name
    client.post("/settings/profile", profile_data(avatar=picture(images.jpeg(colour=(0, 0, 0)))))
    second = Account.objects.get(pk=alice.pk).avatar.name
    assert first != second
    assert stored_names(settings) == {second}
