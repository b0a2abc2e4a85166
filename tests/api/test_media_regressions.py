"""Regressions found by trying the media features as a user would."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.api.test_profile_images import patch_multipart, upload
from tests.media import images
from tribune.core.errors import Unavailable, ValidationFailed
from tribune.media.models import MediaAttachment
from tribune.media.services import media_create

pytestmark = pytest.mark.django_db


def noisy_png(side: int) -> bytes:
    """A PNG that does not compress: a few megabytes for a modest size."""
    picture = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def test_a_header_of_several_megabytes_is_accepted_over_the_api(alice, api_as):
    """It was 400 "Bad request": the PATCH body was over Django's in-memory limit."""
    data = noisy_png(1100)
    assert len(data) > 3 * 1024 * 1024
    response = patch_multipart(api_as(alice), {"header": upload(data, "h.png")})
    assert response.status_code == 200, response.content


def test_v2_processes_pictures_at_once(alice, api_as):
    """As Mastodon does, so an app may attach a picture right after uploading it."""
    api = api_as(alice)
    response = api.client.post("/api/v2/media", {"file": upload(images.jpeg(), "a.jpg")},
                               **api.headers)
    assert response.status_code == 200
    media_id = response.json()["id"]
    posted = api.post("/api/v1/statuses", json={"status": "", "media_ids": [media_id]})
    assert posted.status_code == 200, posted.content


def test_avif_is_refused_not_taken_for_a_video(alice):
    avif = (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64)
    with pytest.raises(ValidationFailed, match="content type"):
        media_create(account=alice, upload=SimpleUploadedFile("a.avif", avif),
                     process_now=True)
    assert not MediaAttachment.objects.exists()


def test_without_ffmpeg_an_animated_gif_is_refused_at_upload(alice, settings):
    settings.TRIBUNE_FFMPEG = "/nonexistent/ffmpeg"
    frames = [Image.new("RGB", (20, 20), (i * 40, 0, 0)) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(ValidationFailed, match="ffmpeg"):
        media_create(account=alice, upload=SimpleUploadedFile("a.gif", out.getvalue()),
                     process_now=False)
    assert not MediaAttachment.objects.exists()


def down_bucket(settings) -> None:
    """Point the default storage at a bucket whose endpoint is down (no listener)."""
    from botocore.config import Config

    from tests.e2e.conftest import free_port

    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "tribune.media.s3.PublicS3Storage",
        "OPTIONS": {"bucket_name": "gone", "endpoint_url": f"http://127.0.0.1:{free_port()}",
                    "region_name": "us-east-1", "access_key": "x", "secret_key": "y",
                    "client_config": Config(retries={"max_attempts": 1}, connect_timeout=2)}}}


def test_an_unreachable_storage_is_503_and_leaves_no_row(alice, api_as, settings):
    """It was a 500 with a traceback when the S3 endpoint was down."""
    down_bucket(settings)
    with pytest.raises(Unavailable):
        media_create(account=alice, upload=SimpleUploadedFile("a.jpg", images.jpeg()),
                     process_now=True)
    api = api_as(alice)
    response = api.client.post("/api/v1/media", {"file": upload(images.jpeg(), "a.jpg")},
                               **api.headers)
    assert response.status_code == 503
    assert "storage" in response.json()["error"]
    assert not MediaAttachment.objects.exists()


def test_a_nul_character_in_alt_text_is_refused(alice):
    with pytest.raises(ValidationFailed):
        media_create(account=alice, upload=SimpleUploadedFile("a.jpg", images.jpeg()),
                     description="alt\x00text", process_now=True)


def test_an_unreachable_storage_leaves_the_profile_unchanged(alice, api_as, settings):
    down_bucket(settings)
    response = patch_multipart(api_as(alice), {"display_name": "New name",
                                               "avatar": upload(images.jpeg(), "a.jpg")})
    assert response.status_code == 503
    alice.refresh_from_db()
    assert alice.display_name != "New name" and not alice.avatar
