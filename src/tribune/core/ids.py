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

With many processes (``TRIBUNE_REDIS_URL`` set: web and task workers on several
machines) the low 16 bits come instead from one counter shared through Redis (INCR),
offset by a keyed hash of the millisecond, as Mastodon's come from a database
sequence: two ids of one millisecond then differ unless 65,536 ids were made in
between, whatever the processes (docs/adr/0011-scale-out.md).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_last_ms = 0
_sequence = 0
_tag = secrets.randbits(8)
_last_id = 0
logger = logging.getLogger(__name__)


def _new_tag() -> None:
    global _tag, _last_ms, _sequence, _last_id
    _tag, _last_ms, _sequence, _last_id = secrets.randbits(8), 0, 0, 0


os.register_at_fork(after_in_child=_new_tag)


def _start(ms: int) -> int:
    """Where the sequence of millisecond ``ms`` starts: 0 to 127, from a keyed hash."""
    digest = hashlib.blake2b(ms.to_bytes(8, "big"), digest_size=1, key=b"tribune-ids")
    return digest.digest()[0] & 0x7F


def _shared_counter() -> int | None:
    """The next value of the counter shared by every process (Redis INCR), or None
    on the embedded default or when Redis cannot be reached."""
    from django.conf import settings

    if not getattr(settings, "TRIBUNE_REDIS_URL", ""):
        return None
    from tribune.core.redis import redis_client

    try:
        return int(redis_client().incr("ids:sequence"))
    except Exception:  # Redis down: fall back on the per-process tag
        logger.warning("ids: the shared counter is unreachable; using the process tag")
        return None


def new_id(at: datetime | None = None) -> int:
    """A new unique id for the current time (or for ``at``, e.g. imported content).

    Within one process ids are strictly increasing. Raises nothing; when a
    millisecond's sequence runs out (128 to 256 ids), it moves on to the next one.
    """
    global _last_ms, _sequence
    if at is None and (counter := _shared_counter()) is not None:
        with _lock:
            ms = max(int(time.time() * 1000), _last_ms)
            # Within one millisecond the low bits differ because the counter does;
            # moving on to a later millisecond (to keep this process's ids
            # increasing) keeps that true, as the offset is the new millisecond's.
            while (value := (ms << 16) | ((_start(ms) * 512 + counter) & 0xFFFF)) <= _last_id:
                ms += 1
            _last_ms = ms
            return _remember(value)
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
            return (ms << 16) | (_tag << 8) | secrets.randbits(8)
        return _remember((ms << 16) | (_tag << 8) | sequence)


def _remember(value: int) -> int:
    global _last_id
    _last_id = max(_last_id, value)
    return value


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The last millisecond an id can hold: ids are signed 64-bit with 16 low bits.
_LAST_MS = 2**47 - 1


def ids_of_millisecond(at: datetime) -> range:
    """Every id millisecond ``at`` (timezone-aware) can have: 65,536 of them, in
    order, its milliseconds since the Unix epoch in the high bits. For content
    whose time is given (imports), where the caller picks the low bits.

    Raises ValueError for a time before the Unix epoch (its id would be negative)
    or past the last millisecond an id can hold (2**47 - 1, in the year 6429).
    """
    ms = (at - _EPOCH) // timedelta(milliseconds=1)
    if not 0 <= ms <= _LAST_MS:
        raise ValueError("time out of the id range")
    return range(ms << 16, (ms + 1) << 16)


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
