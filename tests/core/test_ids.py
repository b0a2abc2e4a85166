"""Ids: time-ordered, unique, strictly parsed."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

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
