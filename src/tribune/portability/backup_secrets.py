"""The instance's secrets in a backup, encrypted with the operator's passphrase.

The secrets are a dict (``{"secret_key": "..."}`` today; the federation signing keys
join it when there are any), serialised as JSON and sealed with AES-256-GCM under a
key derived from the passphrase by Argon2id (RFC 9106; argon2-cffi, already used for
passwords). The envelope is JSON and names its parameters, so later archives may
raise them and older ones still open:

    {"kdf": "argon2id", "time_cost": 3, "memory_kib": 65536, "parallelism": 1,
     "salt": "<base64>", "cipher": "aes-256-gcm", "nonce": "<base64>",
     "ciphertext": "<base64>"}

A wrong passphrase and a damaged envelope are the same error (GCM's tag fails).
"""

from __future__ import annotations

import base64
import json
import os

from django.utils.translation import gettext as _

from tribune.core.errors import ValidationFailed

# RFC 9106's second recommended option (64 MiB, 3 passes): a guess costs a
# fraction of a second, once per restore.
TIME_COST = 3
MEMORY_KIB = 64 * 1024
PARALLELISM = 1
AAD = b"tribune-backup-secrets-v1"
# The fewest characters a new backup's passphrase may have: see ``passphrase_check``.
MIN_PASSPHRASE = 8


def passphrase_check(passphrase: str) -> None:
    """Raise ValidationFailed unless ``passphrase`` may seal a new backup's secrets:
    at least ``MIN_PASSPHRASE`` characters (code points; spaces count).

    The passphrase is all that stands between whoever holds an archive and the
    instance's secret key. Argon2id makes each guess cost a fraction of a second
    and 64 MiB, which protects a passphrase of reasonable length but not one of a
    few characters: those are tried whole in minutes. 8 is the floor NIST SP
    800-63B (rev. 3, 5.1.1.1) sets for secrets a person chooses. Only sealing is
    checked: an archive opens with whatever passphrase it was made with.
    """
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationFailed(
            _("The passphrase is too short: a backup needs one of at least %(min)s "
              "characters.") % {"min": MIN_PASSPHRASE})


def _derive(passphrase: str, *, salt: bytes, time_cost: int, memory_kib: int,
            parallelism: int) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(passphrase.encode("utf-8"), salt, time_cost=time_cost,
                           memory_cost=memory_kib, parallelism=parallelism, hash_len=32,
                           type=Type.ID)


def secrets_seal(*, secrets: dict, passphrase: str) -> bytes:
    """``secrets`` encrypted under ``passphrase``: the envelope's bytes. Raises
    ValidationFailed for a passphrase ``passphrase_check`` refuses."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    passphrase_check(passphrase)
    salt, nonce = os.urandom(16), os.urandom(12)
    key = _derive(passphrase, salt=salt, time_cost=TIME_COST, memory_kib=MEMORY_KIB,
                  parallelism=PARALLELISM)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(secrets).encode("utf-8"), AAD)
    envelope = {"kdf": "argon2id", "time_cost": TIME_COST, "memory_kib": MEMORY_KIB,
                "parallelism": PARALLELISM, "salt": base64.b64encode(salt).decode(),
                "cipher": "aes-256-gcm", "nonce": base64.b64encode(nonce).decode(),
                "ciphertext": base64.b64encode(sealed).decode()}
    return json.dumps(envelope, indent=1).encode("utf-8")


def secrets_open(*, envelope: bytes, passphrase: str) -> dict:
    """The secrets sealed in ``envelope``. Raises ValidationFailed for a wrong
    passphrase or a damaged envelope."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        data = json.loads(envelope)
        if data.get("kdf") != "argon2id" or data.get("cipher") != "aes-256-gcm":
            raise ValueError("unknown algorithm")
        key = _derive(passphrase, salt=base64.b64decode(data["salt"]),
                      time_cost=int(data["time_cost"]), memory_kib=int(data["memory_kib"]),
                      parallelism=int(data["parallelism"]))
        plain = AESGCM(key).decrypt(base64.b64decode(data["nonce"]),
                                    base64.b64decode(data["ciphertext"]), AAD)
        secrets = json.loads(plain)
    except (InvalidTag, ValueError, KeyError, TypeError, RecursionError):
        raise ValidationFailed(_("The passphrase is wrong, or the archive's secrets are "
                                 "damaged.")) from None
    if not isinstance(secrets, dict):
        raise ValidationFailed(_("The archive's secrets are damaged."))
    return secrets
