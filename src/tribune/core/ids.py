"""Time-ordered 64-bit ids in Mastodon's layout.

An id is ``milliseconds since the Unix epoch << 16 | low``, where ``low`` (16 bits) is
not a plain counter: the top 8 bits are a tag drawn at random for each process (again
after a fork), the lower 8 bits a per-millisecond sequence that starts at an offset
from a keyed hash of the millisecond, so ids cannot be walked from one millisecond to
the next (Mastodon's
lib/mastodon/snowflake.rb does the same with a database sequence). Ids sort by
creation time, which makes cursor pagination and merging feeds cheap. Two processes
can make the same id only if they drew the same tag and hit the same millisecond and
sequence slot; docs/adr/0005-ids-and-feeds.md weighs that.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
from datetime import UTC, datetime

_lock = threading.Lock()
_last_ms = 0
_sequence = 0
_tag = secrets.randbits(8)


def _new_tag() -> None:
    global _tag, _last_ms, _sequence
    _tag, _last_ms, _sequence = secrets.randbits(8), 0, 0


os.register_at_fork(after_in_child=_new_tag)


def _start(ms: int) -> int:
    """Where the sequence of millisecond ``ms`` starts: 0 to 127, from a keyed hash."""
    digest = hashlib.blake2b(ms.to_bytes(8, "big"), digest_size=1, key=b"tribune-ids")
    return digest.digest()[0] & 0x7F


def new_id(at: datetime | None = None) -> int:
    """A new unique id for the current time (or for ``at``, e.g. imported content).

    Within one process ids are strictly increasing. Raises nothing; when a
    millisecond's sequence runs out (128 to 256 ids), it moves on to the next one.
    """
    global _last_ms, _sequence
    with _lock:
        ms = int((at.timestamp() if at else time.time()) * 1000)
        if at is None:
            if ms <= _last_ms:
                ms = _last_ms
                _sequence += 1
                if _sequence > 0xFF:
                    ms += 1
                    _sequence = _start(ms)
            else:
                _sequence = _start(ms)
            _last_ms = ms
            sequence = _sequence
        else:
            sequence = secrets.randbits(8)
        return (ms << 16) | (_tag << 8) | sequence


def id_to_datetime(value: int) -> datetime:
    """The creation time encoded in an id (UTC, millisecond precision)."""
    return datetime.fromtimestamp((value >> 16) / 1000, tz=UTC)


def datetime_to_min_id(at: datetime) -> int:
    """The smallest id that could have been made at ``at``; for time-based cursors."""
    return int(at.timestamp() * 1000) << 16


_ID_RE = re.compile(r"0|[1-9][0-9]{0,18}")
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
