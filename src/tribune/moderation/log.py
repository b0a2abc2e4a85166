"""The moderation log: append-only and hash-chained.

Each entry stores the hash of the one before it; ``hash = sha256(prev_hash ||
canonical JSON of the entry's fields)``. Editing, deleting, inserting or reordering
any entry breaks the chain from that point, which :func:`verify_log` reports.
No code path updates or deletes an entry; the chain is what proves it, even
against someone with write access to the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tribune.moderation.models import LogEntry, LogHead

GENESIS = "0" * 64


def _digest(prev_hash: str, *, seq: int, created_at: datetime, actor_id: int | None,
            actor_kind: str, action: str, target_type: str, target_id: int,
            case_id: int | None, payload: dict) -> str:
    body = json.dumps({
        "seq": seq, "created_at": created_at.isoformat(timespec="microseconds"),
        "actor_id": actor_id, "actor_kind": actor_kind, "action": action,
        "target_type": target_type, "target_id": target_id, "case_id": case_id,
        "payload": payload,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def log_append(*, action: str, target_type: str, target_id: int, actor_id: int | None = None,
               actor_kind: str = "human", case_id: int | None = None,
               payload: dict | None = None) -> LogEntry:
    """Append one entry and return it. Must run inside the transaction that makes
    the change it records (so both commit or neither); it locks the chain's head
    row, so concurrent writers get consecutive ``seq`` numbers.

    ``payload`` must be JSON-serialisable (ids as strings or ints, times as ISO text).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("log_append must run inside the transaction it records")
    head, _created = LogHead.objects.select_for_update().get_or_create(pk=1)
    payload = payload or {}
    seq = head.seq + 1
    # Microsecond precision is what both SQLite and PostgreSQL store.
    created_at = timezone.now()
    digest = _digest(head.hash, seq=seq, created_at=created_at, actor_id=actor_id,
                     actor_kind=actor_kind, action=action, target_type=target_type,
                     target_id=target_id, case_id=case_id, payload=payload)
    entry = LogEntry.objects.create(
        seq=seq, created_at=created_at, actor_id=actor_id, actor_kind=actor_kind,
        action=action, target_type=target_type, target_id=target_id, case_id=case_id,
        payload=payload, prev_hash=head.hash, hash=digest)
    LogHead.objects.filter(pk=1).update(seq=seq, hash=digest)
    return entry


@dataclass(frozen=True)
class LogCheck:
    """The outcome of :func:`verify_log`: ``entries`` checked; ``first_bad_seq`` is
    the first entry whose link or content does not match (None when intact), with
    ``problem`` saying what is wrong."""

    entries: int
    first_bad_seq: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


def _entries(batch: int = 2000) -> Iterator[LogEntry]:
    last = 0
    while True:
        rows = list(LogEntry.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify_log() -> LogCheck:
    """Recompute the chain from the first entry (in batches; memory stays flat) and
    compare it with the stored hashes and the head row."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for entry in _entries():
        count += 1
        if entry.seq != expected_seq:
            return LogCheck(count, expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev_hash:
            return LogCheck(count, entry.seq, "the link to the previous entry is broken")
        digest = _digest(prev_hash, seq=entry.seq, created_at=entry.created_at,
                         actor_id=entry.actor_id, actor_kind=entry.actor_kind,
                         action=entry.action, target_type=entry.target_type,
                         target_id=entry.target_id, case_id=entry.case_id,
                         payload=entry.payload)
        if digest != entry.hash:
            return LogCheck(count, entry.seq, "the entry was changed after it was written")
        prev_hash, expected_seq = entry.hash, expected_seq + 1
    head = LogHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if (head_seq, head_hash) != (expected_seq - 1, prev_hash):
        return LogCheck(count, expected_seq, "entries after the last one were deleted")
    return LogCheck(count)
