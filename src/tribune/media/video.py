"""Video, audio and animated GIFs, re-encoded with ffmpeg.

Nothing is served as it was uploaded: :func:`process_video` probes the upload with
ffprobe, refuses what breaks the limits, and transcodes it to H.264/AAC MP4 (video;
a GIF becomes a silent ``gifv``) or MP3 (audio). Metadata and chapters are dropped
and the muxers run bit-exact, so no location (MP4's ``©xyz``), creation time or
encoder tag survives. Video also gets a JPEG preview frame and its BlurHash.

ffmpeg parses hostile input, so it is run without a shell or stdin, with a time
limit and few threads, and may only open the upload as a local file with one of
the demuxers in :data:`DEMUXERS`. Playlist demuxers (HLS, concat, ...) are left out
on purpose: a "video" that is a playlist would make ffmpeg read other files or
fetch URLs.

ffmpeg is optional (the Debian package): without it :func:`process_video` refuses
with a clear error, and :func:`ffmpeg_available` lets callers say so up front.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image

from tribune.core.errors import ValidationFailed
from tribune.media.processing import Processed, blurhash_of

log = logging.getLogger(__name__)

KINDS = ("video", "audio", "gif")
# Demuxers ffprobe and ffmpeg may use (matched against each of a demuxer's names,
# so "mov" covers mp4, m4a and 3gp and "matroska" covers webm).
DEMUXERS = "mov,matroska,avi,mpegts,gif,mp3,ogg,wav,flac,aac"
MAX_PIXELS = 4096 * 4096  # of the upload's frames
MAX_FRAME_RATE = 120
BOX = (1920, 1080)  # the served video fits this box, turned for portrait video
PREVIEW_BOX = 640  # the preview frame fits a square of this side
PROBE_SECONDS = 30
TRANSCODE_SECONDS = 300
THREADS = "2"

# Options placed before an input: what ffmpeg may open, and how large a frame it
# may decode whatever the headers said. The probe allows larger frames, so that a
# file just over the limit is refused with a message that says why.
INPUT_GUARDS = ("-protocol_whitelist", "file", "-format_whitelist", DEMUXERS,
                "-max_pixels", str(MAX_PIXELS))
PROBE_GUARDS = ("-protocol_whitelist", "file", "-format_whitelist", DEMUXERS,
                "-max_pixels", str(4 * MAX_PIXELS))
# Options placed before an output: no metadata, no chapters, no encoder tags.
NO_METADATA = ("-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact",
               "-flags:v", "+bitexact", "-flags:a", "+bitexact")


def ffmpeg_available() -> bool:
    """Whether both ``TRIBUNE_FFMPEG`` and ``TRIBUNE_FFPROBE`` (``ffmpeg`` and
    ``ffprobe`` by default: a name looked up on ``PATH``, or a path) are found.

    The lookup is cached per pair of names for the life of the process; changing
    the settings (as tests do) looks again.
    """
    return _binaries() is not None


def process_video(path: Path, *, kind: str) -> Processed:
    """Turn the upload at ``path`` into the file served and its preview.

    ``kind`` is ``"video"``, ``"audio"`` or ``"gif"`` (an animated GIF, served as a
    silent MP4 of type ``gifv``). Returns a :class:`Processed` with ``type``
    ``video``, ``gifv`` or ``audio``; ``file`` an MP4 (H.264 video, AAC audio, at
    most 1920x1080 or 1080x1920, even sides, moov atom first) or an MP3; for video
    ``thumbnail`` a JPEG frame at most 640 pixels a side and its ``blurhash``.
    ``meta`` is Mastodon's: ``length`` ("0:00:02.00"), ``duration`` (seconds),
    ``original`` (``width``, ``height``, ``frame_rate`` as "25/1", ``duration``,
    ``bitrate`` in bits per second; only the last two for audio) and, for video,
    ``small`` (the preview's ``width``, ``height``, ``size``, ``aspect``). The
    files are temporary and the caller's to move or delete; ``path`` is left as is.

    Raises ValidationFailed when ffmpeg is not installed, when the file is not
    video or audio of the kind asked for, is larger than
    ``TRIBUNE_MEDIA_MAX_VIDEO_BYTES`` or longer than
    ``TRIBUNE_MEDIA_MAX_VIDEO_SECONDS``, has frames of more than 4096x4096 pixels
    or more than 120 frames a second, or cannot be transcoded in five minutes.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    binaries = _binaries()
    if binaries is None:
        raise ValidationFailed(_("Video and audio cannot be accepted: this server "
                                 "does not have ffmpeg installed."))
    ffmpeg, ffprobe = binaries
    max_bytes = settings.TRIBUNE_MEDIA_MAX_VIDEO_BYTES
    if path.stat().st_size > max_bytes:
        raise ValidationFailed(_("The file is larger than %(limit)s.")
                               % {"limit": filesizeformat(max_bytes)})
    source = _source(_probe(ffprobe, path), kind=kind)
    made: list[Path] = []
    try:
        if kind == "audio":
            return _audio(ffmpeg, ffprobe, path, made)
        return _video(ffmpeg, ffprobe, path, source, kind=kind, made=made)
    except BaseException:
        for temporary in made:
            temporary.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class _Source:
    """What the probe says about the upload; sizes as displayed (rotation and
    pixel aspect applied)."""

    width: int
    height: int
    has_audio: bool


def _binaries() -> tuple[str, str] | None:
    return _which(settings.TRIBUNE_FFMPEG, settings.TRIBUNE_FFPROBE)


@functools.cache
def _which(ffmpeg: str, ffprobe: str) -> tuple[str, str] | None:
    found = shutil.which(ffmpeg), shutil.which(ffprobe)
    if found[0] is None or found[1] is None:
        return None
    return found[0], found[1]


def _run(args: list[str], *, timeout: int) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ValidationFailed(_("Processing this file took too long.")) from exc


def _not_media() -> ValidationFailed:
    return ValidationFailed(_("The file is not a video or audio file that can be read."))


def _probe(ffprobe: str, path: Path) -> dict[str, Any]:
    """ffprobe's JSON (``format`` and ``streams``) for ``path``."""
    result = _run([ffprobe, "-v", "error", "-hide_banner", *PROBE_GUARDS,
                   "-print_format", "json", "-show_format", "-show_streams",
                   _input(path)], timeout=PROBE_SECONDS)
    if result.returncode != 0:
        log.info("ffprobe refused %s: %s", path.name, result.stderr[-500:])
        raise _not_media()
    try:
        probed = json.loads(result.stdout)
    except ValueError as exc:
        raise _not_media() from exc
    if not isinstance(probed, dict) or not probed.get("streams"):
        raise _not_media()
    return probed


def _input(path: Path) -> str:
    # An absolute path behind the file: protocol, so no name reads as an option
    # or another protocol.
    return f"file:{path.resolve()}"


def _first(probed: dict[str, Any], codec_type: str) -> dict[str, Any] | None:
    for stream in probed.get("streams", []):
        # Cover art in audio files is a one-picture "video" stream.
        if (stream.get("codec_type") == codec_type
                and not stream.get("disposition", {}).get("attached_pic")):
            return stream
    return None


def _duration(probed: dict[str, Any]) -> float | None:
    candidates = [probed.get("format", {}).get("duration")]
    candidates += [stream.get("duration") for stream in probed.get("streams", [])]
    for value in candidates:
        with contextlib.suppress(TypeError, ValueError):
            return float(value)
    return None


def _rate(stream: dict[str, Any]) -> Fraction | None:
    """The stream's frame rate: the average one, else the container's guess."""
    for key in ("avg_frame_rate", "r_frame_rate"):
        with contextlib.suppress(TypeError, ValueError, ZeroDivisionError):
            rate = Fraction(stream.get(key, ""))
            if rate > 0:
                return rate
    return None


def _source(probed: dict[str, Any], *, kind: str) -> _Source:
    """Check the probe against the limits; the displayed size of the video."""
    video = _first(probed, "video")
    audio = _first(probed, "audio")
    if kind == "audio" and audio is None:
        raise ValidationFailed(_("The file has no sound."))
    duration = _duration(probed)
    limit = settings.TRIBUNE_MEDIA_MAX_VIDEO_SECONDS
    if duration is not None and duration > limit:
        raise ValidationFailed(ngettext("The file is longer than %(limit)d second.",
                                        "The file is longer than %(limit)d seconds.",
                                        limit) % {"limit": limit})
    if kind == "audio":
        return _Source(width=0, height=0, has_audio=True)
    if video is None:
        raise ValidationFailed(_("The file has no video."))
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise _not_media()
    if width * height > MAX_PIXELS:
        raise ValidationFailed(_("The video is larger than 4096x4096 pixels."))
    rate = _rate(video)
    if rate is not None and rate > MAX_FRAME_RATE:
        raise ValidationFailed(_("The video has more than %(limit)d frames a second.")
                               % {"limit": MAX_FRAME_RATE})
    with contextlib.suppress(TypeError, ValueError, ZeroDivisionError):
        aspect = Fraction(video.get("sample_aspect_ratio", "").replace(":", "/"))
        if aspect > 0:
            width = round(width * aspect)
    if _rotation(video) % 180 == 90:
        width, height = height, width
    return _Source(width=width, height=height, has_audio=audio is not None)


def _rotation(stream: dict[str, Any]) -> int:
    """Degrees the player turns the picture (ffmpeg does the same when decoding)."""
    for data in stream.get("side_data_list", []):
        if "rotation" in data:
            with contextlib.suppress(TypeError, ValueError):
                return int(float(data["rotation"]))
    with contextlib.suppress(TypeError, ValueError):
        return int(stream.get("tags", {}).get("rotate", 0))
    return 0


def fit(width: int, height: int, box: tuple[int, int]) -> tuple[int, int]:
    """``width`` x ``height`` scaled down (never up) to fit ``box``, keeping the
    aspect ratio, with even sides of at least 2 (H.264 in 4:2:0 needs them)."""
    scale = min(1.0, box[0] / width, box[1] / height)
    return (max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2))


