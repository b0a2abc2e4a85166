"""Instance backups changed the way a careful forger (or a bug) would: members
rewritten, then every size, row count and checksum of the manifest made to match,
so that only the checks of the rows themselves can tell."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

Change = Callable[[str, bytes], "bytes | None"]


def resealed(source: Path, target: Path, change: Change,
             manifest_change: Callable[[dict], None] | None = None) -> None:
    """Copy the uncompressed archive ``source`` to ``target``, each member through
    ``change(name, data)`` (None leaves it out), with a manifest recomputed for
    what was written (then passed to ``manifest_change``) and its checksum."""
    with tarfile.open(source) as old:
        members = [(info, old.extractfile(info).read()) for info in old]
    manifest = json.loads(next(d for i, d in members if i.name == "manifest.json"))
    kept = []
    for info, data in members:
        if info.name in ("manifest.json", "manifest.sha256"):
            continue
        data = change(info.name, data)
        if data is not None:
            kept.append((info, data))
    entries, tables = [], {t: hashlib.sha256() for t in manifest["tables"]}
    counts = dict.fromkeys(manifest["tables"], 0)
    media_sum, media_files, media_bytes = hashlib.sha256(), 0, 0
    for info, data in kept:
        entry = {"name": info.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        if info.name.startswith("tables/"):
            table = info.name.split("/")[1]
            entry["rows"] = data.count(b"\n")
            tables[table].update(data)
            counts[table] += entry["rows"]
        elif info.name.startswith("media/"):
            media_sum.update(data)
            media_files += 1
            media_bytes += len(data)
        entries.append(entry)
    manifest["members"] = entries
    for table, spec in manifest["tables"].items():
        spec["rows"], spec["sha256"] = counts[table], tables[table].hexdigest()
    manifest["media"].update(files=media_files, bytes=media_bytes, sha256=media_sum.hexdigest())
    if manifest_change is not None:
        manifest_change(manifest)
    data = json.dumps(manifest, indent=1, sort_keys=True).encode()
    kept += [(tarfile.TarInfo("manifest.json"), data),
             (tarfile.TarInfo("manifest.sha256"),
              (hashlib.sha256(data).hexdigest() + "\n").encode())]
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as new:
        for info, data in kept:
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))


def header_of(path: Path) -> dict:
    with tarfile.open(path) as tar:
        return json.load(tar.extractfile("tribune-backup.json"))


def rows_changed(path: Path, table: str,
                 change: Callable[[list[str], list[list]], list[list]]) -> Change:
    """A ``Change`` that gives the rows of ``table`` (as lists, with the column
    names) to ``change`` and writes back what it returns."""
    columns = header_of(path)["tables"][table]["columns"]

    def apply(name: str, data: bytes) -> bytes:
        if not name.startswith(f"tables/{table}/"):
            return data
        rows = [json.loads(line) for line in data.decode().splitlines()]
        rows = change(columns, rows)
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
    return apply


def set_value(path: Path, table: str, column: str, value, *, row: int = 0) -> Change:
    """A ``Change`` setting ``column`` of the ``row``-th row of ``table``."""
    def change(columns, rows):
        rows[row][columns.index(column)] = value
        return rows
    return rows_changed(path, table, change)
