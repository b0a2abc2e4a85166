"""How the token and revocation endpoints read a request, the way Mastodon does.

django-oauth-toolkit reads ``request.POST`` only and oauthlib refuses a POST with a
query string (RFC 6749 §3.2). Mastodon merges the query string, form bodies and
JSON bodies into one set of parameters (Rails ``params``), and clients depend on
each: Mastodon.py and Tusky post forms, Ivory and several web clients post JSON,
and some clients send a form body without a Content-Type (wildebeest#35).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest
from oauth2_provider.oauth2_backends import OAuthLibCore

FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


class NulInParameters(ValueError):
    """A parameter holds a NUL character: no OAuth value has one, and PostgreSQL's
    text cannot hold it. The token endpoints answer 400 ``invalid_request``."""


def request_params(request: HttpRequest) -> dict[str, str]:
    """The request's parameters: the query string, overridden by the body.

    The body is read as a form when it says it is one, else as JSON when it looks
    like a JSON object, else as a form without a Content-Type. JSON arrays become
    space-separated strings (``"scope": ["read", "write"]``); ``null`` is dropped.
    Raises NulInParameters when a name or value holds a NUL character.
    """
    params = dict(request.GET.items())
    params.update(_body_params(request))
    if any("\x00" in key or "\x00" in value for key, value in params.items()):
        raise NulInParameters("parameters must not contain NUL characters")
    return params


def _body_params(request: HttpRequest) -> Iterable[tuple[str, str]]:
    if request.content_type in FORM_CONTENT_TYPES:
        return request.POST.items()
    try:
        raw = request.body.decode("utf-8").strip()
    except UnicodeDecodeError:
        return []
    if raw.startswith("{"):
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return []
        return [
            (key, _as_text(value))
            for key, value in data.items()
            if value is not None and not isinstance(value, dict)
        ]
    return parse_qsl(raw, keep_blank_values=True)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(_as_text(item) for item in value)
    return str(value)


class MastodonOAuthLibCore(OAuthLibCore):
    """OAuthLibCore for the token and revocation endpoints: JSON bodies, query
    parameters and formless bodies are all handed to oauthlib as one form body."""

    def extract_body(self, request: HttpRequest) -> list[tuple[str, str]]:
        return list(request_params(request).items())

    def _get_escaped_full_path(self, request: HttpRequest) -> str:
        # The query string is already merged into the body by extract_body.
        return super()._get_escaped_full_path(request).split("?", 1)[0]
