"""Reading archives people upload (zip, or gzip tar for older Mastodon archives)
without trusting them.

Nothing is ever extracted to disk: members are read by name into memory or copied
into a temporary file, each within a byte limit. An archive is refused before
anything is read from it when it has more than ``MAX_MEMBERS`` members, when its
members add up to more than ``unpacked_limit()`` bytes (a zip bomb declares its
sizes; Python's zipfile then stops at the declared size and checks the CRC), when
a name is absolute, climbs out with ``..``, uses backslashes or holds a NUL, or
when a name occurs twice. In a tar, only regular files count; links and devices
are left out as if absent. JSON members are parsed with ``parse_json``, which
refuses a document nested too deeply to read rather than exhausting the stack.
"""

from __future__ import annotations

import json
import logging
import posixpath
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from tribune.core.errors import ValidationFailed

logger = logging.getLogger(__name__)

MAX_MEMBERS = 100_000
# Unpacked, an archive may be this many times as large as the largest archive
# accepted (media files hardly compress; JSON compresses about ten times).
UNPACK_RATIO = 4
_CHUNK = 1024 * 1024


class ArchiveError(ValidationFailed):
    """The archive cannot be read, or breaks a limit; the message says which."""


class NestedTooDeeply(ArchiveError):
    """A JSON member nests deeper than the parser can follow."""


def unpacked_limit() -> int:
    return settings.TRIBUNE_IMPORT_MAX_ARCHIVE_BYTES * UNPACK_RATIO


