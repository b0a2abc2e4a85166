"""Bounded concurrency for CPU-bound work on one machine: password hashing.

An Argon2id hashing at OWASP's parameters (``accounts.hashers``) keeps one core
busy for tens of milliseconds and holds 19 MiB. Under a burst of sign-ups or
sign-ins, requests that each need one would queue behind each other in the web
server's threads until clients time out, and slow every other request sharing
those cores. So the instance's processes on one machine admit at most
``settings.TRIBUNE_HASH_CONCURRENCY`` hashings at once between them (slots shared
through lock files); one that finds no free slot is refused at once with
``core.errors.Overloaded``, which each interface answers with 503 and
``Retry-After``. Nothing else takes a slot, so reads are served whatever the load.

The hashing itself runs in threads of the slots' own (``Slots.run``) whose nice
value is ``HASHING_NICENESS`` higher than the process's: when the cores are free
the hashings take them all, and when reads, refusals or anything else wants a
core, the kernel gives it to them first. Without it, a surge of sign-ups kept
every core hashing, and reads and the 503s themselves waited behind it. (Linux
keeps a nice value per thread, setpriority(2); elsewhere the threads keep the
process's.)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import select
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.utils.translation import gettext as _

from tribune.core.errors import Overloaded

# How much lower the hashing threads' scheduling priority is than the process's:
# nice 10 has about a tenth of the weight of nice 0 under Linux's scheduler (CFS),
# so a busy core spends about nine tenths of its time on the other work.
HASHING_NICENESS = 10

# A hashing that finds every slot busy may wait for one in one of as many
# waiting places as there are slots, for the time of a few hashings under load
# (each 20 to 40 ms on a busy core): the last waiter in line waits for two to end.
# The places bound how many request threads wait, whatever the wait.
HASHING_WAIT_SECONDS = 0.25
# A holder that gives a slot back wakes the waiters at once (``Slots._wake``); a
# waiter also looks at the slots this often, which only matters when a process
# died holding one (the kernel frees its lock, but nobody wakes anyone).
WAIT_POLL_SECONDS = 0.01

# How much lower a task worker's priority is than the web server's: background
# work (fan-out, deliveries, notifications) gives way to the requests people wait
# for, and takes every idle cycle (nice 5 has about a third of nice 0's weight).
TASK_NICENESS = 5

T = TypeVar("T")


def _lower_priority() -> None:
    """Raise the calling thread's nice value by ``HASHING_NICENESS`` (capped at 19,
    as the kernel does). Raising needs no privilege; lowering it again would, so
    only threads that do nothing else are given it."""
    with contextlib.suppress(AttributeError, OSError):  # no per-thread nice here
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid,
                       min(19, os.getpriority(os.PRIO_PROCESS, tid) + HASHING_NICENESS))


def lower_process_priority(by: int) -> None:
    """Raise this process's nice value by ``by`` (capped at 19 by the kernel), for
    itself and the processes and threads it starts later. Nothing happens where
    the platform has no nice values."""
    with contextlib.suppress(AttributeError, OSError):
        os.nice(by)


class Slots:
    """At most ``size`` holders at once: ``hold()`` takes a slot or raises
    ``Overloaded``. A thread that already holds one may enter again without taking
    another, so a sign-in that verifies a password and then re-hashes it with
    newer parameters holds one slot throughout.

    When every slot is taken, at most ``waiting`` holders-to-be wait for one, each
    for at most ``wait`` seconds; anyone beyond them is refused at once. A waiter
    sleeps on a wake-up channel of its waiting place (a FIFO in the shared
    directory, else a pipe), into which every holder giving a slot back writes a
    byte: the slot is taken again within a wake-up, where looking every
    millisecond cost each waiter 3 % of a core and left a freed slot idle for half
    a millisecond on average. A steady stream of sign-ups a little above
    what the slots can start at one instant is then served without 503s, while a
    surge is still refused at once and keeps at most ``waiting`` request threads
    waiting.

    With ``shared`` (a directory), the slots are shared by every process that
    names that directory, as one lock file per slot (flock(2), released by the
    kernel when a process dies): a machine's web processes then hash at most
    ``size`` passwords at once between them, and none refuses while another
    leaves a slot free. Without it they are this process's own."""

    def __init__(self, size: int, shared: Path | None = None, *, waiting: int = 0,
                 wait: float = 0.0):
        if size < 1:
            raise ValueError("a Slots needs at least one slot")
        if waiting < 0 or wait < 0:
            raise ValueError("waiting places and the wait cannot be negative")
        self.size = size
        self.shared = shared
        self.waiting = waiting
        self.wait = wait
        self._taken = [threading.Lock() for _ in range(size)]  # by this process's threads
        self._waiting = [threading.Lock() for _ in range(waiting)]
        self._files: list[int] = []
        self._waiting_files: list[int] = []
        self._files_pid = 0
        self._wakes: list[tuple[int, int]] = []  # (read, write) per waiting place
        self._wakes_pid = 0
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._pool_lock = threading.Lock()

    def _lock_files(self) -> list[int]:
        """This process's descriptors of the slots' lock files, opened anew after a
        fork: a descriptor inherited from the parent shares the parent's lock."""
        with self._pool_lock:
            if self._files_pid != os.getpid():
                self.shared.mkdir(mode=0o700, parents=True, exist_ok=True)
                def opened(name: str) -> int:
                    return os.open(self.shared / name, os.O_RDWR | os.O_CREAT, 0o600)

                self._files = [opened(f"hashing-{n}.lock") for n in range(self.size)]
                self._waiting_files = [opened(f"waiting-{n}.lock") for n in range(self.waiting)]
                self._files_pid = os.getpid()
            return self._files

    def _wake_channels(self) -> list[tuple[int, int]]:
        """This process's (read, write) descriptors of each waiting place's wake-up
        channel, non-blocking: a FIFO in the shared directory, opened for reading
        and writing so that opening never blocks and it always has both ends, or
        a pipe of this set's own without one. Opened anew after a fork, like the
        lock files."""
        with self._pool_lock:
            if self._wakes_pid != os.getpid():
                channels = []
                for number in range(self.waiting):
                    if self.shared is None:
                        read, write = os.pipe()
                        os.set_blocking(read, False)
                        os.set_blocking(write, False)
                        channels.append((read, write))
                        continue
                    self.shared.mkdir(mode=0o700, parents=True, exist_ok=True)
                    path = self.shared / f"waiting-{number}.fifo"
                    with contextlib.suppress(FileExistsError):
                        os.mkfifo(path, 0o600)
                    both = os.open(path, os.O_RDWR | os.O_NONBLOCK)
                    channels.append((both, both))
                self._wakes = channels
                self._wakes_pid = os.getpid()
            return self._wakes

    def _wake(self) -> None:
        """Tell every waiting place that a slot was given back (a byte each; a full
        channel already has its waiter's attention)."""
        for _read, write in self._wake_channels():
            with contextlib.suppress(OSError):  # full: BlockingIOError
                os.write(write, b"\0")

    @staticmethod
    def _drain(read: int) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(read, 4096):
                pass

    def _take(self, locks: list[threading.Lock] | None = None) -> int | None:
        """The number of a slot (or, with ``locks=self._waiting``, of a waiting
        place) now held by this thread, or None when all are taken."""
        locks = self._taken if locks is None else locks
        if self.shared is not None:
            self._lock_files()
            files = self._files if locks is self._taken else self._waiting_files
        else:
            files = None
        for number, taken in enumerate(locks):
            if not taken.acquire(blocking=False):
                continue
            if files is None:
                return number
            try:
                fcntl.flock(files[number], fcntl.LOCK_EX | fcntl.LOCK_NB)
                return number
            except BlockingIOError:  # another process holds it
                taken.release()
        return None

    def _give_back(self, number: int, locks: list[threading.Lock] | None = None) -> None:
        locks = self._taken if locks is None else locks
        if self.shared is not None:
            files = self._files if locks is self._taken else self._waiting_files
            fcntl.flock(files[number], fcntl.LOCK_UN)
        locks[number].release()

    def _take_after_waiting(self) -> int | None:
        """A slot taken within ``wait`` seconds while holding a waiting place, or
        None at once when every place is taken too, or None after ``wait``."""
        place = self._take(self._waiting)
        if place is None:
            return None
        read = self._wake_channels()[place][0]
        woken = select.poll()
        woken.register(read, select.POLLIN)
        try:
            deadline = time.monotonic() + self.wait
            # Bytes from before this wait mean nothing; one written after the
            # drain, even before the poll, ends the poll at once.
            self._drain(read)
            while True:
                number = self._take()
                if number is not None:
                    return number
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                woken.poll(1000 * min(remaining, WAIT_POLL_SECONDS))
                self._drain(read)
        finally:
            self._give_back(place, self._waiting)

    def run(self, work: Callable[..., T], /, *args) -> T:
        """``work(*args)`` on one of ``size`` low-priority threads (see the module's
        docstring), returning its result or raising what it raised. Call it while
        holding a slot (``hold``): then a thread is always free and nothing queues.
        A forked child (an RQ work-horse) makes threads of its own."""
        with self._pool_lock:
            if self._pool is None or self._pool_pid != os.getpid():
                # Threads do not survive a fork: a pool inherited from the parent
                # would take work that no thread ever runs.
                self._pool = ThreadPoolExecutor(self.size, thread_name_prefix="hashing",
                                                initializer=_lower_priority)
                self._pool_pid = os.getpid()
            pool = self._pool
        return pool.submit(work, *args).result()

    @contextmanager
    def hold(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            number = self._take()
            if number is None:
                number = self._take_after_waiting()
            if number is None:
                raise Overloaded(_("The server is busy. Please try again in a moment."))
            self._local.number = number
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                self._give_back(self._local.number)
                self._wake()


_lock = threading.Lock()
_hashing: Slots | None = None


def _shared_directory() -> Path:
    """Where this instance's processes on this machine keep their hashing slots:
    a directory of the machine's temporary files named after the data directory
    (local even when the data directory is on a network file system)."""
    name = hashlib.sha256(str(settings.DATA_DIR).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"tribune-{name}"


def hashing_slots() -> Slots:
    """The slots for password hashing that this instance's processes on this
    machine share, ``settings.TRIBUNE_HASH_CONCURRENCY`` of them (made anew if the
    setting changed)."""
    global _hashing
    size = settings.TRIBUNE_HASH_CONCURRENCY
    with _lock:
        if _hashing is None or _hashing.size != size:
            _hashing = Slots(size, shared=_shared_directory(), waiting=size,
                             wait=HASHING_WAIT_SECONDS)
        return _hashing


def hashing_slot():
    """``with hashing_slot(): ...`` around work that hashes passwords; raises
    ``Overloaded`` when every slot is taken: at once when every waiting place is
    taken too, else after waiting ``HASHING_WAIT_SECONDS`` for a slot in vain."""
    return hashing_slots().hold()
