"""Profile pictures through ``media.account_images``: the attachments' pipeline,
then Mastodon's sizes; still pictures only; nothing left behind on refusal."""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tests.media import images
from tribune.accounts.models import Account
from tribune.core.errors import Forbidden, ValidationFailed
from tribune.media.account_images import account_profile_update

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def scratch(tmp_path, monkeypatch) -> Path:
    """Temporary files land in the test's directory, so leftovers can be counted."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def upload(data: bytes, name: str = "picture.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def opened(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as handle:
        picture = Image.open(io.BytesIO(handle.read()))
        picture.load()
    return picture


def test_small_and_odd_pictures_get_exact_sizes(alice, scratch):
    account = account_profile_update(account=alice, avatar=upload(images.jpeg((30, 90))),
                                     header=upload(images.png((20, 20))))
    avatar, header = opened(account.avatar.name), opened(account.header.name)
    assert (avatar.size, avatar.format) == ((400, 400), "JPEG")
    # Transparency is kept, in a PNG.
    assert (header.size, header.format, header.mode) == ((1500, 500), "PNG", "RGBA")
    assert list(scratch.iterdir()) == []


def test_the_centre_is_kept(alice):
    picture = Image.new("RGB", (900, 300), (0, 0, 255))
    picture.paste((255, 0, 0), (300, 0, 600, 300))  # a red middle third
    data = io.BytesIO()
    picture.save(data, "PNG")
    account = account_profile_update(account=alice, avatar=upload(data.getvalue()))
    avatar = opened(account.avatar.name).convert("RGB")
    for x in (5, 395):  # red from edge to edge (give or take JPEG's rounding)
        red, _green, blue = avatar.getpixel((x, 200))
        assert red > 240 and blue < 15


def test_an_animated_gif_becomes_a_still_avatar(alice):
    if not shutil.which("ffmpeg"):
        with pytest.raises(ValidationFailed):
            account_profile_update(account=alice, avatar=upload(images.animated_gif()))
        return
    account = account_profile_update(account=alice, avatar=upload(images.animated_gif()))
    avatar = opened(account.avatar.name)
    assert (avatar.format, avatar.size, getattr(avatar, "n_frames", 1)) == ("JPEG", (400, 400), 1)


@pytest.mark.parametrize("data", [images.HTML_AS_PNG, images.png_bomb(), b"",
                                  b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64],
                         ids=["html", "bomb", "empty", "video"])
def test_refusals_change_and_leave_nothing(alice, settings, scratch, data):
    with pytest.raises(ValidationFailed):
        account_profile_update(account=alice, avatar=upload(data), display_name="Changed")
    account = Account.objects.get(pk=alice.pk)
    assert (account.avatar.name, account.display_name) == ("", "Alice")
    assert not Path(settings.MEDIA_ROOT).exists() or not any(
        p.is_file() for p in Path(settings.MEDIA_ROOT).rglob("*"))
    assert list(scratch.iterdir()) == []


def test_a_restricted_account_cannot_upload_but_can_remove(alice):
    account_profile_update(account=alice, avatar=upload(images.jpeg()))
    Account.objects.filter(pk=alice.pk).update(frozen_at=timezone.now())
    alice.refresh_from_db()
    with pytest.raises(Forbidden):
        account_profile_update(account=alice, avatar=upload(images.jpeg()))
    name = alice.avatar.name
    account_profile_update(account=alice, remove_avatar=True)
    assert not Account.objects.get(pk=alice.pk).avatar
    assert not default_storage.exists(name)


def test_a_stale_copy_does_not_bring_back_a_replaced_picture(alice):
    stale = Account.objects.get(pk=alice.pk)
    account_profile_update(account=alice, avatar=upload(images.jpeg()))
    # Saving preferences through an old copy of the row keeps the new avatar.
    account_profile_update(account=stale, display_name="Stale")
    account = Account.objects.get(pk=alice.pk)
    assert account.avatar.name == alice.avatar.name and account.display_name == "Stale"
