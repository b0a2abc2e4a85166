"""What federation stores: the local actors' signing keys, and what other servers
said of their actors (where to deliver, which key signs)."""

from __future__ import annotations

from django.db import models


class ActorKey(models.Model):
    """A local account's RSA-2048 key pair for HTTP Signatures (Mastodon's
    ``publicKey``, docs: spec/activitypub.md and spec/security.md), both halves as
    PEM text: the public key as SubjectPublicKeyInfo, the private key as
    unencrypted PKCS#8. Made the first time it is needed (``keys``), not at sign-up.
    """

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE,
                                   related_name="actor_key")
    public_key_pem = models.TextField()
    private_key_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"key of {self.account_id}"


class RemoteActor(models.Model):
    """What federation needs of a remote account beyond ``accounts.Account``: its
    public key (``publicKey``: id and PEM) to check its signatures, and its inbox,
    shared inbox and followers collection, as its actor document said when
    fetched (``fetched_at``). One row per remote account; written only by
    ``actors``."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE,
                                   related_name="remote_actor")
    key_id = models.CharField(max_length=500, unique=True)
    public_key_pem = models.TextField()
    inbox = models.CharField(max_length=500)
    shared_inbox = models.CharField(max_length=500, blank=True, default="")
    followers_url = models.CharField(max_length=500, blank=True, default="")
    fetched_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key_id


class DeliveryHealth(models.Model):
    """How deliveries to one remote ``domain`` have been going, for the circuit
    breaker and Mastodon's unavailable-domain rule (docs/adr/0030). A row exists
    only while the domain is failing: the first success deletes it.

    ``failures`` counts consecutive failed deliveries; ``failure_days`` the
    distinct UTC days with a failure since the last success (Mastodon's
    DeliveryFailureTracker); ``open_until`` is when the breaker lets one probe
    through (None: closed); ``unavailable_since`` marks the domain skipped
    entirely (Mastodon's UnavailableDomain) until it is heard from again or an
    operator clears it. Written only by ``federation.health``."""

    domain = models.CharField(max_length=255, unique=True)
    failures = models.PositiveIntegerField(default=0)
    failure_days = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField()
    last_failure_at = models.DateTimeField()
    open_until = models.DateTimeField(null=True, blank=True)
    unavailable_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.domain


class InstanceActorKey(models.Model):
    """The instance actor's RSA-2048 key pair (PEM, as ``ActorKey``): the server
    itself, at ``/actor`` (Mastodon's instance actor, an ``Application``), signs
    what no person sends: forwarded reports (``Flag``) and fetches made for no
    one. One row (``id`` 1), made the first time it is needed (``instance_actor``)."""

    public_key_pem = models.TextField()
    private_key_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return "instance actor key"
