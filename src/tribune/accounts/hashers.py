"""Password hashers: Argon2id at OWASP's parameters, and PBKDF2 for old hashes.

OWASP's Password Storage Cheat Sheet recommends Argon2id with at least 19 MiB of
memory, 2 iterations and 1 degree of parallelism (m=19456 KiB, t=2, p=1). Django's
own Argon2 defaults (m=100 MiB, t=2, p=8) cost five times the memory per hashing,
and its PBKDF2 default (1,000,000 iterations of SHA-256) about a quarter of a
second of a core, which lets a two-core server take about 8 sign-ups a second; ours
takes about 30 ms.

``Argon2idPasswordHasher`` keeps Django's algorithm name ``argon2``, so it reads
every Argon2 hash Django ever wrote, and Django's ``check_password`` re-hashes on
sign-in any hash whose parameters differ from these (``must_update``) or that was
made by another hasher listed after it (PBKDF2), as ``settings.PASSWORD_HASHERS``
puts it first. Every hashing, new or verified, holds one of the process's hashing
slots (``core.capacity``) and raises ``core.errors.Overloaded`` when none is free;
the hashing runs on the slots' low-priority threads (``Slots.run``), so it takes
only the CPU nothing else wants.
"""

from __future__ import annotations

from django.contrib.auth import hashers

from tribune.core.capacity import hashing_slot, hashing_slots


class Argon2idPasswordHasher(hashers.Argon2PasswordHasher):
    """Argon2id, m=19456 KiB, t=2, p=1 (OWASP Password Storage Cheat Sheet)."""

    time_cost = 2
    memory_cost = 19456
    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        with hashing_slot():
            return hashing_slots().run(super().encode, password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        with hashing_slot():
            return hashing_slots().run(super().verify, password, encoded)


class PBKDF2PasswordHasher(hashers.PBKDF2PasswordHasher):
    """Django's PBKDF2-SHA256, kept so hashes made before Argon2id still verify (and
    are then upgraded); its verification is the most expensive of all, so it holds
    a hashing slot too (Django's ``verify`` and ``harden_runtime`` go through
    ``encode``)."""

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        with hashing_slot():
            return hashing_slots().run(super().encode, password, salt, iterations)
