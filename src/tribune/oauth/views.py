"""OAuth 2 endpoints for Mastodon apps: the consent page, token, revocation and the
RFC 8414 metadata document, built on django-oauth-toolkit (docs/adr/0003-oauth.md).

The authorization endpoint answers in HTML (a person is looking at it); the others
answer in JSON, errors included, as ``{"error": ..., "error_description": ...}``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import DisallowedRedirect
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import TemplateView
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import AuthorizationView, RevokeTokenView, TokenView
from oauth2_provider.views.mixins import OAuthLibMixin

from tribune.core.errors import Overloaded
from tribune.core.ratelimit import Limit, client_ip, hit
from tribune.core.urls import absolute
from tribune.oauth import scopes
from tribune.oauth.backend import MastodonOAuthLibCore, NulInParameters, request_params
from tribune.oauth.messages import error_description, scope_description
from tribune.oauth.models import OOB_REDIRECT_URI

log = logging.getLogger(__name__)

# Token requests per IP: each checks a client secret, which django-oauth-toolkit
# stores hashed (an Argon2 verification), so they cost what a sign-in costs and get
# the budget of Mastodon's sign-in attempts (throttle_login_attempts/ip).
TOKEN_REQUESTS = Limit("oauth_token", 25, 300)

# Parameters an authorization response adds to the redirect URI (RFC 6749 §4.1.2,
# RFC 9207 ``iss``); the rest of the URI is the client's own.
RESPONSE_PARAMS = {"code", "state", "error", "error_description", "error_uri", "iss"}


def _json_error(
    error: str,
    status: int,
    description: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JsonResponse:
    body = {"error": error, "error_description": error_description(error, description)}
    return JsonResponse(body, status=status, headers=headers)


def _oauthlib_response(
    body: str, status: int, headers: Mapping[str, str]
) -> JsonResponse:
    """oauthlib's JSON answer, given an ``error_description`` when it lacks one."""
    data = json.loads(body) if body else {}
    kept = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    if "error" in data:
        return _json_error(data["error"], status, data.get("error_description"), kept)
    return JsonResponse(data, status=status, headers=kept)


