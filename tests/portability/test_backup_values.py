"""Every kind of value has one archive form, whether SQLite's driver or
PostgreSQL's returned it, and goes back to the form each database's Django backend
writes. (The round-trip tests cover the kinds the models use; this covers every
kind the format names.)"""

from __future__ import annotations

import base64
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from tribune.portability.backup_tables import (
    KINDS,
    TableSpec,
    row_reader,
    row_writer,
    table_specs,
)

SPEC = TableSpec(table="t", model="x.T", pk="i",
                 columns=("i", "s", "b", "f", "dt", "d", "tm", "dur", "dec", "u", "by", "j"),
                 kinds=("int", "str", "bool", "float", "datetime", "date", "time", "duration",
                        "decimal", "uuid", "bytes", "json"))
ID = uuid.UUID("12345678-1234-5678-1234-567812345678")
ARCHIVED = [2**62 + 5, "café\n☕", True, 0.1, "2025-01-31T12:00:00.123456+00:00",
            "2025-01-31", "12:00:00.500000", 90_000_001, "12.50",
            "12345678-1234-5678-1234-567812345678", base64.b64encode(b"\x00\xff").decode(),
            '{"a": [1, null]}']


def test_sqlite_values_read_and_written_back():
    raw = (2**62 + 5, "café\n☕", 1, 0.1, "2025-01-31 12:00:00.123456", "2025-01-31",
           "12:00:00.500000", 90_000_001, "12.50", ID.hex, b"\x00\xff", '{"a": [1, null]}')
    assert row_reader(SPEC, vendor="sqlite")(raw) == ARCHIVED
    written = row_writer(SPEC, vendor="sqlite")(list(ARCHIVED))
    assert written == [2**62 + 5, "café\n☕", True, 0.1, "2025-01-31 12:00:00.123456",
                       "2025-01-31", "12:00:00.500000", 90_000_001, "12.50", ID.hex,
                       b"\x00\xff", '{"a": [1, null]}']


def test_postgres_values_read_and_written_back():
    raw = (2**62 + 5, "café\n☕", True, 0.1,
           datetime(2025, 1, 31, 13, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
           date(2025, 1, 31), time(12, 0, 0, 500000), timedelta(seconds=90, microseconds=1),
           Decimal("12.50"), ID, b"\x00\xff", '{"a": [1, null]}')
    assert row_reader(SPEC, vendor="postgresql")(raw) == ARCHIVED
    written = row_writer(SPEC, vendor="postgresql")(list(ARCHIVED))
    assert written[7] == timedelta(seconds=90, microseconds=1)
    assert written[10] == b"\x00\xff"
    assert written[4] == ARCHIVED[4]  # PostgreSQL parses ISO 8601 with its offset


def test_a_whole_second_and_null_keep_their_forms():
    spec = TableSpec(table="t", model="x.T", pk="i", columns=("i", "dt"),
                     kinds=("int", "datetime"))
    assert row_reader(spec, vendor="sqlite")((1, "2025-01-31 12:00:00")) == [
        1, "2025-01-31T12:00:00+00:00"]
    assert row_writer(spec, vendor="sqlite")([1, "2025-01-31T12:00:00+00:00"]) == [
        1, "2025-01-31 12:00:00"]
    assert row_reader(spec, vendor="postgresql")((1, None)) == [1, None]


def test_every_installed_model_has_known_kinds():
    specs = table_specs()
    assert {"statuses_status", "auth_user", "django_content_type",
            "statuses_status_tags"} <= {s.table for s in specs}
    assert "timelines_feedentry" not in {s.table for s in specs}
    assert all(kind in set(KINDS.values()) for s in specs for kind in s.kinds)
    media = next(s for s in specs if s.table == "media_mediaattachment")
    assert set(media.file_columns) == {"upload", "file", "thumbnail"}
