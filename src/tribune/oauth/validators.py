"""django-oauth-toolkit's validator, adjusted for Mastodon clients."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator


class MastodonValidator(OAuth2Validator):
    """Scopes asked for must be a subset of those the app registered (Mastodon's
    rule); the PKCE challenge is optional (Mastodon.py and Tusky send none)."""

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        registered = set((client.scopes or "read").split())
        from tribune.oauth.scopes import ALL

        return set(scopes) <= set(ALL) and all(
            s in registered or s.split(":")[0] in registered for s in scopes
        )

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        return ["read"]
