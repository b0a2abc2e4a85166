"""Pictures in the web interface: the compose box uploads up to four with their
descriptions through the same services as the API; posts show them."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.media import images
from tribune.media.models import MediaAttachment
from tribune.statuses.models import Status


def client_for(account) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(account.user)
    return client


def picture(name: str = "photo.jpg", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else images.jpeg(gps=True),
                              content_type="image/jpeg")


def test_the_compose_box_offers_four_pictures_with_descriptions(alice):
    html = client_for(alice).get("/").content.decode()
    form = re.search(r'<form[^>]*id="compose".*?</form>', html, re.S).group(0)
    assert 'enctype="multipart/form-data"' in form
    inputs = re.findall(r'<input[^>]*type="file"[^>]*>', form)
    assert len(inputs) == 4
    assert all('accept="image/jpeg,image/png,image/gif,image/webp"' in i for i in inputs)
    assert len(re.findall(r'name="description_\d"', form)) == 4


def test_four_pictures_post_and_render_with_their_alt_text(alice, bob):
    client = client_for(alice)
    data = {"text": "", "visibility": "public"}
    for n in range(1, 5):
        data[f"media_{n}"] = picture(f"p{n}.jpg")
        data[f"description_{n}"] = f"Red square number {n}"
    response = client.post("/statuses", data, HTTP_REFERER="http://localhost/")
    assert response.status_code == 303, response.content.decode()[:2000]
    status = Status.objects.get(account=alice)
    assert status.media_attachments.count() == 4

    page = client_for(bob).get(f"/@alice/{status.pk}").content.decode()
    article = re.search(rf'<article[^>]*id="status-{status.pk}".*?</article>', page, re.S).group(0)
    pictures = re.findall(r"<img [^>]*>", article)
    pictures = [p for p in pictures if 'class="avatar"' not in p]
    assert len(pictures) == 4
    assert [re.search(r'alt="([^"]*)"', p).group(1) for p in pictures] == [
        f"Red square number {n}" for n in range(1, 5)]
    for media in status.media_attachments.all():
        assert f'href="{media.file.url}"' in article
        assert f'src="{media.thumbnail.url}"' in article


def test_a_post_with_a_content_warning_hides_its_pictures(alice):
    client = client_for(alice)
    client.post("/statuses", {"text": "spoiler", "spoiler_text": "food", "visibility": "public",
                              "media_1": picture(), "description_1": "A cake"})
    status = Status.objects.get(account=alice)
    page = client.get(f"/@alice/{status.pk}").content.decode()
    warning = re.search(r'<details class="content-warning">.*?</details>', page, re.S).group(0)
    assert 'alt="A cake"' in warning


def test_a_refused_picture_posts_nothing_and_keeps_nothing(alice, settings,
                                                          django_capture_on_commit_callbacks):
    client = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/statuses", {
            "text": "look", "visibility": "public",
            "media_1": picture(), "description_1": "fine",
            "media_2": picture("page.png", images.HTML_AS_PNG), "description_2": "not a picture"})
    assert response.status_code == 422
    assert "content type is invalid" in response.content.decode()
    assert not Status.objects.exists()
    assert not MediaAttachment.objects.exists()
    root = Path(settings.MEDIA_ROOT)
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_text_or_a_picture_is_needed(alice):
    response = client_for(alice).post("/statuses", {"text": " ", "visibility": "public"})
    assert response.status_code == 422
    assert "can&#x27;t be blank" in response.content.decode()
