"""Time-ordered 64-bit ids in Mastodon's layout.

An id is ``milliseconds since the Unix epoch << 16 | low``, where ``low`` (16 bits) is
not a plain counter: the top 6 bits come from the process id and the lower 10 bits are
a per-millisecond sequence scrambled by an odd multiplier and a keyed hash of the
millisecond, so ids cannot be walked one by one (Mastodon's lib/mastodon/snowflake.rb
does the same with a database sequence). Ids sort by creation time, which makes cursor
pagination and merging feeds cheap.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from datetime import UTC, datetime

_lock = threading.Lock()
_last_ms = 0
_sequence = 0


def _process_tag() -> int:
    return os.getpid() & 0x3F


def _scramble(ms: int, sequence: int) -> int:
    digest = hashlib.blake2b(ms.to_bytes(8, "big"), digest_size=2, key=b"tribune-ids")
    return ((sequence * 0x2F5) ^ int.from_bytes(digest.digest(), "big")) & 0x3FF


def new_id(at: datetime | None = None) -> int:
    """A new unique id for the current time (or for ``at``, e.g. imported content).

    Within one process ids are strictly increasing. Raises nothing; if more than 1024
    ids are asked for in one millisecond, it moves on to the next millisecond.
    """
    global _last_ms, _sequence
    with _lock:
        ms = int((at.timestamp() if at else time.time()) * 1000)
        if at is None:
            if ms <= _last_ms:
                ms = _last_ms
                _sequence += 1
                if _sequence >= 1024:
                    ms += 1
                    _sequence = 0
            else:
                _sequence = 0
            _last_ms = ms
            sequence = _sequence
        else:
            sequence = int.from_bytes(os.urandom(2), "big") & 0x3FF
        return (ms << 16) | (_process_tag() << 10) | _scramble(ms, sequence)


def id_to_datetime(value: int) -> datetime:
    """The creation time encoded in an id (UTC, millisecond precision)."""
    return datetime.fromtimestamp((value >> 16) / 1000, tz=UTC)


def datetime_to_min_id(at: datetime) -> int:
    """The smallest id that could have been made at ``at``; for time-based cursors."""
    return int(at.timestamp() * 1000) << 16


_ID_RE = re.compile(r"[0-9]{1,19}")
MAX_ID = 2**63 - 1


def parse_id(value: object) -> int:
    """An id as clients send it: a JSON integer or a string of ASCII digits, between
    0 and 2**63 - 1. Raises ValueError for anything else (signs, spaces, underscores,
    non-ASCII digits), so ``+1``, ``１`` or ``1_0`` never name a record."""
    if isinstance(value, bool):
        raise ValueError("not an id")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ID_RE.fullmatch(value):
        number = int(value)
    else:
        raise ValueError("not an id")
    if not 0 <= number <= MAX_ID:
        raise ValueError("id out of range")
    return number
