"""Images: type by content, metadata stripped, orientation applied, size limits and
decompression bombs refused; the upload service, orphans and deleted statuses
leave no file behind."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tests.media import images
from tribune.core.errors import ValidationFailed
from tribune.media.models import MediaAttachment, ProcessingState
from tribune.media.processing import process_upload, sniff
from tribune.media.services import (
    media_attach,
    media_cleanup_orphans,
    media_create,
    media_process,
)
from tribune.statuses.services import status_create, status_delete


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload(data: bytes, name: str = "picture.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def write(tmp_path: Path, data: bytes, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def open_stored(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
        return image


@pytest.mark.parametrize(("data", "mime"), [
    (images.jpeg(), "image/jpeg"),
    (images.png(), "image/png"),
    (images.animated_gif(), "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
    (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", "video/webm"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
    (b"\xff\xfb\x90\x64\x00\x00", "audio/mpeg"),
    (b"OggS\x00\x02\x00\x00", "audio/ogg"),
    (b"RIFF\x24\x08\x00\x00WAVEfmt ", "audio/wav"),
    (images.HTML_AS_PNG, None),
    (b"", None),
])
def test_sniff_reads_the_content_not_the_name(tmp_path, data, mime):
    assert sniff(write(tmp_path, data, "upload.png")) == mime


def test_exif_and_location_are_stripped(tmp_path):
    source = write(tmp_path, images.jpeg(gps=True), "gps.jpg")
    with Image.open(source) as original:  # the test file really carries them
        assert original.getexif().get_ifd(images.GPS_IFD)

    processed = process_upload(source)
    try:
        for path in (processed.file, processed.thumbnail):
            with Image.open(path) as cleaned:
                assert not cleaned.getexif()
                assert "exif" not in cleaned.info
                assert "comment" not in cleaned.info
                assert "icc_profile" not in cleaned.info
            assert b"Secret Camera" not in path.read_bytes()
        assert processed.type == "image" and processed.extension == ".jpg"
        assert processed.meta["original"] == {"width": 64, "height": 48, "size": "64x48",
                                              "aspect": pytest.approx(4 / 3, rel=1e-3)}
        assert processed.blurhash
    finally:
        processed.file.unlink()
        processed.thumbnail.unlink()


def test_exif_orientation_is_applied(tmp_path):
    processed = process_upload(write(tmp_path, images.jpeg((80, 40), orientation=6), "turned.jpg"))
    try:
        with Image.open(processed.file) as cleaned:
            assert cleaned.size == (40, 80)
        assert processed.meta["original"]["width"] == 40
        assert processed.meta["original"]["height"] == 80
    finally:
        processed.file.unlink()
        processed.thumbnail.unlink()


def test_large_images_are_scaled_down_keeping_the_aspect(tmp_path):
    processed = process_upload(write(tmp_path, images.jpeg((4800, 2700)), "big.jpg"))
    try:
        original, small = processed.meta["original"], processed.meta["small"]
        assert original["width"] * original["height"] <= 3840 * 2160
        assert original["width"] >= 3830
        assert small["width"] * small["height"] <= 640 * 360
        assert original["aspect"] == pytest.approx(16 / 9, rel=1e-2)
    finally:
        processed.file.unlink()
        processed.thumbnail.unlink()


def test_transparency_is_kept(tmp_path):
    processed = process_upload(write(tmp_path, images.png(), "clear.png"))
    try:
        assert processed.extension == ".png"
        assert processed.thumbnail.suffix == ".webp"
        with Image.open(processed.file) as cleaned:
            assert cleaned.mode == "RGBA"
    finally:
        processed.file.unlink()
        processed.thumbnail.unlink()


def test_decompression_bomb_is_refused(tmp_path):
    bomb = write(tmp_path, images.png_bomb(), "bomb.png")
    assert bomb.stat().st_size < 100_000
    with pytest.raises(ValidationFailed, match="pixels"):
        process_upload(bomb)


def test_pixel_limit_is_a_setting(tmp_path, settings):
    settings.TRIBUNE_MEDIA_MAX_PIXELS = 100 * 100
    with pytest.raises(ValidationFailed, match="pixels"):
        process_upload(write(tmp_path, images.jpeg((200, 100)), "wide.jpg"))


def test_file_size_limit_is_a_setting(tmp_path, settings):
    settings.TRIBUNE_MEDIA_MAX_IMAGE_BYTES = 100
    with pytest.raises(ValidationFailed, match="larger"):
        process_upload(write(tmp_path, images.jpeg(), "heavy.jpg"))


def test_html_named_png_is_refused(tmp_path):
    with pytest.raises(ValidationFailed, match="content type"):
        process_upload(write(tmp_path, images.HTML_AS_PNG, "page.png"))


def test_a_broken_image_is_refused(tmp_path):
    with pytest.raises(ValidationFailed, match="could not be read"):
        process_upload(write(tmp_path, images.jpeg()[:40], "cut.jpg"))


def test_without_ffmpeg_animated_gifs_and_video_are_refused(tmp_path, settings):
    settings.TRIBUNE_FFMPEG = str(tmp_path / "no-ffmpeg")
    settings.TRIBUNE_FFPROBE = str(tmp_path / "no-ffprobe")
    with pytest.raises(ValidationFailed, match="ffmpeg"):
        process_upload(write(tmp_path, images.animated_gif(), "moving.gif"))
    with pytest.raises(ValidationFailed, match="ffmpeg"):
        process_upload(write(tmp_path, b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64, "clip.mp4"))


# --- the service ------------------------------------------------------------------


def test_synchronous_upload_stores_clean_files(alice, settings):
    media = media_create(account=alice, upload=upload(images.jpeg(gps=True)),
                         description="A red square", focus="0.5,-0.25", process_now=True)
    media.refresh_from_db()
    assert media.state == ProcessingState.DONE
    assert media.type == "image" and media.description == "A red square"
    assert (media.focus_x, media.focus_y) == (0.5, -0.25)
    assert not media.upload
    assert media.file.name.startswith("media_attachments/")
    assert media.file_size == default_storage.size(media.file.name)
    stored = open_stored(media.file.name)
    assert not stored.getexif() and "exif" not in stored.info
    assert len(stored_files(settings)) == 2  # the file and its preview, nothing else


def test_a_refused_synchronous_upload_leaves_no_row_and_no_file(alice, settings):
    for data in (images.png_bomb(), images.HTML_AS_PNG):
        with pytest.raises(ValidationFailed):
            media_create(account=alice, upload=upload(data, "x.png"), process_now=True)
    assert not MediaAttachment.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db(transaction=True)
def test_background_processing_replaces_the_upload(alice, settings):
    media = media_create(account=alice, upload=upload(images.jpeg()), process_now=False)
    media.refresh_from_db()  # the immediate backend ran the task after commit
    assert media.state == ProcessingState.DONE
    assert not media.upload
    names = {str(p.relative_to(settings.MEDIA_ROOT)) for p in stored_files(settings)}
    assert names == {media.file.name, media.thumbnail.name}


def test_a_picture_is_processed_at_once_even_when_asked_to_queue(alice, settings):
    """As Mastodon does for pictures, so apps can attach them straight away."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend",
                                  "QUEUES": ["default", "media"]}}
    media = media_create(account=alice, upload=upload(images.jpeg()), process_now=False)
    assert media.state == ProcessingState.DONE and media.file and not media.upload


