"""Shared fixtures. Data is made through the services, as users make it."""

from __future__ import annotations

import itertools
import json as jsonlib
from typing import Any

import pytest
from django.test import Client

from tests import mastodon_schema

IMMEDIATE_TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "timelines", "federation", "media", "portability"],
    }
}


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    """Work published on commit runs in the committing thread (still after commit)."""
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture(autouse=True)
def _no_rate_limits(settings, request):
    """Rate limits are tested on their own (marker ``rate_limits``)."""
    if "rate_limits" not in request.keywords:
        settings.TRIBUNE_RATE_LIMITS = False


@pytest.fixture(autouse=True)
def _no_link_previews(settings):
    """Link previews fetch the linked sites; tests/links turns them on and serves
    the pages on loopback, so no other test reaches the network."""
    settings.TRIBUNE_LINK_PREVIEWS = False


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded and processed files go to a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


_counter = itertools.count(1)


@pytest.fixture
def make_account(db):
    """``make_account("alice", locked=True)``: a local account made by the service."""
    from tribune.accounts.services import account_create

    def make(username: str | None = None, **kwargs: Any):
        username = username or f"user{next(_counter)}"
        return account_create(username=username, email=f"{username}@example.test",
                              password="a-long-test-passphrase", check_password=False, **kwargs)

    return make


class Api:
    """A Django test client speaking to /api/ as one token's holder.

    ``api.get(path, **params)``, ``api.post(path, json=...|data=...)``; each returns
    the response, with ``.json()`` available. Every JSON response is checked against
    the Mastodon OpenAPI schema (tests/mastodon_schema.py) as it arrives, so each
    response the suite sees is validated.
    """

    def __init__(self, token: str | None = None):
        self.client = Client(HTTP_HOST="localhost")
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def _checked(self, method: str, path: str, response):
        if path.startswith("/api/") and response.get("Content-Type", "").startswith("application/json"):
            mastodon_schema.check(method, path.split("?")[0], response.status_code, response.json())
        return response

    def get(self, path: str, params: dict | None = None, **headers):
        return self._checked("GET", path, self.client.get(path, params or {}, **self.headers, **headers))

    def post(self, path: str, json: dict | None = None, data: dict | None = None, **headers):
        if json is not None:
            response = self.client.post(path, jsonlib.dumps(json), content_type="application/json",
                                        **self.headers, **headers)
        else:
            response = self.client.post(path, data or {}, **self.headers, **headers)
        return self._checked("POST", path, response)

    def put(self, path: str, json: dict | None = None, **headers):
        return self._checked("PUT", path, self.client.put(
            path, jsonlib.dumps(json or {}), content_type="application/json", **self.headers, **headers))

    def patch(self, path: str, json: dict | None = None, **headers):
        return self._checked("PATCH", path, self.client.patch(
            path, jsonlib.dumps(json or {}), content_type="application/json", **self.headers, **headers))

    def delete(self, path: str, **headers):
        return self._checked("DELETE", path, self.client.delete(path, **self.headers, **headers))


@pytest.fixture
def api_as(db):
    """``api_as(account, scopes="read write follow push")``: an Api with a fresh token."""
    from tribune.oauth.services import cli_application_get_or_create, token_create

    def make(account=None, scopes: str = "read write follow push") -> Api:
        if account is None:
            return Api()
        token = token_create(user=account.user, application=cli_application_get_or_create(),
                             scopes=scopes.split())
        return Api(token)

    return make


@pytest.fixture
def moderator(make_account):
    """A staff account (``mod``) that may decide cases and review appeals."""
    return make_account("mod", admin=True)


@pytest.fixture
def alice(make_account):
    return make_account("alice", display_name="Alice")


@pytest.fixture
def bob(make_account):
    return make_account("bob", display_name="Bob")


@pytest.fixture
def carol(make_account):
    return make_account("carol", display_name="Carol")
