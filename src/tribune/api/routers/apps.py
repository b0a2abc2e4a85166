"""Client apps: registration (POST /api/v1/apps) and checking an app's token."""

from __future__ import annotations

from ninja import Router, Schema

from tribune.api.auth import Scoped
from tribune.api.base import responses
from tribune.api.presenters import application_out, credential_application_out
from tribune.api.schemas import Application, CredentialApplication
from tribune.oauth.services import application_create

router = Router(tags=["apps"])


class AppIn(Schema):
    client_name: str = ""
    redirect_uris: str | list[str] = ""  # one string (space-separated) or an array
    scopes: str | list[str] = "read"
    website: str | None = None


@router.post("/v1/apps", response=responses(CredentialApplication), auth=None)
def app_create(request, payload: AppIn):
    """Register a client app (no token needed); the secret is shown only here."""
    application, secret = application_create(
        name=payload.client_name, redirect_uris=payload.redirect_uris,
        scopes=payload.scopes, website=payload.website or "")
    return credential_application_out(application, secret)


@router.get("/v1/apps/verify_credentials", response=responses(Application),
            auth=Scoped(None, optional=False, user=False))
def app_verify_credentials(request):
    """The app behind the token, user token or app-only (client credentials) alike."""
    return application_out(request.auth.token.application)