def test_a_pending_upload_is_processed_by_the_task(alice, settings):
    """Animations (like video and audio) go to the queue."""
    require_ffmpeg()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend",
                                  "QUEUES": ["default", "media"]}}
    media = media_create(account=alice, upload=upload(images.animated_gif(), "a.gif"),
                         process_now=False)
    media.refresh_from_db()
    assert media.state == ProcessingState.PENDING
    assert media.upload.name.startswith("uploads/")
    media_process(media_id=media.pk)
    media.refresh_from_db()
    assert media.state == ProcessingState.DONE and media.file and not media.upload
    assert len(stored_files(settings)) == 2
    media_process(media_id=media.pk)  # a second run changes nothing
    assert len(stored_files(settings)) == 2


def require_ffmpeg() -> None:
    """Skip without ffmpeg, or fail where services are required (CI)."""
    from tests.mastodon_schema import require_services
    from tribune.media.video import ffmpeg_available

    if not ffmpeg_available():
        if require_services():
            pytest.fail("ffmpeg is not installed (TRIBUNE_REQUIRE_SERVICES=1)")
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")


def test_a_refused_background_upload_fails_and_leaves_no_file(alice, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend",
                                  "QUEUES": ["default", "media"]}}
    require_ffmpeg()
    settings.TRIBUNE_MEDIA_MAX_VIDEO_SECONDS = 0  # every animation is now too long
    media = media_create(account=alice, upload=upload(images.animated_gif(), "a.gif"),
                         process_now=False)
    assert len(stored_files(settings)) == 1  # the upload, until processed
    media_process(media_id=media.pk)
    media.refresh_from_db()
    assert media.state == ProcessingState.FAILED and "longer than" in media.error
    assert stored_files(settings) == []


