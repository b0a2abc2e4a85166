"""The local actors' signing keys, made lazily (docs/adr/0022).

Mastodon makes an account's key pair when the account is created; here it is made
the first time something needs it (an actor document, later a signed request), so
a surge of sign-ups does not pay for RSA key generation (tens of milliseconds of
CPU each).
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tribune.accounts.models import Account
from tribune.federation.models import ActorKey, InstanceActorKey

KEY_SIZE = 2048  # Mastodon's (Account#generate_keys); RSA-SHA256 signatures
PUBLIC_EXPONENT = 65537


def _key_pair_pem() -> tuple[str, str]:
    """A new RSA key pair as ``(public PEM, private PEM)``."""
    private = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_SIZE)
    private_pem = private.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = private.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")
    return public_pem, private_pem


def actor_key_get_or_create(*, account: Account) -> ActorKey:
    """The signing key of the local ``account``, made and stored if it has none.

    Safe under concurrency: the key row is unique per account, so of two requests
    that both find none and both generate a pair, one insert wins and the other
    reads the winner's row (``get_or_create`` retries the read after the
    IntegrityError); every caller gets the same key. Raises ValueError for a
    remote account (its key belongs to its own server).
    """
    if not account.is_local:
        raise ValueError("only local accounts have keys here")
    existing = ActorKey.objects.filter(account=account).first()
    if existing is not None:
        return existing
    public_pem, private_pem = _key_pair_pem()
    key, _created = ActorKey.objects.get_or_create(
        account=account, defaults={"public_key_pem": public_pem,
                                   "private_key_pem": private_pem})
    return key


def instance_actor_key_get_or_create() -> InstanceActorKey:
    """The instance actor's key (row 1), made and stored the first time; as
    ``actor_key_get_or_create``, concurrent callers all get the one stored."""
    existing = InstanceActorKey.objects.filter(pk=1).first()
    if existing is not None:
        return existing
    public_pem, private_pem = _key_pair_pem()
    key, _created = InstanceActorKey.objects.get_or_create(
        pk=1, defaults={"public_key_pem": public_pem, "private_key_pem": private_pem})
    return key
