"""Bounded concurrency for CPU-bound work in one process: password hashing.

An Argon2id hashing at OWASP's parameters (``accounts.hashers``) keeps one core
busy for tens of milliseconds and holds 19 MiB. Under a burst of sign-ups or
sign-ins, requests that each need one would queue behind each other in the web
server's threads until clients time out, and slow every other request sharing
those cores. So a process admits at most ``settings.TRIBUNE_HASH_CONCURRENCY``
hashings at once; one that finds no free slot is refused at once with
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
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from django.conf import settings
from django.utils.translation import gettext as _

from tribune.core.errors import Overloaded

# How much lower the hashing threads' scheduling priority is than the process's:
# nice 10 has about a tenth of the weight of nice 0 under Linux's scheduler (CFS),
# so a busy core spends about nine tenths of its time on the other work.
HASHING_NICENESS = 10

T = TypeVar("T")


def _lower_priority() -> None:
    """Raise the calling thread's nice value by ``HASHING_NICENESS`` (capped at 19,
    as the kernel does). Raising needs no privilege; lowering it again would, so
    only threads that do nothing else are given it."""
    with contextlib.suppress(AttributeError, OSError):  # no per-thread nice here
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid,
                       min(19, os.getpriority(os.PRIO_PROCESS, tid) + HASHING_NICENESS))


class Slots:
    """At most ``size`` holders at once, without ever waiting: ``hold()`` takes a
    slot or raises ``Overloaded``. A thread that already holds one may enter again
    without taking another, so a sign-in that verifies a password and then
    re-hashes it with newer parameters holds one slot throughout."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError("a Slots needs at least one slot")
        self.size = size
        self._semaphore = threading.BoundedSemaphore(size)
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._pool_lock = threading.Lock()

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
        if depth == 0 and not self._semaphore.acquire(blocking=False):
            raise Overloaded(_("The server is busy. Please try again in a moment."))
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                self._semaphore.release()


_lock = threading.Lock()
_hashing: Slots | None = None


def hashing_slots() -> Slots:
    """This process's slots for password hashing, sized by
    ``settings.TRIBUNE_HASH_CONCURRENCY`` (made anew if the setting changed)."""
    global _hashing
    size = settings.TRIBUNE_HASH_CONCURRENCY
    with _lock:
        if _hashing is None or _hashing.size != size:
            _hashing = Slots(size)
        return _hashing


def hashing_slot():
    """``with hashing_slot(): ...`` around work that hashes passwords; raises
    ``Overloaded`` at once when every slot of this process is taken."""
    return hashing_slots().hold()