def _temporary(suffix: str, made: list[Path]) -> Path:
    handle, name = tempfile.mkstemp(prefix="tribune-media-", suffix=suffix)
    os.close(handle)
    made.append(Path(name))
    return Path(name)


def _ffmpeg(args: list[str], *, timeout: int = TRANSCODE_SECONDS) -> None:
    result = _run(args, timeout=timeout)
    if result.returncode != 0:
        log.warning("ffmpeg failed (%s): %s", result.returncode, result.stderr[-1000:])
        raise ValidationFailed(_("The file could not be converted."))


def _video(ffmpeg: str, ffprobe: str, path: Path, source: _Source, *, kind: str,
           made: list[Path]) -> Processed:
    box = BOX if source.width >= source.height else (BOX[1], BOX[0])
    width, height = fit(source.width, source.height, box)
    sound = (["-map", "0:a:0", "-c:a", "aac", "-b:a", "128k"]
             if kind == "video" and source.has_audio else ["-an"])
    output = _temporary(".mp4", made)
    _ffmpeg([
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-threads", THREADS, *INPUT_GUARDS, "-i", _input(path),
        "-t", str(settings.TRIBUNE_MEDIA_MAX_VIDEO_SECONDS),
        "-map", "0:v:0", *sound, "-sn", "-dn", *NO_METADATA,
        "-vf", f"scale={width}:{height},setsar=1,format=yuv420p",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
        "-threads", THREADS, "-movflags", "+faststart", "-f", "mp4", str(output),
    ])
    probed = _probe(ffprobe, output)
    stream = _first(probed, "video")
    if stream is None:
        raise ValidationFailed(_("The file could not be converted."))
    duration = _duration(probed) or 0.0
    width, height = int(stream["width"]), int(stream["height"])
    preview = _preview(ffmpeg, output, size=(width, height), duration=duration, made=made)
    with Image.open(preview) as picture:
        small_width, small_height = picture.size
        hashed = blurhash_of(picture)
    rate = _rate(stream) or Fraction(0)
    original = {
        "width": width, "height": height, "size": f"{width}x{height}",
        "aspect": width / height,
        "frame_rate": f"{rate.numerator}/{rate.denominator}",
        **_timing(probed, duration),
    }
    small = {"width": small_width, "height": small_height,
             "size": f"{small_width}x{small_height}",
             "aspect": small_width / small_height}
    return Processed(
        type="gifv" if kind == "gif" else "video", file=output, extension=".mp4",
        thumbnail=preview, blurhash=hashed,
        meta={"length": _length(duration), "duration": round(duration, 2),
              "original": original, "small": small})