@pytest.mark.parametrize(("description", "focus", "message"), [
    ("x" * 1501, None, "Description is too long"),
    ("", "2,0", "between -1.0 and 1.0"),
    ("", "left", "two numbers"),
])
def test_description_and_focus_are_checked(alice, settings, description, focus, message):
    with pytest.raises(ValidationFailed, match=message):
        media_create(account=alice, upload=upload(images.jpeg()), description=description,
                     focus=focus, process_now=True)
    assert stored_files(settings) == []


def test_orphans_are_deleted_after_a_day_with_their_files(alice, settings,
                                                         django_capture_on_commit_callbacks):
    kept = media_create(account=alice, upload=upload(images.jpeg()), process_now=True)
    status = status_create(account=alice, text="", media_ids=[kept.pk])
    orphan = media_create(account=alice, upload=upload(images.jpeg()), process_now=True)
    recent = media_create(account=alice, upload=upload(images.jpeg()), process_now=True)
    MediaAttachment.objects.filter(pk__in=[orphan.pk, kept.pk]).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert media_cleanup_orphans() == 1
    assert set(MediaAttachment.objects.values_list("pk", flat=True)) == {kept.pk, recent.pk}
    assert not default_storage.exists(orphan.file.name)
    assert not default_storage.exists(orphan.thumbnail.name)
    assert default_storage.exists(kept.file.name)
    assert kept.pk in status.media_attachments.values_list("pk", flat=True)


def test_cleanup_command(alice, settings, capsys):
    from tribune.cli import main

    orphan = media_create(account=alice, upload=upload(images.jpeg()), process_now=True)
    MediaAttachment.objects.filter(pk=orphan.pk).update(
        created_at=timezone.now() - timedelta(days=2))
    assert main(["media", "cleanup"]) == 0
    assert "unattached uploads deleted: 1" in capsys.readouterr().out
    assert not MediaAttachment.objects.exists()


def test_deleting_a_status_deletes_its_files(alice, settings, django_capture_on_commit_callbacks):
    media = [media_create(account=alice, upload=upload(images.jpeg()), process_now=True)
             for _ in range(2)]
    status = status_create(account=alice, text="two pictures", media_ids=[m.pk for m in media])
    assert len(stored_files(settings)) == 4
    with django_capture_on_commit_callbacks(execute=True):
        status_delete(account=alice, status=status)
    assert not MediaAttachment.objects.exists()
    assert stored_files(settings) == []


def test_attach_rules(alice, bob):
    def make(account):
        return media_create(account=account, upload=upload(images.jpeg()), process_now=True)

    mine = [make(alice) for _ in range(5)]
    with pytest.raises(ValidationFailed, match="more than 4"):
        status_create(account=alice, text="five", media_ids=[m.pk for m in mine])
    with pytest.raises(ValidationFailed, match="not found"):
        status_create(account=alice, text="not mine", media_ids=[make(bob).pk])
    with pytest.raises(ValidationFailed, match="can't be blank"):
        status_create(account=alice, text="  ")
    status = status_create(account=alice, text="", media_ids=[m.pk for m in mine[:4]][::-1])
    assert [m.pk for m in status.media_attachments.order_by("position")] == [m.pk for m in mine[:4]][::-1]
    with pytest.raises(ValidationFailed, match="already attached"):
        status_create(account=alice, text="again", media_ids=[mine[0].pk])
    assert MediaAttachment.objects.get(pk=mine[0].pk).status_id == status.pk
    assert media_attach(account=alice, media_ids=[], status=status) == []
