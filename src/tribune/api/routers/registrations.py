"""Signing up through an app (``POST /api/v1/accounts``; docs: methods/accounts.md
#create), under the registration mode, like the web sign-up page.

The app calls with a token of its own holding ``write:accounts``, from the
client-credentials grant: a token that belongs to a user is 403 ``This method
requires an client credentials authentication`` (Mastodon's
``require_client_credentials!``, in its words, which clients may match on). The
answer is a Token entity for the new login, with the app's scopes. A sign-up
awaiting approval gets one too; until a moderator approves the account it is 403
``Your login is currently pending approval`` (``api.auth``). Limits: 5 sign-ups per 30
minutes per IP (``api.ratelimit.SIGN_UPS``, shared with the web form), and 503
with ``Retry-After`` when no password-hashing slot is free (``core.capacity``).
"""

from __future__ import annotations

from ninja import Router, Schema

from tribune.api.auth import ApiError, Scoped
from tribune.api.base import responses
from tribune.api.schemas import Token
from tribune.oauth.services import app_sign_up

router = Router(tags=["accounts"])

# Mastodon's Api::BaseController#require_client_credentials!, word for word.
APP_TOKEN_REQUIRED = "This method requires an client credentials authentication"


class SignUpIn(Schema):
    username: str = ""
    email: str = ""
    password: str = ""
    agreement: bool = False
    reason: str = ""
    invite_code: str = ""
    locale: str | None = None  # the account's language, and its confirmation mail's
    date_of_birth: str | None = None  # accepted; no minimum age is configured


@router.post("/v1/accounts", response=responses(Token), auth=Scoped("write:accounts", user=False))
def account_sign_up(request, payload: SignUpIn):
    """Create a login and account; 403 while registrations are closed (without a
    valid invite), 422 for a refused username, e-mail, password, missing agreement
    or reason, or a bad invite code; 403 for a user's token."""
    if request.auth.token.user_id is not None:
        raise ApiError(403, APP_TOKEN_REQUIRED)
    account, token = app_sign_up(
        application=request.auth.token.application, username=payload.username.strip(),
        email=payload.email.strip(), password=payload.password,
        agreement=payload.agreement, reason=payload.reason,
        invite_code=payload.invite_code, locale=payload.locale or "")
    return {"access_token": token, "token_type": "Bearer",
            "scope": request.auth.token.application.scopes,
            "created_at": int(account.created_at.timestamp())}
