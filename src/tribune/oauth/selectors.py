"""Reads of OAuth state for the person: the apps that hold a token of theirs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone
from oauth2_provider.models import get_access_token_model


@dataclass(frozen=True)
class AuthorizedApplication:
    """An app with access to one login: its name and website, the scopes of all its
    live tokens together, and when the first of them was issued."""

    application_id: int
    name: str
    website: str
    scopes: list[str]
    authorized_at: datetime


def authorized_applications(*, user: AbstractBaseUser) -> list[AuthorizedApplication]:
    """The apps holding a live (unexpired) token of ``user``, by name; one query
    (Mastodon's "Authorized apps", settings/applications)."""
    tokens = (get_access_token_model().objects
              .filter(user=user, expires__gt=timezone.now(), application__isnull=False)
              .select_related("application").order_by("created"))
    apps: dict[int, AuthorizedApplication] = {}
    for token in tokens:
        app = apps.get(token.application_id)
        scopes = sorted(set(token.scope.split()) | set(app.scopes if app else []))
        apps[token.application_id] = AuthorizedApplication(
            application_id=token.application_id, name=token.application.name,
            website=token.application.website, scopes=scopes,
            authorized_at=app.authorized_at if app else token.created)
    return sorted(apps.values(), key=lambda app: app.name.casefold())

