"""What federation stores: the local actors' signing keys."""

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
