"""OAuth 2 models adapted to Mastodon's semantics (docs/adr/0003-oauth.md).

One Mastodon application may use the authorization-code, client-credentials and
refresh-token grants, so ``allows_grant_type`` accepts all three whatever the stored
``authorization_grant_type``. Redirect URIs are compared exactly, and any scheme an
app registered (``com.example.app:/oauth``, the out-of-band URN) is allowed.
"""

from __future__ import annotations

from django.db import models
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
)

OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"
MASTODON_GRANTS = {
    AbstractApplication.GRANT_AUTHORIZATION_CODE,
    AbstractApplication.GRANT_CLIENT_CREDENTIALS,
    "refresh_token",
}


class Application(AbstractApplication):
    """A client app registered with ``POST /api/v1/apps`` (or the built-in CLI app)."""

    website = models.CharField(max_length=500, blank=True, default="")
    scopes = models.TextField(default="read")  # space-separated, as registered

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"

    def allows_grant_type(self, *grant_types: str) -> bool:
        return bool(set(grant_types) & MASTODON_GRANTS)

    def redirect_uri_allowed(self, uri: str) -> bool:
        return uri in self.redirect_uris.split()

    def get_allowed_schemes(self) -> list[str]:
        schemes = {uri.split(":", 1)[0] for uri in self.redirect_uris.split() if ":" in uri}
        return sorted(schemes | {"http", "https"})


class AccessToken(AbstractAccessToken):
    class Meta(AbstractAccessToken.Meta):
        swappable = "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL"


class RefreshToken(AbstractRefreshToken):
    class Meta(AbstractRefreshToken.Meta):
        swappable = "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL"


class Grant(AbstractGrant):
    class Meta(AbstractGrant.Meta):
        swappable = "OAUTH2_PROVIDER_GRANT_MODEL"


class IDToken(AbstractIDToken):
    class Meta(AbstractIDToken.Meta):
        swappable = "OAUTH2_PROVIDER_ID_TOKEN_MODEL"
