"""Video, audio and animated GIFs through ffmpeg (tribune.media.video), with inputs
made by ffmpeg's own test sources and by Pillow."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from tests.mastodon_schema import require_services
from tribune.core.errors import ValidationFailed
from tribune.media import video
from tribune.media.processing import Processed

PARIS = "+48.8582+002.2945/"


@pytest.fixture(autouse=True)
def temporary_dir(tmp_path, monkeypatch):
    """Temporary files land in the test's directory, so leftovers can be counted."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


@pytest.fixture
def tools() -> tuple[str, str]:
    """ffmpeg and ffprobe; skips without them, or fails under
    TRIBUNE_REQUIRE_SERVICES=1 (CI installs them)."""
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    if ffmpeg is None or ffprobe is None:
        reason = "ffmpeg and ffprobe are not installed (Debian package ffmpeg)"
        if require_services():
            pytest.fail(f"{reason} (TRIBUNE_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(reason)
    return ffmpeg, ffprobe


def make(tools, out: Path, *args: str) -> Path:
    subprocess.run([tools[0], "-nostdin", "-v", "error", "-y", *args, str(out)],
                   check=True, timeout=60)
    return out


def probe(tools, path: Path) -> dict:
    result = subprocess.run(
        [tools[1], "-v", "error", "-print_format", "json", "-show_format",
         "-show_streams", str(path)], check=True, capture_output=True, timeout=60)
    return json.loads(result.stdout)


def tags(probed: dict) -> dict:
    """Every tag of the file and its streams, in one dict."""
    found = dict(probed["format"].get("tags", {}))
    for stream in probed["streams"]:
        found.update(stream.get("tags", {}))
    return found


def codecs(probed: dict) -> dict[str, str]:
    return {s["codec_type"]: s["codec_name"] for s in probed["streams"]}


def clip(tools, tmp_path, *, size="320x240", rate=25, seconds=2, name="clip.mp4"):
    """A test-pattern video with a tone, tagged with a place and a time."""
    return make(
        tools, tmp_path / name,
        "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate={rate}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-metadata", f"location={PARIS}",
        "-metadata", "creation_time=2024-05-01T10:00:00Z",
        "-metadata", "title=Holiday at home",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest")


def animated_gif(path: Path, *, size=(120, 80), frames=5) -> Path:
    pictures = [Image.new("L", size, i * 40) for i in range(frames)]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=100,
                     loop=0)
    return path


def test_video_becomes_h264_mp4_without_metadata(tools, tmp_path):
    source = clip(tools, tmp_path)
    assert tags(probe(tools, source))["location"] == PARIS  # the input has them

    result = video.process_video(source, kind="video")

    assert isinstance(result, Processed)
    assert (result.type, result.extension) == ("video", ".mp4")
    probed = probe(tools, result.file)
    assert "mp4" in probed["format"]["format_name"]
    assert codecs(probed) == {"video": "h264", "audio": "aac"}
    assert float(probed["format"]["duration"]) == pytest.approx(2.0, abs=0.1)
    found = tags(probed)
    assert not {k for k in found if "location" in k or k in ("creation_time", "title")}
    assert not {v for v in found.values() if PARIS in v or "2024" in v}
    # Only the codec's name, no versions (bit-exact muxing).
    assert found.get("encoder", "Lavc libx264") == "Lavc libx264"
    data = result.file.read_bytes()
    assert b"\xa9xyz" not in data and b"48.8582" not in data
    assert b"Holiday" not in data
    # The moov atom comes before the media data, so playback starts at once.
    assert data.index(b"moov") < data.index(b"mdat")

    assert result.meta["original"] == {
        "width": 320, "height": 240, "size": "320x240", "aspect": 320 / 240,
        "frame_rate": "25/1", "duration": result.meta["duration"],
        "bitrate": result.meta["original"]["bitrate"]}
    assert result.meta["duration"] == pytest.approx(2.0, abs=0.1)
    assert result.meta["length"].startswith("0:00:02.")
    assert result.meta["original"]["bitrate"] > 0
    assert result.thumbnail is not None
    with Image.open(result.thumbnail) as preview:
        assert preview.format == "JPEG"
        assert preview.size == (320, 240)
        assert not preview.getexif()
    assert result.meta["small"] == {"width": 320, "height": 240, "size": "320x240",
                                    "aspect": 320 / 240}
    assert len(result.blurhash) == 36  # 4x4 components: 6 + 2 per extra one


def test_large_video_is_scaled_to_fit_with_even_sides(tools, tmp_path):
    source = clip(tools, tmp_path, size="2001x1001", rate=5, seconds=1)

    result = video.process_video(source, kind="video")

    stream = next(s for s in probe(tools, result.file)["streams"]
                  if s["codec_type"] == "video")
    assert (stream["width"], stream["height"]) == (1920, 960)
    assert stream["pix_fmt"] == "yuv420p"
    assert result.meta["small"]["width"] == 640
    assert result.meta["small"]["height"] == 320


def test_fit_keeps_the_aspect_and_never_enlarges():
    assert video.fit(3840, 2160, (1920, 1080)) == (1920, 1080)
    assert video.fit(1080, 2400, (1080, 1920)) == (864, 1920)
    assert video.fit(321, 241, (1920, 1080)) == (320, 240)
    assert video.fit(1, 1, (1920, 1080)) == (2, 2)


def test_animated_gif_becomes_silent_gifv(tools, tmp_path):
    result = video.process_video(animated_gif(tmp_path / "a.gif"), kind="gif")

    assert (result.type, result.extension) == ("gifv", ".mp4")
    probed = probe(tools, result.file)
    assert codecs(probed) == {"video": "h264"}
    assert float(probed["format"]["duration"]) == pytest.approx(0.5, abs=0.1)
    assert result.meta["original"]["width"] == 120
    assert result.meta["original"]["frame_rate"] == "10/1"
    assert result.thumbnail is not None
    assert result.blurhash


def test_audio_becomes_mp3_without_metadata(tools, tmp_path):
    source = make(tools, tmp_path / "tone.ogg",
                  "-f", "lavfi", "-i", "sine=frequency=220:duration=3",
                  "-metadata", "title=Voice memo", "-metadata", f"location={PARIS}")

    result = video.process_video(source, kind="audio")

    assert (result.type, result.extension, result.thumbnail) == ("audio", ".mp3", None)
    probed = probe(tools, result.file)
    assert codecs(probed) == {"audio": "mp3"}
    assert not tags(probed)
    assert b"Voice memo" not in result.file.read_bytes()
    assert result.meta["duration"] == pytest.approx(3.0, abs=0.1)
    assert set(result.meta["original"]) == {"duration", "bitrate"}


def test_audio_is_not_a_video(tools, tmp_path):
    source = make(tools, tmp_path / "tone.wav", "-f", "lavfi", "-i", "sine=duration=1")

    with pytest.raises(ValidationFailed, match="no video"):
        video.process_video(source, kind="video")


def test_a_text_file_is_refused(tools, tmp_path):
    source = tmp_path / "notes.mp4"
    source.write_text("Not a video, whatever its name says.\n")

    with pytest.raises(ValidationFailed, match="not a video or audio file"):
        video.process_video(source, kind="video")


def test_a_playlist_is_refused_before_it_is_followed(tools, tmp_path):
    # HLS playlists make ffmpeg open what they list: other files, or URLs.
    clip(tools, tmp_path)
    source = tmp_path / "upload.mp4"
    source.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n"
                      f"{tmp_path / 'clip.mp4'}\n#EXT-X-ENDLIST\n")

    with pytest.raises(ValidationFailed, match="not a video or audio file"):
        video.process_video(source, kind="video")


