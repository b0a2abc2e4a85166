"""django-oauth-toolkit's validator, adjusted for Mastodon clients."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator

from tribune.oauth.scopes import ALL, grants

_KNOWN = frozenset(ALL)


class MastodonValidator(OAuth2Validator):
    """Scopes asked for must be a subset of those the app registered (Mastodon's
    rule), where a registered scope also covers its granular ones (``read`` covers
    ``read:statuses``, ``admin:read`` covers ``admin:read:accounts``); the PKCE
    challenge is optional (Mastodon.py and Tusky send none)."""

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        registered = set((client.scopes or "read").split())
        return all(s in _KNOWN and grants(registered, s) for s in scopes)

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        return ["read"]
