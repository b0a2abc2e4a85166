"""Hashing slots (tribune.core.capacity): a full set refuses at once, a thread that
holds a slot may enter again, and a released slot is free for the next."""

from __future__ import annotations

import threading

import pytest

from tribune.core.capacity import Slots
from tribune.core.errors import Overloaded


def _held_elsewhere(slots: Slots, count: int):
    """Threads that each hold one slot until ``release`` is set."""
    holding, release = threading.Barrier(count + 1), threading.Event()

    def hold():
        with slots.hold():
            holding.wait()
            release.wait()

    threads = [threading.Thread(target=hold, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    holding.wait(timeout=30)
    return threads, release


def test_a_full_set_refuses_at_once_and_frees_up_again():
    slots = Slots(2)
    threads, release = _held_elsewhere(slots, 2)
    with pytest.raises(Overloaded) as refused, slots.hold():
        pass
    assert refused.value.retry_after == 1
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    with slots.hold():
        pass


def test_a_thread_holding_a_slot_enters_again_without_taking_another():
    slots = Slots(2)
    with slots.hold(), slots.hold():  # e.g. a password check, then its re-hash
        threads, release = _held_elsewhere(slots, 1)  # the second slot is still free
        release.set()
        for thread in threads:
            thread.join(timeout=30)
    threads, release = _held_elsewhere(slots, 2)  # both were given back
    release.set()
    for thread in threads:
        thread.join(timeout=30)


def test_a_set_needs_a_slot():
    with pytest.raises(ValueError):
        Slots(0)