def test_too_long_is_refused(tools, tmp_path, settings):
    settings.TRIBUNE_MEDIA_MAX_VIDEO_SECONDS = 1

    with pytest.raises(ValidationFailed, match="longer than 1 second"):
        video.process_video(clip(tools, tmp_path), kind="video")


def test_too_large_is_refused(tools, tmp_path, settings):
    source = clip(tools, tmp_path)
    settings.TRIBUNE_MEDIA_MAX_VIDEO_BYTES = 1024 * 1024 // 2
    source.write_bytes(source.read_bytes() + bytes(1024 * 1024))

    with pytest.raises(ValidationFailed, match=r"larger than 512\.0"):
        video.process_video(source, kind="video")


def test_too_many_pixels_is_refused(tools, tmp_path):
    source = animated_gif(tmp_path / "huge.gif", size=(4100, 4100), frames=2)

    with pytest.raises(ValidationFailed, match="4096x4096"):
        video.process_video(source, kind="gif")


def test_too_many_frames_a_second_is_refused(tools, tmp_path):
    source = make(tools, tmp_path / "fast.mp4",
                  "-f", "lavfi", "-i", "testsrc=duration=0.5:size=64x48:rate=240",
                  "-c:v", "libx264", "-preset", "ultrafast")

    with pytest.raises(ValidationFailed, match="frames a second"):
        video.process_video(source, kind="video")


def test_failed_conversion_leaves_no_temporary_files(tools, tmp_path, settings,
                                                    temporary_dir):
    source = clip(tools, tmp_path)
    settings.TRIBUNE_FFMPEG = shutil.which("false")  # probes fine, converts nothing

    with pytest.raises(ValidationFailed, match="could not be converted"):
        video.process_video(source, kind="video")

    assert list(temporary_dir.iterdir()) == []


def test_without_ffmpeg_uploads_are_refused_clearly(tmp_path, settings):
    settings.TRIBUNE_FFMPEG = str(tmp_path / "no-such-ffmpeg")
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"\x00" * 64)

    assert video.ffmpeg_available() is False
    with pytest.raises(ValidationFailed, match="does not have ffmpeg installed"):
        video.process_video(source, kind="video")
