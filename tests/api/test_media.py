"""/api/v1/media, /api/v2/media and media_ids on statuses; each JSON answer is
checked against the Mastodon schema by the Api helper."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.media import images
from tribune.media.models import MediaAttachment
from tribune.media.services import media_process

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend",
                           "QUEUES": ["default", "timelines", "federation", "media", "portability"]}}


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def post_file(api, path: str, data: bytes, name: str = "photo.jpg", **fields):
    upload = SimpleUploadedFile(name, data, content_type="image/jpeg")
    return api.post(path, data={"file": upload, **fields})


@pytest.fixture
def alice_api(api_as, alice):
    return api_as(alice)


def upload_ids(api, count: int) -> list[str]:
    ids = []
    for i in range(count):
        response = post_file(api, "/api/v1/media", images.jpeg(), description=f"Picture {i}")
        assert response.status_code == 200, response.content
        ids.append(response.json()["id"])
    return ids


def test_v1_upload_is_processed_and_clean(alice_api):
    response = post_file(alice_api, "/api/v1/media", images.jpeg((80, 40), orientation=6, gps=True),
                         description="A red square", focus="-0.5,0.5")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "image" and body["description"] == "A red square"
    assert body["url"].startswith("http://") and "/media_attachments/" in body["url"]
    assert body["preview_url"].startswith("http://")
    assert body["blurhash"]
    assert body["meta"]["original"]["width"] == 40 and body["meta"]["original"]["height"] == 80
    assert body["meta"]["focus"] == {"x": -0.5, "y": 0.5}
    media = MediaAttachment.objects.get(pk=body["id"])
    with default_storage.open(media.file.name, "rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
        assert not stored.getexif() and "exif" not in stored.info
        assert stored.size == (40, 80)


@pytest.mark.parametrize("data", [images.png_bomb(), images.HTML_AS_PNG, b""])
@pytest.mark.parametrize("path", ["/api/v1/media", "/api/v2/media"])
def test_refused_files_leave_nothing(alice_api, settings, path, data,
                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(alice_api, path, data, "image.png")
    if path == "/api/v2/media" and data is images.png_bomb():
        # Recognised as a PNG: accepted for processing, which refuses it.
        assert response.status_code in (200, 202, 422)
        media = MediaAttachment.objects.filter(pk=response.json().get("id", 0)).first()
        if media is not None:
            assert alice_api.get(f"/api/v1/media/{media.pk}").status_code == 422
    else:
        assert response.status_code == 422, response.content
        assert "error" in response.json()
        assert not MediaAttachment.objects.exists()
    assert stored_files(settings) == []


def test_v1_bomb_is_422_with_no_row_and_no_file(alice_api, settings):
    response = post_file(alice_api, "/api/v1/media", images.png_bomb(), "bomb.png")
    assert response.status_code == 422
    assert "pixels" in response.json()["error"]
    assert not MediaAttachment.objects.exists()
    assert stored_files(settings) == []


def test_v2_answers_202_then_get_answers_200(alice_api, settings):
    settings.TASKS = DUMMY_TASKS
    from tests.media.test_images import require_ffmpeg

    require_ffmpeg()
    response = post_file(alice_api, "/api/v2/media", images.animated_gif(), "a.gif",
                         description="Later")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["url"] is None
    assert alice_api.get(f"/api/v1/media/{body['id']}").status_code == 206

    media_process(media_id=body["id"])  # what the queued task does
    done = alice_api.get(f"/api/v1/media/{body['id']}")
    assert done.status_code == 200
    assert done.json()["url"].startswith("http://") and done.json()["description"] == "Later"


def test_v2_with_tasks_run_at_once_answers_200(alice_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(alice_api, "/api/v2/media", images.jpeg())
    assert response.status_code in (200, 202)
    assert alice_api.get(f"/api/v1/media/{response.json()['id']}").status_code == 200


def test_update_description_and_focus(alice_api):
    [media_id] = upload_ids(alice_api, 1)
    response = alice_api.put(f"/api/v1/media/{media_id}",
                             json={"description": "Now described", "focus": "0.1,0.2"})
    assert response.status_code == 200
    assert response.json()["description"] == "Now described"
    assert response.json()["meta"]["focus"] == {"x": 0.1, "y": 0.2}
    too_long = alice_api.put(f"/api/v1/media/{media_id}", json={"description": "é" * 1501})
    assert too_long.status_code == 422
    assert alice_api.put(f"/api/v1/media/{media_id}", json={"focus": "3,3"}).status_code == 422
    assert MediaAttachment.objects.get(pk=media_id).description == "Now described"


@pytest.mark.django_db(transaction=True)
def test_alt_text_of_attached_media_changes_on_the_cached_home_timeline(alice_api):
    [media_id] = upload_ids(alice_api, 1)
    sid = alice_api.post("/api/v1/statuses", json={"status": "with a picture",
                                                    "media_ids": [media_id]}).json()["id"]

    def alt_on_home():
        [entity] = [s for s in alice_api.get("/api/v1/timelines/home").json() if s["id"] == sid]
        return entity["media_attachments"][0]["description"]

    assert alt_on_home() == "Picture 0"  # cached now
    response = alice_api.put(f"/api/v1/media/{media_id}", json={"description": "Described later"})
    assert response.status_code == 200
    assert alt_on_home() == "Described later"


def test_others_media_is_not_found(alice_api, api_as, bob):
    [media_id] = upload_ids(alice_api, 1)
    bob_api = api_as(bob)
    assert bob_api.get(f"/api/v1/media/{media_id}").status_code == 404
    assert bob_api.put(f"/api/v1/media/{media_id}", json={"description": "mine"}).status_code == 404
    assert bob_api.get("/api/v1/media/nonsense").status_code == 404
    refused = bob_api.post("/api/v1/statuses", json={"status": "hi", "media_ids": [media_id]})
    assert refused.status_code == 422


def test_media_needs_the_write_media_scope(api_as, alice):
    read_only = api_as(alice, scopes="read")
    assert post_file(read_only, "/api/v1/media", images.jpeg()).status_code == 403
    write_media = api_as(alice, scopes="write:media")
    assert post_file(write_media, "/api/v1/media", images.jpeg()).status_code == 200


def test_four_attachments_post_and_a_fifth_is_refused(alice_api, settings):
    ids = upload_ids(alice_api, 5)
    refused = alice_api.post("/api/v1/statuses", json={"status": "five", "media_ids": ids})
    assert refused.status_code == 422
    assert "4" in refused.json()["error"]

    response = alice_api.post("/api/v1/statuses", data={"status": "", "media_ids[]": ids[:4]})
    assert response.status_code == 200, response.content
    status = response.json()
    assert [m["id"] for m in status["media_attachments"]] == ids[:4]
    assert [m["description"] for m in status["media_attachments"]] == [
        f"Picture {i}" for i in range(4)]

    again = alice_api.get(f"/api/v1/statuses/{status['id']}").json()
    assert [m["id"] for m in again["media_attachments"]] == ids[:4]
    timeline = alice_api.get("/api/v1/accounts/{}/statuses".format(status["account"]["id"]),
                             {"only_media": "true"}).json()
    assert [s["id"] for s in timeline] == [status["id"]]
    attached_twice = alice_api.post("/api/v1/statuses", json={"status": "x", "media_ids": ids[:1]})
    assert attached_twice.status_code == 422


def test_a_status_needs_text_or_media(alice_api):
    assert alice_api.post("/api/v1/statuses", json={"status": ""}).status_code == 422


def test_unknown_media_ids_are_refused_and_nothing_is_posted(alice_api, alice):
    response = alice_api.post("/api/v1/statuses", json={"status": "pic", "media_ids": [1]})
    assert response.status_code == 422
    assert "not found" in response.json()["error"]
    alice.refresh_from_db()
    assert alice.statuses_count == 0


def test_edit_keeps_adds_and_removes_media(alice_api, settings, django_capture_on_commit_callbacks):
    first, second, third = upload_ids(alice_api, 3)
    status = alice_api.post("/api/v1/statuses", json={"status": "", "media_ids": [first, second]}).json()
    removed = MediaAttachment.objects.get(pk=first)
    with django_capture_on_commit_callbacks(execute=True):
        edited = alice_api.put(f"/api/v1/statuses/{status['id']}",
                               json={"status": "edited", "media_ids": [third, second]})
    assert edited.status_code == 200, edited.content
    assert [m["id"] for m in edited.json()["media_attachments"]] == [third, second]
    assert not MediaAttachment.objects.filter(pk=first).exists()
    assert not default_storage.exists(removed.file.name)
    text_only = alice_api.put(f"/api/v1/statuses/{status['id']}", json={"status": "text"})
    assert len(text_only.json()["media_attachments"]) == 2


def test_deleting_the_status_deletes_the_files(alice_api, settings, django_capture_on_commit_callbacks):
    ids = upload_ids(alice_api, 2)
    status = alice_api.post("/api/v1/statuses", json={"status": "bye", "media_ids": ids}).json()
    with django_capture_on_commit_callbacks(execute=True):
        deleted = alice_api.delete(f"/api/v1/statuses/{status['id']}")
    assert deleted.status_code == 200
    assert len(deleted.json()["media_attachments"]) == 2
    assert not MediaAttachment.objects.exists()
    assert stored_files(settings) == []


def test_delete_unattached_media(alice_api, settings, django_capture_on_commit_callbacks):
    first, second = upload_ids(alice_api, 2)
    alice_api.post("/api/v1/statuses", json={"status": "one", "media_ids": [second]})
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_api.delete(f"/api/v1/media/{first}").status_code == 200
    assert alice_api.delete(f"/api/v1/media/{second}").status_code == 422
    assert len(stored_files(settings)) == 2


@pytest.mark.parametrize("path", ["/api/v1/instance", "/api/v2/instance"])
def test_instance_announces_the_media_limits(api_as, path, settings):
    media = api_as().get(path).json()["configuration"]["media_attachments"]
    assert "image/jpeg" in media["supported_mime_types"]
    assert "text/html" not in media["supported_mime_types"]
    assert media["image_size_limit"] == settings.TRIBUNE_MEDIA_MAX_IMAGE_BYTES
    assert media["image_matrix_limit"] == settings.TRIBUNE_MEDIA_MAX_PIXELS
    assert media["description_limit"] == 1500


@pytest.mark.parametrize("path", ["/api/v1/media", "/api/v2/media"])
def test_multipart_without_a_boundary_is_400_not_500(alice_api, path):
    """Regression: a multipart Content-Type with no boundary was a server error."""
    response = alice_api.post(path, data=b"", content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.json() == {"error": "Malformed multipart body"}
