"""Hashing slots (tribune.core.capacity): a full set refuses at once, a thread that
holds a slot may enter again, and a released slot is free for the next."""

from __future__ import annotations

import ast
import contextlib
import os
import sys
import threading
from pathlib import Path

import pytest

from tribune.core.capacity import HASHING_NICENESS, Slots
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


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a nice value per thread is Linux's")
def test_work_runs_on_a_thread_of_lower_priority_and_hands_back_its_result():
    slots = Slots(1)
    mine = _nice()
    with slots.hold():
        theirs, thread = slots.run(lambda: (_nice(), threading.get_native_id()))
    assert theirs == min(19, mine + HASHING_NICENESS)
    assert thread != threading.get_native_id()
    assert _nice() == mine  # the caller keeps its own
    with slots.hold(), pytest.raises(ZeroDivisionError):
        slots.run(lambda: 1 / 0)


def _in_child(work):
    """``work()`` in a forked child; returns its result (a Python literal), or
    fails the test when the child fails."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.write(write, repr(work()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = pipe.read()
    assert os.waitpid(pid, 0)[1] == 0
    return ast.literal_eval(answer), pid


def test_a_forked_child_runs_work_on_threads_of_its_own():
    slots = Slots(1)
    with slots.hold():
        assert slots.run(os.getpid) == os.getpid()  # the parent's threads exist now

    def in_the_child() -> int:  # the parent's threads are gone; work must still run
        with slots.hold():
            return slots.run(os.getpid)

    answer, pid = _in_child(in_the_child)
    assert answer == pid


def _threads_at(nice: int) -> int:
    """This process's threads whose nice value is ``nice`` (proc(5): field 19 of
    /proc/self/task/TID/stat, counted after the parenthesised command name)."""
    count = 0
    for stat in Path("/proc/self/task").glob("*/stat"):
        with contextlib.suppress(FileNotFoundError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            count += int(fields[16]) == nice
    return count


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_password_hashing_runs_on_a_thread_of_lower_priority():
    """In a forked child, whose only thread is the one that forked, so that every
    thread at the lowered priority is one the hashing made."""
    from django.contrib.auth.hashers import check_password, make_password

    lowered = min(19, _nice() + HASHING_NICENESS)

    def hashing() -> tuple[int, bool, bool, int]:
        before = _threads_at(lowered)
        encoded = make_password("a-long-test-passphrase")
        right = check_password("a-long-test-passphrase", encoded)
        wrong = check_password("another-passphrase", encoded)
        return before, right, wrong, _threads_at(lowered)

    (before, right, wrong, after), _pid = _in_child(hashing)
    assert (before, right, wrong) == (0, True, False)
    assert after >= 1


def test_processes_sharing_a_directory_share_the_slots(tmp_path):
    """A slot held by this process is taken for a forked child naming the same
    directory; once given back, the child gets it; a holder that dies without
    giving it back loses it (the kernel drops its locks)."""
    slots = Slots(1, shared=tmp_path / "slots")

    def try_once() -> str:
        mine = Slots(1, shared=tmp_path / "slots")
        try:
            with mine.hold():
                return "held"
        except Overloaded:
            return "refused"

    with slots.hold():
        assert _in_child(try_once)[0] == "refused"
        with slots.hold():  # this thread enters again
            pass
    assert _in_child(try_once)[0] == "held"

    def die_holding() -> None:
        Slots(1, shared=tmp_path / "slots").hold().__enter__()
        os._exit(0)  # no release, as a process that is killed

    pid = os.fork()
    if pid == 0:
        die_holding()
    assert os.waitpid(pid, 0)[1] == 0
    with slots.hold():
        pass


def test_threads_of_one_process_share_slots_of_a_directory(tmp_path):
    slots = Slots(2, shared=tmp_path / "slots")
    threads, release = _held_elsewhere(slots, 2)
    with pytest.raises(Overloaded), slots.hold():
        pass
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    with slots.hold():
        pass


def test_a_waiting_place_gets_the_next_free_slot_and_others_are_refused_at_once():
    """One slot and one waiting place: the second holder waits for the slot and
    gets it once the first gives it back; a third, finding the place taken, is
    refused at once."""
    import time

    slots = Slots(1, waiting=1, wait=5)
    threads, release = _held_elsewhere(slots, 1)
    got, waiting = [], threading.Event()

    def second():
        waiting.set()
        with slots.hold():
            got.append(time.monotonic())

    waiter = threading.Thread(target=second, daemon=True)
    waiter.start()
    waiting.wait(timeout=30)
    time.sleep(0.1)  # the waiter now holds the waiting place
    began = time.monotonic()
    with pytest.raises(Overloaded), slots.hold():
        pass
    assert time.monotonic() - began < 1  # refused without waiting
    assert got == []  # the waiter is still waiting
    released = time.monotonic()
    release.set()
    for thread in [*threads, waiter]:
        thread.join(timeout=30)
    assert len(got) == 1 and got[0] >= released


def test_a_wait_for_a_slot_ends_in_a_refusal_after_its_time(tmp_path):
    """Shared slots (two sets naming one directory stand for two processes): a
    holder-to-be waits ``wait`` seconds for the other's slot, is refused, and
    gives its waiting place back."""
    import time

    one = Slots(1, shared=tmp_path, waiting=1, wait=0.3)
    other = Slots(1, shared=tmp_path, waiting=1, wait=0.3)
    threads, release = _held_elsewhere(one, 1)
    for _ in range(2):  # the place was given back after the first refusal
        began = time.monotonic()
        with pytest.raises(Overloaded), other.hold():
            pass
        assert time.monotonic() - began >= 0.3
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    with other.hold():
        pass


def test_the_hashing_slots_have_as_many_waiting_places_as_slots(settings):
    from tribune.core.capacity import HASHING_WAIT_SECONDS, hashing_slots

    settings.TRIBUNE_HASH_CONCURRENCY = 3
    slots = hashing_slots()
    assert (slots.size, slots.waiting, slots.wait) == (3, 3, HASHING_WAIT_SECONDS)


@pytest.mark.parametrize("shared", [False, True], ids=["one process", "shared directory"])
def test_a_waiter_is_woken_when_a_slot_is_given_back(tmp_path, monkeypatch, shared):
    """The holder that gives a slot back wakes the waiter: with the waiter's own
    look at the slots pushed out to a minute, it still gets the slot as soon as the
    other set (standing for another process when they share a directory) gives
    it back."""
    import time

    from tribune.core import capacity

    monkeypatch.setattr(capacity, "WAIT_POLL_SECONDS", 60)
    folder = tmp_path / "slots" if shared else None
    holder = Slots(1, shared=folder, waiting=1, wait=120)
    waiter_set = Slots(1, shared=folder, waiting=1, wait=120) if shared else holder
    threads, release = _held_elsewhere(holder, 1)
    got, waiting = [], threading.Event()

    def wait_for_it():
        waiting.set()
        with waiter_set.hold():
            got.append(time.monotonic())

    waiter = threading.Thread(target=wait_for_it, daemon=True)
    waiter.start()
    waiting.wait(timeout=30)
    time.sleep(0.2)  # the waiter is asleep on its place's channel
    assert got == []
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    waiter.join(timeout=20)
    assert len(got) == 1, "the waiter was not woken when the slot was given back"
