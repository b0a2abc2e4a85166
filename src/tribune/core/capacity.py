"""Bounded concurrency for CPU-bound work in one process: password hashing.

An Argon2id hashing at OWASP's parameters (``accounts.hashers``) keeps one core
busy for tens of milliseconds and holds 19 MiB. Under a burst of sign-ups or
sign-ins, requests that each need one would queue behind each other in the web
server's threads until clients time out, and slow every other request sharing
those cores. So a process admits at most ``settings.TRIBUNE_HASH_CONCURRENCY``
hashings at once; one that finds no free slot is refused at once with
``core.errors.Overloaded``, which each interface answers with 503 and
``Retry-After``. Nothing else takes a slot, so reads are served whatever the load.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils.translation import gettext as _

from tribune.core.errors import Overloaded


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
