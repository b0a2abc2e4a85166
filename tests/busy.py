"""Occupying this process's password-hashing slots (tribune.core.capacity), as
hashings in progress on other threads would, to see what requests get meanwhile."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Django's Argon2 format: argon2$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$salt$hash
ARGON2 = re.compile(r"argon2\$(?P<variety>argon2\w+)\$v=(?P<version>\d+)"
                    r"\$m=(?P<m>\d+),t=(?P<t>\d+),p=(?P<p>\d+)\$[^$]+\$[^$]+")


def argon2_parameters(encoded: str) -> dict[str, str | int] | None:
    """The variety and m, t, p read from a stored hash, or None if it is not Argon2."""
    match = ARGON2.fullmatch(encoded)
    if match is None:
        return None
    return {"variety": match["variety"], "version": int(match["version"]),
            "m": int(match["m"]), "t": int(match["t"]), "p": int(match["p"])}


@contextmanager
def hashing_slots_taken() -> Iterator[None]:
    """Every hashing slot of this process is held by another thread until the block
    ends (slots are re-entrant per thread, so the test's own thread cannot hold
    them for a request it makes through Django's test client)."""
    from tribune.core.capacity import hashing_slots

    slots = hashing_slots()
    holding = threading.Barrier(slots.size + 1)
    release = threading.Event()

    def hold() -> None:
        with slots.hold():
            holding.wait()
            release.wait()

    threads = [threading.Thread(target=hold, daemon=True) for _ in range(slots.size)]
    for thread in threads:
        thread.start()
    holding.wait(timeout=30)
    try:
        yield
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