def _audio(ffmpeg: str, ffprobe: str, path: Path, made: list[Path]) -> Processed:
    output = _temporary(".mp3", made)
    _ffmpeg([
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-threads", THREADS, *INPUT_GUARDS, "-i", _input(path),
        "-t", str(settings.TRIBUNE_MEDIA_MAX_VIDEO_SECONDS),
        # Cover art is dropped with the rest: a picture can carry its own metadata.
        "-map", "0:a:0", "-vn", "-sn", "-dn", *NO_METADATA,
        "-c:a", "libmp3lame", "-q:a", "2", "-id3v2_version", "0",
        "-threads", THREADS, "-f", "mp3", str(output),
    ])
    probed = _probe(ffprobe, output)
    duration = _duration(probed) or 0.0
    return Processed(
        type="audio", file=output, extension=".mp3",
        meta={"length": _length(duration), "duration": round(duration, 2),
              "original": _timing(probed, duration)})


def _timing(probed: dict[str, Any], duration: float) -> dict[str, Any]:
    bitrate = 0
    with contextlib.suppress(TypeError, ValueError):
        bitrate = int(probed.get("format", {}).get("bit_rate"))
    return {"duration": round(duration, 2), "bitrate": bitrate}


def _length(seconds: float) -> str:
    """Mastodon's ``length``: "h:mm:ss.cc"."""
    hundredths = round(seconds * 100)
    minutes, hundredths = divmod(hundredths, 6000)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{hundredths // 100:02d}.{hundredths % 100:02d}"


def _preview(ffmpeg: str, video: Path, *, size: tuple[int, int], duration: float,
             made: list[Path]) -> Path:
    """A JPEG frame of the transcoded ``video`` (of ``size``), fitting the preview box.

    The frame is a second in (the first is often black), or earlier in a short
    clip; the JPEG is written by Pillow, so it carries no ffmpeg comment."""
    width, height = fit(*size, (PREVIEW_BOX, PREVIEW_BOX))
    frame = _temporary(".png", made)
    try:
        for at in (min(1.0, duration / 3), 0.0):
            _ffmpeg([
                ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                "-threads", THREADS, *INPUT_GUARDS, "-ss", f"{at:.3f}",
                "-i", _input(video), "-frames:v", "1", "-an", *NO_METADATA,
                "-vf", f"scale={width}:{height}",
                "-f", "image2", "-c:v", "png", str(frame),
            ], timeout=PROBE_SECONDS)
            if frame.stat().st_size > 0:
                break
        else:
            raise ValidationFailed(_("The file could not be converted."))
        preview = _temporary(".jpg", made)
        with Image.open(frame) as picture:
            picture.convert("RGB").save(preview, "JPEG", quality=85, optimize=True)
        return preview
    finally:
        frame.unlink(missing_ok=True)
        made.remove(frame)

