"""Ids: time-ordered, unique, strictly parsed."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from tests.redis_service import redis_url_or_skip
from tribune.core.ids import id_to_datetime, new_id, parse_id


def test_ids_increase_and_encode_their_time():
    before = datetime.now(UTC)
    ids = [new_id() for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert abs((id_to_datetime(ids[0]) - before).total_seconds()) < 5
    # Across milliseconds the low bits restart at a hashed offset, not at zero.
    starts = {i & 0xFF for i in {i >> 16: i for i in reversed(ids)}.values()}
    assert len(starts) > 1


def test_ids_fit_64_bits_and_look_like_mastodon_ones():
    value = new_id()
    assert 0 < value < 2**63
    assert len(str(value)) == 18


def test_a_forked_child_draws_its_own_tag():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.write(write, str(new_id()).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = int(os.read(read, 64))
    parent = new_id()
    # Tags are 8 random bits; equal tags are possible, so compare many forks' worth
    # only loosely: at least the child's id is a valid, distinct id.
    assert child != parent and child < 2**63


@pytest.mark.parametrize("value, expected", [("0", 0), ("117702349360703612", 117702349360703612),
                                             (42, 42), (str(2**63 - 1), 2**63 - 1)])
def test_parse_id_accepts_plain_digits(value, expected):
    assert parse_id(value) == expected


@pytest.mark.parametrize("value", ["", " 1", "+1", "-1", "1_0", "１２", "٣", "1e3", "0x10",
                                   "01", str(2**63), "9" * 20, True, None, 1.0, -5, [1]])
def test_parse_id_refuses_everything_else(value):
    with pytest.raises(ValueError):
        parse_id(value)


def test_processes_that_drew_the_same_tag_still_make_distinct_ids_with_redis(settings):
    """Many processes: the low bits come from one shared counter, so even processes
    with the same tag, making ids in the same milliseconds, never collide."""
    import tribune.core.ids as ids

    settings.TRIBUNE_REDIS_URL = redis_url_or_skip(settings)
    children, per_child = 4, 3000
    pipes = []
    for _ in range(children):
        read, write = os.pipe()
        if os.fork() == 0:  # pragma: no cover - runs in the child
            ids._tag = 7  # every child draws the same tag
            made = [new_id() for _ in range(per_child)]
            os.write(write, ",".join(map(str, made)).encode())
            os._exit(0)
        os.close(write)
        pipes.append(read)
    made = []
    for read in pipes:
        chunks = []
        while chunk := os.read(read, 1 << 16):
            chunks.append(chunk)
        made += [int(v) for v in b"".join(chunks).decode().split(",")]
    for _ in range(children):
        os.wait()
    assert len(made) == children * per_child
    assert len(set(made)) == len(made)
    # each child's own ids still increase
    for n in range(children):
        own = made[n * per_child:(n + 1) * per_child]
        assert own == sorted(own)
