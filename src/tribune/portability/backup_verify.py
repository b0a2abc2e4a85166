"""Checking an instance backup without restoring it (``tribune backup --verify``),
and the first pass of every restore: nothing is written before it passes.

Besides the checksums, every row is checked against the schema it will be loaded
into, and its references against the archive's other rows (``backup_rows``), and
the media files each chunk's rows name must follow that chunk, unless the
manifest lists them as deleted while the backup ran."""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from tribune.portability.backup_archive import (
    BLOCK,
    DAMAGE,
    HEADER,
    MANIFEST,
    MANIFEST_SUM,
    MEDIA,
    SECRETS,
    TABLES,
    ArchiveReader,
    ArchiveRefused,
    Member,
    Progress,
    ProgressCallback,
    _damaged,
    _no_progress,
    check_header,
    parse_json,
)
from tribune.portability.backup_rows import RowChecker
from tribune.portability.backup_secrets import secrets_open


@dataclass
class Verified:
    """An archive that passed every check: its ``manifest``, row counts per table,
    media files and bytes, and the decrypted ``secrets`` when a passphrase was
    given."""

    manifest: dict
    rows: dict[str, int] = field(default_factory=dict)
    media_files: int = 0
    media_bytes: int = 0
    secrets: dict | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def archive_verify(*, path: Path, passphrase: str | None = None,
                   on_header: Callable[[dict], None] | None = None,
                   on_progress: ProgressCallback = _no_progress) -> Verified:
    """Read the whole archive at ``path`` and check it: the header's format, every
    member's size and SHA-256 against the manifest (none missing, none extra, in
    order), rows per table and the per-table and media checksums, the manifest's
    own checksum, every row against the archive's schema and references
    (``backup_rows.RowChecker``), and every media file its rows name. With
    ``passphrase``, the secrets are decrypted too. ``on_header(header)`` is called
    as soon as the header is read, so a caller can refuse an archive before
    reading the rest.

    Raises ArchiveRefused (one line) for anything wrong, ValidationFailed for a
    wrong passphrase.
    """
    reader = ArchiveReader(path)
    progress = Progress(phase="verify", total_bytes=reader.size)
    seen: list[Member] = []
    table_sums: dict[str, hashlib._Hash] = {}
    rows: dict[str, int] = {}
    media_sum = hashlib.sha256()
    media_files = media_bytes = 0
    header = manifest = manifest_bytes = manifest_sum = None
    secrets = None
    checker: RowChecker | None = None
    # A problem with the rows waits for the checksums: damage is told as damage.
    problem: ArchiveRefused | None = None
    expected: deque[str] = deque()  # media names the last chunk's rows hold, not yet seen
    absent: list[str] = []  # media names no member followed their chunk with
    try:
        for info, handle in reader.members():
            name = info.name
            if header is None:
                if name != HEADER:
                    raise ArchiveRefused(_("This is not a Tribune instance backup."))
                raw = ArchiveReader.read_all(info, handle)
                header = parse_json(info.name, raw)
                check_header(header)
                if on_header is not None:
                    on_header(header)
                checker = RowChecker.for_header(header)
                seen.append(_member_of(info, hashlib.sha256(raw), None))
                continue
            if manifest_sum is not None:
                raise _damaged(f"unexpected member {name!r} after the manifest")
            if not name.startswith(MEDIA):
                absent.extend(expected)
                expected.clear()
            if name == MANIFEST:
                manifest_bytes = ArchiveReader.read_all(info, handle)
                continue
            if name == MANIFEST_SUM:
                manifest_sum = ArchiveReader.read_all(info, handle).decode("ascii", "replace")
                continue
            if manifest_bytes is not None:
                raise _damaged(f"unexpected member {name!r} after the manifest")
            if name.startswith(TABLES):
                data = ArchiveReader.read_all(info, handle)
                table = name[len(TABLES):].rsplit("/", 1)[0]
                table_sums.setdefault(table, hashlib.sha256()).update(data)
                count = data.count(b"\n")
                rows[table] = rows.get(table, 0) + count
                seen.append(_member_of(info, hashlib.sha256(data), count))
                progress.rows += count
                if checker is not None and problem is None:
                    try:
                        expected.extend(checker.chunk(name, table, data))
                    except ArchiveRefused as exc:
                        problem = exc
            elif name.startswith(MEDIA):
                digest = hashlib.sha256()
                while block := handle.read(BLOCK):
                    digest.update(block)
                    media_sum.update(block)
                    media_bytes += len(block)
                media_files += 1
                seen.append(_member_of(info, digest, None))
                file_name = name[len(MEDIA):]
                while expected and expected[0] != file_name:
                    absent.append(expected.popleft())
                if expected:
                    expected.popleft()
                elif problem is None:
                    problem = _damaged(f"media file {file_name!r} is not named by the rows "
                                       f"before it")
            elif name == SECRETS:
                data = ArchiveReader.read_all(info, handle)
                seen.append(_member_of(info, hashlib.sha256(data), None))
                if passphrase is not None:
                    secrets = secrets_open(envelope=data, passphrase=passphrase)
            else:
                raise _damaged(f"unexpected member {name!r}")
            progress.bytes = reader.bytes_read
            on_progress(progress)
    except DAMAGE as exc:
        raise _damaged(" ".join(str(exc).split()) or type(exc).__name__) from None
    finally:
        reader.close()
    if header is None:
        raise _damaged("it is empty")
    if manifest_bytes is None or manifest_sum is None:
        raise _damaged("the manifest is missing")
    if hashlib.sha256(manifest_bytes).hexdigest() != manifest_sum.strip():
        raise _damaged("the manifest's checksum does not match")
    manifest = _parse_manifest(manifest_bytes)
    if (any(manifest.get(key) != header.get(key) for key in ("format", "backup_id",
                                                             "migrations"))
            or _layouts(manifest) != _layouts(header)):
        # The restore loads by the manifest what was checked by the header.
        raise _damaged("the manifest belongs to another backup than its header")
    _compare(manifest, seen, rows, table_sums)
    if problem is not None:
        raise problem
    checker.finish()
    deleted = set(manifest.get("media", {}).get("missing") or ())
    for file_name in absent:
        if file_name not in deleted:
            raise _incomplete(file_name)
    media = manifest.get("media", {})
    if media.get("files") != media_files or media.get("sha256") != media_sum.hexdigest():
        raise _damaged("the media files do not match their checksum")
    if passphrase is not None and secrets is None:
        raise _damaged(f"{SECRETS} is missing")
    progress.bytes = progress.total_bytes
    on_progress(progress)
    return Verified(manifest=manifest, rows=rows, media_files=media_files,
                    media_bytes=media_bytes, secrets=secrets)