def _json_errors(method: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer an unexpected exception with RFC 6749's ``server_error`` in JSON, a
    parameter holding NUL with 400 ``invalid_request``, and no free
    password-hashing slot (``core.capacity``) with 503 ``temporarily_unavailable``
    and ``Retry-After``."""

    @wraps(method)
    def wrapper(
        self: Any, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        try:
            return method(self, request, *args, **kwargs)
        except Overloaded as exc:
            return _json_error("temporarily_unavailable", 503,
                               headers={"Retry-After": str(exc.retry_after)})
        except NulInParameters:
            return _json_error("invalid_request", 400)
        except Exception:
            log.exception("oauth: %s %s failed", request.method, request.path)
            return _json_error("server_error", 500)

    return wrapper


class OwnCoreMixin(OAuthLibMixin):
    """Keep this view's own OAuthLibCore.

    OAuthLibMixin caches the core on the class and looks for the cache with
    ``hasattr``, which also finds a cache set on a parent class; a view whose
    ``oauthlib_backend_class`` differs from its parent's would then use the parent's.
    """

    @classmethod
    def get_oauthlib_core(cls) -> Any:
        core = cls.__dict__.get("_oauthlib_core")
        if core is None:
            core = cls.get_oauthlib_backend_class()(cls.get_server())
            cls._oauthlib_core = core
        return core


class JsonMethodNotAllowedMixin:
    def http_method_not_allowed(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        allowed = ", ".join(m.upper() for m in self._allowed_methods())  # type: ignore[attr-defined]
        return _json_error(
            "invalid_request", 405, _("Method not allowed."), {"Allow": allowed}
        )


# --- authorization endpoint ----------------------------------------------------------


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true", "on", "yes"}


def _error_page(
    request: HttpRequest, error: str, description: str | None = None
) -> HttpResponse:
    # The page speaks the reader's language: the standard text for the error code
    # (translated), not oauthlib's English detail; the code itself stays visible.
    context = {"error": error, "description": error_description(error, None)}
    return render(request, "web/oauth_error.html", context, status=400)


class AuthorizeView(AuthorizationView):
    """``GET/POST /oauth/authorize``: sign in, then approve or deny the app.

    Mastodon's parameters besides RFC 6749's: ``force_login=true`` signs the
    current user out first so another account can be chosen, ``lang`` picks the
    page's language. PKCE is optional, and only S256 is accepted (as Mastodon 4.3).
    A malformed request (unknown client, unregistered redirect URI, bad scope) shows
    an error page rather than redirecting, as Doorkeeper does; a denial, or an error
    once the request was validated, goes back to the app's redirect URI.
    """

    template_name = "web/oauth_authorize.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lang = request.GET.get("lang", "")
        if lang in dict(settings.LANGUAGES):
            translation.activate(lang)
            request.LANGUAGE_CODE = lang
        if request.method == "GET" and _truthy(request.GET.get("force_login")):
            return self._sign_in_again(request)
        return super().dispatch(request, *args, **kwargs)

    def _sign_in_again(self, request: HttpRequest) -> HttpResponse:
        params = request.GET.copy()
        del params["force_login"]
        # Back on this page after signing in, ask for consent again even if this
        # account already authorized the app (Mastodon skips the auto-approval too).
        params["approval_prompt"] = "force"
        logout(request)
        return redirect_to_login(f"{request.path}?{params.urlencode()}")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if (
            request.GET.get("code_challenge")
            and request.GET.get("code_challenge_method") != "S256"
        ):
            return _error_page(
                request,
                "invalid_request",
                _("Only the S256 code challenge method is supported."),
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["scope_items"] = [
            (s, scope_description(s)) for s in kwargs.get("scopes", [])
        ]
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        client_id = form.cleaned_data["client_id"]
        if not get_application_model().objects.filter(client_id=client_id).exists():
            return _error_page(self.request, "invalid_client")
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        return _error_page(self.request, "invalid_request")

    def error_response(
        self, error: Any, application: Any, **kwargs: Any
    ) -> HttpResponse:
        redirect, response = OAuthLibMixin.error_response(self, error, **kwargs)
        oauthlib_error = response["error"]
        # Only redirect to a URI the app registered: a denial is raised before
        # oauthlib validates the (hidden, editable) redirect_uri field.
        if (
            redirect
            and application is not None
            and application.redirect_uri_allowed(oauthlib_error.redirect_uri or "")
        ):
            return self.redirect(response["url"], application)
        return _error_page(
            self.request, oauthlib_error.error, oauthlib_error.description
        )

    def redirect(self, redirect_to: str, application: Any) -> HttpResponse:
        parts = urlsplit(redirect_to)
        params = parse_qsl(parts.fragment or parts.query, keep_blank_values=True)
        if redirect_to.split("?", 1)[0].split("#", 1)[0] == OOB_REDIRECT_URI:
            return self._out_of_band(dict(params))
        if self.request.GET.get("response_mode") == "form_post":
            return self._form_post(parts, params)
        try:
            return super().redirect(redirect_to, application)
        except DisallowedRedirect:
            return _error_page(
                self.request, "invalid_request", _("The redirect URI is not allowed.")
            )

    def _form_post(
        self, parts: SplitResult, params: list[tuple[str, str]]
    ) -> HttpResponse:
        """response_mode=form_post (OAuth 2.0 Form Post Response Mode): the browser
        posts the response parameters to the redirect URI instead of following a
        redirect; oauthlib knows only query and fragment, so undo its query."""
        own_query = [p for p in parse_qsl(parts.query) if p[0] not in RESPONSE_PARAMS]
        action = urlunsplit(parts._replace(query=urlencode(own_query), fragment=""))
        fields = [p for p in params if p[0] in RESPONSE_PARAMS]
        context = {"action": action, "fields": fields}
        return render(self.request, "web/oauth_form_post.html", context)

    def _out_of_band(self, params: dict[str, str]) -> HttpResponse:
        """urn:ietf:wg:oauth:2.0:oob: nothing to redirect to, so show the code (or the
        error) on a page of our own, at Mastodon's address for it."""
        if "code" in params:
            url = (
                reverse("oauth:authorize_native")
                + "?"
                + urlencode({"code": params["code"]})
            )
            return HttpResponseRedirect(url)
        return _error_page(
            self.request,
            params.get("error", "invalid_request"),
            params.get("error_description"),
        )


class AuthorizeNativeView(LoginRequiredMixin, TemplateView):
    """``GET /oauth/authorize/native?code=...``: the code for an out-of-band app,
    for the person to copy into it."""

    template_name = "web/oauth_native.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        code = request.GET.get("code", "")
        if not code:
            return _error_page(request, "invalid_request")
        return self.render_to_response({"code": code})


# --- token and revocation endpoints ---------------------------------------------------


def _checksum(raw_token: str) -> str:
    # How django-oauth-toolkit finds a token stored hashed (TokenChecksumField).
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


@method_decorator(csrf_exempt, name="dispatch")
class MastodonTokenView(JsonMethodNotAllowedMixin, OwnCoreMixin, TokenView):
    """``POST /oauth/token``: authorization_code, client_credentials and
    refresh_token grants; client credentials in the body or HTTP Basic.

    Answers Mastodon's Token entity: ``access_token``, ``token_type``, ``scope``
    and ``created_at`` (seconds), plus ``refresh_token`` when one was issued. Like
    Mastodon's, the answer has no ``expires_in``: tokens last until revoked, and
    the stand-in lifetime of ~300 years overflows clients that read it as a 32-bit
    integer.

    Limited to ``TOKEN_REQUESTS`` per IP (unless ``TRIBUNE_RATE_LIMITS`` is off):
    answers carry ``X-RateLimit-*``; past the limit the answer is 429
    ``{"error": "Too many requests"}`` with ``Retry-After``, as Mastodon's
    Rack::Attack answers. With no password-hashing slot free it is 503
    ``temporarily_unavailable`` with ``Retry-After``.
    """

    oauthlib_backend_class = MastodonOAuthLibCore

    @method_decorator(
        sensitive_post_parameters(
            "client_secret", "code", "code_verifier", "refresh_token"
        )
    )
    @_json_errors
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.TRIBUNE_RATE_LIMITS:
            return self._token(request)
        window = hit(TOKEN_REQUESTS, "ip:" + client_ip(request))
        if window.exceeded:
            response = JsonResponse({"error": "Too many requests"}, status=429,
                                    headers={"Retry-After": str(window.retry_after())})
        else:
            response = self._token(request)
        for key, value in window.headers().items():
            response[key] = value
        return response

    def _token(self, request: HttpRequest) -> HttpResponse:
        _url, headers, body, status = self.create_token_response(request)
        if status != 200:
            return _oauthlib_response(body, status, headers)
        issued = json.loads(body)
        token = get_access_token_model().objects.get(
            token_checksum=_checksum(issued["access_token"])
        )
        app_authorized.send(sender=self, request=request, token=token)
        # A refresh re-issues the same row (ROTATE_REFRESH_TOKEN is off), so the new
        # value's creation time is the row's last write.
        refreshed = request_params(request).get("grant_type") == "refresh_token"
        created = token.updated if refreshed else token.created
        data = {
            "access_token": issued["access_token"],
            "token_type": "Bearer",
            "scope": " ".join(token.scope.split()),
            "created_at": int(created.timestamp()),
        }
        if issued.get("refresh_token"):
            data["refresh_token"] = issued["refresh_token"]
        kept = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        return JsonResponse(data, headers=kept)


@method_decorator(csrf_exempt, name="dispatch")
class MastodonRevokeView(JsonMethodNotAllowedMixin, OwnCoreMixin, RevokeTokenView):
    """``POST /oauth/revoke`` (``client_id``, ``client_secret``, ``token``): ``{}``,
    also for an unknown token (RFC 7009 §2.2)."""

    oauthlib_backend_class = MastodonOAuthLibCore

    @method_decorator(sensitive_post_parameters("client_secret", "token"))
    @_json_errors
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _url, headers, body, status = self.create_revocation_response(request)
        if status != 200:
            return _oauthlib_response(body, status, headers)
        return JsonResponse({})


# --- metadata -------------------------------------------------------------------------


def authorization_server_metadata(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/oauth-authorization-server`` (RFC 8414), in Mastodon 4.3's
    shape, so apps can discover the endpoints and the scopes."""
    if request.method not in ("GET", "HEAD"):
        return _json_error(
            "invalid_request", 405, _("Method not allowed."), {"Allow": "GET, HEAD"}
        )
    return JsonResponse(
        {
            "issuer": absolute("/"),
            "service_documentation": "https://docs.joinmastodon.org/",
            "authorization_endpoint": absolute(reverse("oauth:authorize")),
            "token_endpoint": absolute(reverse("oauth:token")),
            "app_registration_endpoint": absolute("/api/v1/apps"),
            "revocation_endpoint": absolute(reverse("oauth:revoke")),
            "scopes_supported": scopes.ALL,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": [
                "authorization_code",
                "client_credentials",
                "refresh_token",
            ],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
        }
    )
