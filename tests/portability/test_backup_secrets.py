"""The passphrase that seals a backup's secrets: a new backup needs one of at least
eight characters; an archive opens with whatever passphrase it was made with."""

from __future__ import annotations

import pytest

from tribune.core.errors import ValidationFailed
from tribune.portability import backup_secrets
from tribune.portability.backup_secrets import secrets_open, secrets_seal

SECRETS = {"secret_key": "an invented secret key"}


@pytest.mark.parametrize("passphrase", ["x", "", "seven c"])
def test_a_short_passphrase_cannot_seal(passphrase):
    with pytest.raises(ValidationFailed) as refused:
        secrets_seal(secrets=SECRETS, passphrase=passphrase)
    assert str(refused.value) == ("The passphrase is too short: a backup needs one of at "
                                  "least 8 characters.")


def test_eight_characters_seal_and_open():
    envelope = secrets_seal(secrets=SECRETS, passphrase="eight ch")
    assert secrets_open(envelope=envelope, passphrase="eight ch") == SECRETS


def test_an_archive_sealed_with_a_short_passphrase_still_opens(monkeypatch):
    """Archives made before the minimum (or by another build) keep opening."""
    monkeypatch.setattr(backup_secrets, "MIN_PASSPHRASE", 1)
    envelope = secrets_seal(secrets=SECRETS, passphrase="x")
    monkeypatch.undo()
    assert backup_secrets.MIN_PASSPHRASE == 8
    assert secrets_open(envelope=envelope, passphrase="x") == SECRETS
    with pytest.raises(ValidationFailed):
        secrets_open(envelope=envelope, passphrase="y")
