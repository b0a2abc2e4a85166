"""Writes to OAuth state outside the authorization and token endpoints: the
operator's own tokens, apps registered by clients, and sign-ups through an app.

Tokens are stored as django-oauth-toolkit stores them with
COMPLIANT_BCP_RFC9700_TOKEN_STORAGE: the raw value is shown once and never kept;
lookups go through ``token_checksum`` (SHA-256 of the raw token).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
    set_token_value,
)

from tribune.accounts.models import Account
from tribune.accounts.registrations import account_sign_up
from tribune.core.errors import NotFound, ValidationFailed
from tribune.oauth.models import OOB_REDIRECT_URI, Application
from tribune.oauth.scopes import ALL

CLI_APPLICATION_NAME = "Tribune CLI"
# A fixed client_id: apps registered through the API get random ones, so an app
# that merely calls itself "Tribune CLI" can never be mistaken for this one.
CLI_CLIENT_ID = "tribune-cli"
CLI_SCOPES = "read write follow push admin:read admin:write"


def cli_application_get_or_create() -> Application:
    """The built-in application that owns tokens made with ``tribune token``; one
    made before it allowed the admin scopes is given them."""
    application, _created = get_application_model().objects.get_or_create(
        client_id=CLI_CLIENT_ID,
        defaults={
            "name": CLI_APPLICATION_NAME,
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
            "redirect_uris": OOB_REDIRECT_URI,
            "scopes": CLI_SCOPES,
        },
    )
    if application.scopes != CLI_SCOPES:
        application.scopes = CLI_SCOPES
        application.save(update_fields=["scopes"])
    return application


def token_create(*, user: AbstractBaseUser, application: Application,
                 scopes: Iterable[str]) -> str:
    """Issue an access token for ``user`` through ``application`` and return it.

    The raw token is returned once and not stored. Like Mastodon's, it lasts until
    revoked (``ACCESS_TOKEN_EXPIRE_SECONDS`` stands in for never). Raises
    ValidationFailed for an unknown scope or one the application was not registered
    for (Mastodon's rule: ``read:statuses`` is allowed by ``read``).
    """
    scopes = list(dict.fromkeys(scopes))
    if not scopes:
        raise ValidationFailed("Validation failed: at least one scope is required")
    registered = set(application.scopes.split())
    for scope in scopes:
        if scope not in ALL:
            raise ValidationFailed(f"Validation failed: unknown scope {scope!r}")
        if scope not in registered and scope.split(":")[0] not in registered:
            raise ValidationFailed(
                f"Validation failed: scope {scope!r} is not allowed for {application.name}")
    raw = secrets.token_urlsafe(32)
    lifetime = settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]
    token = get_access_token_model()(
        user=user, application=application, scope=" ".join(scopes),
        expires=timezone.now() + timedelta(seconds=lifetime),
    )
    set_token_value(token, raw)
    token.save()  # one INSERT: atomic by itself, and no savepoint inside a caller's transaction
    return raw


def app_sign_up(*, application: Application, username: str, email: str, password: str,
                agreement: bool, reason: str = "", invite_code: str = "",
                locale: str = "") -> tuple[Account, str]:
    """Sign up through an app (Mastodon's ``POST /api/v1/accounts``, AppSignUpService):
    ``accounts.registrations.account_sign_up`` under the registration mode, then an
    access token for the new login through ``application`` with the app's scopes.
    Returns the account and the raw token (shown once).

    One transaction for the login, its account and the token (the token is made
    in the sign-up's transaction, ``account_sign_up(then=...)``), so a refused or
    failed sign-up leaves neither behind; the password is hashed before it opens,
    so that no database lock is held while it hashes. A sign-up awaiting approval
    gets its token too; it works once the account is approved. Raises what
    ``account_sign_up`` raises (Forbidden, ValidationFailed, Conflict, and
    Overloaded when no password-hashing slot is free).
    """
    tokens: list[str] = []

    def issue(account: Account) -> None:
        tokens.append(token_create(user=account.user, application=application,
                                   scopes=application.scopes.split()))

    account = account_sign_up(username=username, email=email, password=password,
                              agreement=agreement, reason=reason, invite_code=invite_code,
                              locale=locale, then=issue)
    raw = tokens[0]
    return account, raw


# --- apps registered by clients (POST /api/v1/apps) ----------------------------------

APP_NAME_MAX = 60  # Mastodon's limits
REDIRECT_URI_MAX = 2000
WEBSITE_MAX = 500  # the column's size (Mastodon allows 2,000)
# Schemes a browser must never be sent to (Doorkeeper forbids javascript: by default).
FORBIDDEN_REDIRECT_SCHEMES = {"javascript", "data", "vbscript", "file"}
_SCHEME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789+.-")


def application_create(
    *, name: str, redirect_uris: str | Iterable[str], scopes: str | Iterable[str] = "read",
    website: str = "",
) -> tuple[Application, str]:
    """Register a client app and return it with its client secret in plain text.

    The secret is stored hashed, so this is the only time it can be shown.
    ``redirect_uris`` is a list or a string of URIs separated by whitespace; each
    must be absolute, and any scheme is allowed (``com.example.app:/oauth``, the
    out-of-band ``urn:ietf:wg:oauth:2.0:oob``) except those a browser must not be
    sent to. ``scopes`` (space-separated, default ``read``) must all be known.
    Raises ValidationFailed with Mastodon's messages.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Validation failed: Name can't be blank")
    if len(name) > APP_NAME_MAX:
        raise ValidationFailed(
            f"Validation failed: Name is too long (maximum is {APP_NAME_MAX} characters)")
    uris = _clean_redirect_uris(redirect_uris)
    scope_list = _clean_app_scopes(scopes)
    website = (website or "").strip()
    if website:
        if len(website) > WEBSITE_MAX:
            raise ValidationFailed(
                f"Validation failed: Website is too long (maximum is {WEBSITE_MAX} characters)")
        parts = urlsplit(website)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ValidationFailed("Validation failed: Website is invalid")
    secret = generate_client_secret()
    application = Application(
        name=name, website=website, redirect_uris=" ".join(uris),
        scopes=" ".join(scope_list), client_secret=secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        skip_authorization=False, user=None,
    )
    application.save()  # ClientSecretField hashes client_secret here
    return application, secret


def _clean_redirect_uris(value: str | Iterable[str]) -> list[str]:
    raw = value.split() if isinstance(value, str) else [
        part for item in value for part in str(item).split()]
    uris = list(dict.fromkeys(raw))
    if not uris:
        raise ValidationFailed("Validation failed: Redirect URI can't be blank")
    for uri in uris:
        if len(uri) > REDIRECT_URI_MAX:
            raise ValidationFailed(
                "Validation failed: Redirect URI is too long "
                f"(maximum is {REDIRECT_URI_MAX} characters)")
        scheme, colon, rest = uri.partition(":")
        scheme = scheme.lower()
        if (not colon or not rest or not scheme or not scheme[0].isalpha()
                or not set(scheme) <= _SCHEME_CHARS):
            raise ValidationFailed("Validation failed: Redirect URI must be an absolute URI.")
        if scheme in FORBIDDEN_REDIRECT_SCHEMES:
            raise ValidationFailed("Validation failed: Redirect URI is forbidden by the server.")
        if "#" in uri:
            raise ValidationFailed("Validation failed: Redirect URI cannot contain a fragment.")
        if scheme in ("http", "https") and not urlsplit(uri).netloc:
            raise ValidationFailed("Validation failed: Redirect URI must be an absolute URI.")
    return uris


def _clean_app_scopes(value: str | Iterable[str]) -> list[str]:
    raw = value.replace("+", " ").split() if isinstance(value, str) else [
        part for item in value for part in str(item).replace("+", " ").split()]
    scope_list = list(dict.fromkeys(raw)) or ["read"]
    if not set(scope_list) <= set(ALL):
        raise ValidationFailed(
            "Validation failed: Scopes doesn't match configured on the server.")
    return scope_list


def application_authorization_revoke(*, user: AbstractBaseUser, application_id: int) -> None:
    """Take back every token and pending grant ``application_id`` holds for
    ``user`` (Mastodon's "Revoke" on settings/applications). Raises NotFound when
    the app holds none."""
    with transaction.atomic():
        tokens = get_access_token_model().objects.filter(user=user,
                                                         application_id=application_id)
        if not tokens.exists():
            raise NotFound(_("Record not found"))
        get_refresh_token_model().objects.filter(user=user,
                                                 application_id=application_id).delete()
        tokens.delete()
        get_grant_model().objects.filter(user=user, application_id=application_id).delete()