def _member_of(info, digest, rows: int | None) -> Member:
    return Member(name=info.name, size=info.size, sha256=digest.hexdigest(), rows=rows)


def _layouts(document: dict) -> dict | None:
    """Each table's columns, kinds, key and file columns in a header or manifest."""
    tables = document.get("tables")
    if not isinstance(tables, dict):
        return None
    return {table: [spec.get(key) for key in ("columns", "kinds", "pk", "file_columns")]
            if isinstance(spec, dict) else None for table, spec in tables.items()}


def _parse_manifest(data: bytes) -> dict:
    manifest = parse_json(MANIFEST, data)
    if not isinstance(manifest.get("members"), list):
        raise _damaged("the manifest lists no members")
    return manifest


def _incomplete(file_name: str) -> ArchiveRefused:
    return ArchiveRefused(_("The archive is incomplete: the media file %(name)s is "
                            "missing from it.") % {"name": file_name})


def _missing(want: dict) -> ArchiveRefused:
    name = str(want.get("name"))
    if name.startswith(MEDIA):
        return _incomplete(name[len(MEDIA):])
    return _damaged(f"member {name!r} is missing")


def _compare(manifest: dict, seen: list[Member], rows: dict[str, int],
             table_sums: dict) -> None:
    expected = manifest["members"]
    for index, want in enumerate(expected):
        if index >= len(seen):
            raise _missing(want)
        got = seen[index]
        if got.name != want.get("name"):
            listed = {m.get("name") for m in expected}
            if got.name not in listed:
                raise _damaged(f"member {got.name!r} is not in the manifest")
            raise _missing(want)
        if got.size != want.get("size") or got.sha256 != want.get("sha256"):
            raise _damaged(f"member {got.name!r} does not match its checksum")
        if want.get("rows") is not None and got.rows != want["rows"]:
            raise _damaged(f"member {got.name!r} has {got.rows} rows, not {want['rows']}")
    if len(seen) > len(expected):
        raise _damaged(f"member {seen[len(expected)].name!r} is not in the manifest")
    for table, spec in manifest.get("tables", {}).items():
        if rows.get(table, 0) != spec.get("rows"):
            raise _damaged(f"table {table} has {rows.get(table, 0)} rows, not {spec.get('rows')}")
        digest = table_sums[table].hexdigest() if table in table_sums else _EMPTY
        if digest != spec.get("sha256"):
            raise _damaged(f"table {table} does not match its checksum")
    if set(rows) - set(manifest.get("tables", {})):
        raise _damaged("the archive holds a table its manifest does not list")


_EMPTY = hashlib.sha256(b"").hexdigest()