def parse_json(text: str | bytes, name: str) -> Any:
    """The JSON value of member ``name``'s ``text``. Raises ArchiveError naming the
    member when it is not JSON (nor UTF-8), or nests arrays and objects deeper than
    Python's parser can follow (it would raise RecursionError: no archive of ours
    or Mastodon's comes near)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise NestedTooDeeply(_("%(name)s in the archive is nested too deeply to be read.")
                           % {"name": name[:200]}) from None
    except (ValueError, UnicodeDecodeError):
        raise ArchiveError(_("%(name)s in the archive is not valid JSON.")
                           % {"name": name[:200]}) from None


def _check_name(name: str) -> str:
    if (not name or "\x00" in name or "\\" in name or name.startswith("/")
            or (len(name) > 1 and name[1] == ":")
            or ".." in name.split("/")):
        raise ArchiveError(_("The archive contains a file with a name that is not "
                             "allowed: %(name)s") % {"name": name[:200]})
    return posixpath.normpath(name)


class Archive:
    """A checked zip or tar.gz, its members by name (``names``), read with
    ``read`` or ``copy``. Use as a context manager."""

    def __init__(self, path: Path):
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._members: dict[str, zipfile.ZipInfo | tarfile.TarInfo] = {}
        with path.open("rb") as handle:
            magic = handle.read(4)
        try:
            if magic.startswith(b"PK"):
                self._zip = zipfile.ZipFile(path)
                self._index(self._zip.infolist())
            elif magic.startswith(b"\x1f\x8b"):
                self._tar = tarfile.open(path, "r:gz")  # noqa: SIM115 (closed by close())
                self._index_tar(self._tar)
            else:
                raise ArchiveError(_("The file is not a zip or tar.gz archive."))
        except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError) as exc:
            self.close()
            raise ArchiveError(_("The archive cannot be read: %(reason)s")
                               % {"reason": str(exc)[:200] or type(exc).__name__}) from None
        except BaseException:
            self.close()
            raise

    def _add(self, name: str, info, size: int, total: int) -> int:
        if len(self._members) >= MAX_MEMBERS:
            raise ArchiveError(_("The archive has more than %(count)d files.")
                               % {"count": MAX_MEMBERS})
        total += size
        if total > unpacked_limit():
            raise ArchiveError(_("The archive would unpack to more than %(limit)s.")
                               % {"limit": filesizeformat(unpacked_limit())})
        name = _check_name(name)
        if name in self._members:
            raise ArchiveError(_("The archive contains %(name)s twice.") % {"name": name[:200]})
        self._members[name] = info
        return total

    def _index(self, infos: list[zipfile.ZipInfo]) -> None:
        total = 0
        for info in infos:
            if info.is_dir():
                _check_name(info.filename.rstrip("/"))
                continue
            total = self._add(info.filename, info, info.file_size, total)

    def _index_tar(self, tar: tarfile.TarFile) -> None:
        # One member at a time, so a gzip bomb is refused at the member that
        # goes past the limit rather than after decompressing all of it.
        total = 0
        while (info := tar.next()) is not None:
            if info.isfile():
                total = self._add(info.name, info, info.size, total)
            else:
                _check_name(info.name.rstrip("/") or ".")

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for handle in (self._zip, self._tar):
            if handle is not None:
                handle.close()

    @property
    def names(self) -> list[str]:
        return list(self._members)

    def size(self, name: str) -> int:
        info = self._members[name]
        return info.file_size if isinstance(info, zipfile.ZipInfo) else info.size

    @property
    def _folder(self) -> str:
        """``"name/"`` when every member is under that one top folder (an archive
        re-packed with its folder), else ""."""
        if not hasattr(self, "_top"):
            tops = {n.split("/", 1)[0] for n in self._members}
            single = len(tops) == 1 and all("/" in n for n in self._members)
            self._top = f"{tops.pop()}/" if single else ""
        return self._top

    def locate(self, *candidates: str) -> str | None:
        """The member name of the first of ``candidates`` present, at the top or
        under the archive's one top folder, else None."""
        for candidate in candidates:
            for name in (candidate, self._folder + candidate if self._folder else None):
                if name and name in self._members:
                    return name
        return None

    def _open(self, name: str) -> IO[bytes]:
        info = self._members[name]
        if self._zip is not None:
            return self._zip.open(info)  # type: ignore[arg-type]
        handle = self._tar.extractfile(info)  # type: ignore[union-attr,arg-type]
        if handle is None:  # pragma: no cover - only regular files are indexed
            raise ArchiveError(_("The archive cannot be read."))
        return handle

    def read(self, name: str, *, limit: int) -> bytes:
        """Member ``name``'s bytes; ArchiveError past ``limit`` bytes or when the
        member is corrupt (KeyError for an unknown name)."""
        if self.size(name) > limit:
            raise self._too_large(name, limit)
        try:
            with self._open(name) as handle:
                data = handle.read(limit + 1)
        except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError,
                ValueError) as exc:
            raise self._damaged(name, exc) from None
        if len(data) > limit:
            raise self._too_large(name, limit)
        return data

    def copy(self, name: str, out: BinaryIO, *, limit: int) -> int:
        """Copy member ``name`` into ``out``; returns the bytes copied. Raises
        ArchiveError past ``limit`` bytes or for a corrupt member."""
        if self.size(name) > limit:
            raise self._too_large(name, limit)
        copied = 0
        try:
            with self._open(name) as handle:
                while chunk := handle.read(_CHUNK):
                    copied += len(chunk)
                    if copied > limit:
                        raise self._too_large(name, limit)
                    out.write(chunk)
        except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError,
                ValueError) as exc:
            raise self._damaged(name, exc) from None
        return copied

    @staticmethod
    def _damaged(name: str, exc: Exception) -> ArchiveError:
        # The library's words (a CRC, a zlib error code) help an operator, not the
        # person: logged, and the message says what it means for them.
        logger.info("archive member %s unreadable: %r", name, exc)
        return ArchiveError(_("%(name)s in the archive is damaged and cannot be read.")
                            % {"name": name[:200]})

    @staticmethod
    def _too_large(name: str, limit: int) -> ArchiveError:
        return ArchiveError(_("%(name)s in the archive is larger than %(limit)s.")
                            % {"name": name[:200], "limit": filesizeformat(limit)})
