"""The instance backup archive: a tar file (optionally gzip-compressed) read and
written as a stream, so no member is ever held whole in memory but a table chunk
(a few MiB).

Members, in order (docs/adr/0014-instance-backup.md):

- ``tribune-backup.json``: the header: format, Tribune version, backup id, the
  source database, applied migrations per app, every table's columns and kinds.
- ``secrets.enc``: the instance's secrets, encrypted (``backup_secrets``).
- ``tables/<table>/<n>.jsonl``: a table's rows in primary-key order, one JSON array
  per line, in chunks of a few MiB; the chunks of one table follow each other.
- ``media/<name>``: a file of the default storage, right after the chunk whose rows
  name it.
- ``manifest.json``: the header again with every member's size and SHA-256, rows per
  table and chunk, and per-table and media totals and checksums.
- ``manifest.sha256``: the SHA-256 of ``manifest.json``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from tribune.core.errors import ValidationFailed

# The format this Tribune writes, and the oldest it still reads. Format 1 is the
# first; a reader keeps every format from OLDEST_FORMAT on.
FORMAT = 1
OLDEST_FORMAT = 1
HEADER = "tribune-backup.json"
SECRETS = "secrets.enc"
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
TABLES = "tables/"
MEDIA = "media/"
BLOCK = 1024 * 1024


# What the tar and gzip layers raise for damage they detect while members are read
# (a bad header or CRC, data ending early).
DAMAGE = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


class ArchiveRefused(ValidationFailed):
    """The archive cannot be used: damaged, truncated, from a newer format, or not
    an instance backup at all. ``str()`` is one line for the operator."""


@dataclass
class Progress:
    """How far a long backup, verification or restore has come; handed to the
    caller's ``on_progress`` when a phase begins and after each chunk, file or
    step. A phase over the archive counts ``rows`` and ``bytes``; the others
    (migrate, finish, rebuild) count ``steps`` and name the current ``step``.
    Totals are None while unknown (or unknowable: the rebuild has none)."""

    phase: str  # "backup", "verify", "migrate", "restore", "finish" or "rebuild"
    rows: int = 0
    total_rows: int | None = None
    bytes: int = 0
    total_bytes: int | None = None
    steps: int = 0
    total_steps: int | None = None
    step: str = ""
    started: float = field(default_factory=time.monotonic)


ProgressCallback = Callable[[Progress], None]


def _no_progress(progress: Progress) -> None:
    pass


class _Counting(io.RawIOBase):
    """A file that counts the bytes that pass through it (the archive's size so
    far, for progress)."""

    def __init__(self, raw) -> None:
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n

    def write(self, data) -> int:
        n = self.raw.write(data)
        self.count += n
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


@dataclass
class Member:
    name: str
    size: int
    sha256: str
    rows: int | None = None

    def as_json(self) -> dict:
        data = {"name": self.name, "size": self.size, "sha256": self.sha256}
        if self.rows is not None:
            data["rows"] = self.rows
        return data


class ArchiveWriter:
    """Writes members to ``path`` through a temporary ``path.partial``, renamed into
    place by ``close`` only, so an interrupted backup never leaves a file that looks
    whole. ``compress`` is "gzip" (level 1: most of the gain, a fraction of the
    time) or "none"."""

    def __init__(self, path: Path, *, compress: str) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        # Owner-only from the start: the archive holds every row of the instance.
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.file = _Counting(os.fdopen(fd, "wb"))  # closed in close()
        self.gzip = (gzip.GzipFile(fileobj=self.file, mode="wb", compresslevel=1, mtime=0)
                     if compress == "gzip" else None)
        self.tar = tarfile.open(fileobj=self.gzip or self.file, mode="w|",  # noqa: SIM115
                                format=tarfile.PAX_FORMAT)
        self.members: list[Member] = []
        self.mtime = int(time.time())

    @property
    def bytes_written(self) -> int:
        return self.file.count

    def add_bytes(self, name: str, data: bytes, *, rows: int | None = None) -> Member:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), self.mtime, 0o600
        self.tar.addfile(info, io.BytesIO(data))
        member = Member(name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                        rows=rows)
        self.members.append(member)
        return member

    def add_file(self, name: str, fileobj, size: int, sha256: str) -> Member:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, self.mtime, 0o600
        self.tar.addfile(info, fileobj)
        member = Member(name=name, size=size, sha256=sha256)
        self.members.append(member)
        return member

    def close(self, manifest: dict) -> None:
        manifest["members"] = [m.as_json() for m in self.members]
        data = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
        self.add_bytes(MANIFEST, data)
        self.add_bytes(MANIFEST_SUM, (hashlib.sha256(data).hexdigest() + "\n").encode())
        self.tar.close()
        if self.gzip is not None:
            self.gzip.close()
        self.file.close()
        self.partial.replace(self.path)

    def abort(self) -> None:
        """Drop the partial archive. What the tar and gzip layers still hold goes
        to the null device as they close."""
        self.file.raw.close()
        self.file.raw = open(os.devnull, "wb")  # noqa: SIM115 - closed below
        try:
            self.tar.close()
            if self.gzip is not None:
                self.gzip.close()
        finally:
            self.file.close()
            self.partial.unlink(missing_ok=True)


def _damaged(reason: str) -> ArchiveRefused:
    return ArchiveRefused(_("The archive is damaged or truncated: %(reason)s.")
                          % {"reason": reason})


class ArchiveReader:
    """Reads an archive's members in order, once. Any damage the container itself
    detects (a bad tar header or gzip CRC, the end of the data before the end of
    the archive) is raised as ArchiveRefused."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self.file = _Counting(open(self.path, "rb"))  # noqa: SIM115 - closed in close()
        self.buffered = io.BufferedReader(self.file, BLOCK)
        # tarfile's own gzip stream reader stops at the end of the data without
        # checking the gzip trailer (CRC-32 and length), so a cut that leaves the
        # tar's closing blocks readable would pass; GzipFile checks it at the end.
        source = (gzip.GzipFile(fileobj=self.buffered, mode="rb")
                  if self.buffered.peek(2)[:2] == b"\x1f\x8b" else self.buffered)
        try:
            self.tar = tarfile.open(fileobj=source, mode="r|*")  # noqa: SIM115
        except (*DAMAGE, OSError) as exc:
            self.close()
            raise _damaged(str(exc) or type(exc).__name__) from None

    @property
    def bytes_read(self) -> int:
        return self.file.count

    def members(self) -> Iterator[tuple[tarfile.TarInfo, io.BufferedReader]]:
        """The members in order; after the last, the rest of the container is read
        to its end, so that a gzip stream's own checksum and length are checked (a
        cut gzip trailer or a damaged block after the last member is refused too)."""
        try:
            for info in self.tar:
                if not info.isfile():
                    raise _damaged(f"unexpected entry {info.name!r}")
                yield info, self.tar.extractfile(info)
            stream = getattr(self.tar, "fileobj", None)
            while stream is not None and stream.read(BLOCK):
                pass
        except ArchiveRefused:
            raise
        except (*DAMAGE, OSError) as exc:
            raise _damaged(" ".join(str(exc).split()) or type(exc).__name__) from None

    @staticmethod
    def read_all(info: tarfile.TarInfo, handle) -> bytes:
        data = handle.read()
        if len(data) != info.size:
            raise _damaged(f"{info.name} ends early")
        return data

    def close(self) -> None:
        self.file.close()


def parse_json(name: str, raw: bytes) -> dict:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise _damaged(f"{name} is not JSON") from None
    if not isinstance(data, dict):
        raise _damaged(f"{name} is not a JSON object")
    return data


def check_header(header: dict) -> None:
    """Raise ArchiveRefused unless ``header`` is an instance backup of a format
    this Tribune reads."""
    version = header.get("format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ArchiveRefused(_("This is not a Tribune instance backup."))
    if version < OLDEST_FORMAT:
        raise ArchiveRefused(
            _("The archive is in backup format %(format)s, older than any this Tribune "
              "reads (formats %(oldest)s to %(ours)s).")
            % {"format": version, "oldest": OLDEST_FORMAT, "ours": FORMAT})
    if version > FORMAT:
        raise ArchiveRefused(
            _("The archive is in backup format %(format)s (Tribune %(version)s), newer "
              "than this Tribune reads (format %(ours)s); restore it with Tribune "
              "%(version)s or later.")
            % {"format": version, "version": header.get("tribune_version", "?"),
               "ours": FORMAT})
