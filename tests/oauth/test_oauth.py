"""The OAuth 2 surface Mastodon apps use: app registration, the consent page, the
token and revocation endpoints, and the metadata document."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher
from oauth2_provider.models import get_access_token_model, get_grant_model

from tribune.core.errors import ValidationFailed
from tribune.oauth.models import Application
from tribune.oauth.scopes import ALL
from tribune.oauth.services import application_create

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-passphrase-42"
CALLBACK = "https://app.example/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _loopback_host(client):
    # The host check admits the instance's domain and loopback names only.
    client.defaults["HTTP_HOST"] = "localhost"


@pytest.fixture
def alice():
    from tribune.accounts.services import account_create

    return account_create(
        username="alice", email="alice@example.test", password=PASSWORD
    )


@pytest.fixture
def app():
    return application_create(
        name="Test App",
        redirect_uris=CALLBACK,
        scopes="read write follow push",
        website="https://app.example",
    )


class _HiddenInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if (
            tag == "input"
            and attrs.get("type") == "hidden"
            and attrs.get("name") != "next"
        ):
            self.values[attrs["name"]] = attrs.get("value") or ""


def hidden_inputs(html: str) -> dict[str, str]:
    parser = _HiddenInputs()
    parser.feed(html)
    return parser.values


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def checksum(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def authorize_url(application: Application, **params) -> str:
    query = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": application.redirect_uris.split()[0],
        **params,
    }
    return "/oauth/authorize?" + urlencode(query)


def approve(client, url: str, allow: bool = True, **overrides):
    """Load the consent page at ``url`` and submit it as the browser would."""
    page = client.get(url)
    assert page.status_code == 200, page.content
    fields = {**hidden_inputs(page.content.decode()), **overrides}
    if allow:
        fields["allow"] = "true"
    return client.post(url, urlencode(fields), content_type=FORM)


def code_from(response, redirect_uri: str = CALLBACK) -> str:
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(redirect_uri + "?")
    return parse_qs(urlsplit(location).query)["code"][0]


def token_request(client, params: dict, body: str = "form", **headers):
    if body == "json":
        return client.post(
            "/oauth/token",
            json.dumps(params),
            content_type="application/json",
            **headers,
        )
    return client.post("/oauth/token", urlencode(params), content_type=FORM, **headers)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def access_token(raw: str):
    return get_access_token_model().objects.filter(token_checksum=checksum(raw)).first()


# --- application_create ---------------------------------------------------------------


def test_application_create_returns_plain_secret_and_stores_it_hashed():
    application, secret = application_create(
        name="Tusky", redirect_uris="tusky://oauth", scopes="read write push"
    )

    stored = Application.objects.get(pk=application.pk)
    assert secret and stored.client_secret != secret
    identify_hasher(stored.client_secret)  # raises if it is not a password hash
    assert check_password(secret, stored.client_secret)
    assert stored.redirect_uris == "tusky://oauth"
    assert stored.scopes == "read write push"
    assert stored.client_type == Application.CLIENT_CONFIDENTIAL
    assert stored.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert stored.user is None and stored.skip_authorization is False


def test_application_create_accepts_lists_custom_schemes_and_the_oob_uri():
    application, _ = application_create(
        name="Ivory",
        redirect_uris=["com.tapbots.Ivory.19300:/request_token", OOB],
        scopes=["read", "write:statuses"],
    )

    assert application.redirect_uris.split() == [
        "com.tapbots.Ivory.19300:/request_token",
        OOB,
    ]
    assert application.scopes == "read write:statuses"


def test_application_create_defaults_to_read():
    application, _ = application_create(name="Plain", redirect_uris=CALLBACK)

    assert application.scopes == "read"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scopes": "read delete"}, "Scopes doesn't match configured on the server"),
        ({"redirect_uris": "/relative/path"}, "Redirect URI must be an absolute URI"),
        (
            {"redirect_uris": "app.example/callback"},
            "Redirect URI must be an absolute URI",
        ),
        ({"redirect_uris": "https:///no-host"}, "Redirect URI must be an absolute URI"),
        ({"redirect_uris": "javascript:alert(1)"}, "Redirect URI is forbidden"),
        ({"redirect_uris": "https://app.example/cb#frag"}, "cannot contain a fragment"),
        ({"redirect_uris": "  "}, "Redirect URI can't be blank"),
        ({"name": ""}, "Name can't be blank"),
        ({"website": "ftp://app.example"}, "Website is invalid"),
    ],
)
def test_application_create_rejects_bad_input(kwargs, message):
    params = {"name": "App", "redirect_uris": CALLBACK, **kwargs}

    with pytest.raises(ValidationFailed, match=message):
        application_create(**params)
    assert not Application.objects.exists()


# --- authorization code flow ------------------------------------------------------------


@pytest.mark.parametrize("body", ["form", "json"])
def test_code_flow_with_pkce_through_the_sign_in_form(client, alice, app, body):
    application, secret = app
    verifier = secrets.token_urlsafe(48)
    url = authorize_url(
        application,
        scope="read write",
        state="xyz",
        code_challenge=s256(verifier),
        code_challenge_method="S256",
    )

    to_sign_in = client.get(url)
    assert to_sign_in.status_code == 302
    location = urlsplit(to_sign_in["Location"])
    assert location.path == "/auth/sign_in" and parse_qs(location.query)["next"] == [
        url
    ]
    sign_in_page = client.get(to_sign_in["Location"])
    assert sign_in_page.status_code == 200
    signed_in = client.post(
        "/auth/sign_in", {"username": "alice", "password": PASSWORD, "next": url}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == url

    consent = client.get(url)
    assert consent.status_code == 200
    page = consent.content.decode()
    assert (
        "Test App" in page
        and "<code>read</code>" in page
        and "<code>write</code>" in page
    )
    allowed = approve(client, url)
    code = code_from(allowed)
    assert parse_qs(urlsplit(allowed["Location"]).query)["state"] == ["xyz"]

    before = int(time.time())
    response = token_request(
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": application.client_id,
            "client_secret": secret,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        body=body,
    )
    after = int(time.time())

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["token_type"] == "Bearer"
    assert data["scope"] == "read write"
    assert isinstance(data["created_at"], int) and before <= data["created_at"] <= after
    assert "expires_in" not in data
    token = access_token(data["access_token"])
    assert token.user == alice.user and token.application == application
    assert token.scope == "read write"


def test_code_flow_without_pkce_with_basic_credentials(client, alice, app):
    application, secret = app
    client.force_login(alice.user)

    code = code_from(approve(client, authorize_url(application)))
    response = token_request(
        client,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        HTTP_AUTHORIZATION=basic(application.client_id, secret),
    )

    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read"  # the default scope
    assert access_token(response.json()["access_token"]).user == alice.user


def test_wrong_code_verifier_is_an_invalid_grant(client, alice, app):
    application, secret = app
    client.force_login(alice.user)
    verifier = secrets.token_urlsafe(48)
    code = code_from(
        approve(
            client,
            authorize_url(
                application, code_challenge=s256(verifier), code_challenge_method="S256"
            ),
        )
    )

    response = token_request(
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": application.client_id,
            "client_secret": secret,
            "redirect_uri": CALLBACK,
            "code_verifier": secrets.token_urlsafe(48),
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_plain_code_challenge_is_refused(client, alice, app):
    application, _ = app
    client.force_login(alice.user)

    response = client.get(
        authorize_url(
            application, code_challenge="x" * 43, code_challenge_method="plain"
        )
    )

    assert response.status_code == 400
    assert not get_grant_model().objects.exists()


def test_out_of_band_flow_shows_the_code(client, alice):
    application, secret = application_create(name="CLI tool", redirect_uris=OOB)
    client.force_login(alice.user)

    allowed = approve(client, authorize_url(application))
    assert allowed.status_code == 302
    location = urlsplit(allowed["Location"])
    assert location.path == "/oauth/authorize/native"
    code = parse_qs(location.query)["code"][0]
    page = client.get(allowed["Location"])
    assert page.status_code == 200 and code in page.content.decode()

    response = token_request(
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": application.client_id,
            "client_secret": secret,
            "redirect_uri": OOB,
        },
    )
    assert response.status_code == 200, response.content


def test_custom_scheme_redirect(client, alice):
    application, _ = application_create(name="Tusky", redirect_uris="tusky://oauth")
    client.force_login(alice.user)

    allowed = approve(client, authorize_url(application, state="s1"))

    assert allowed["Location"].startswith("tusky://oauth?")
    assert parse_qs(urlsplit(allowed["Location"]).query)["state"] == ["s1"]
    assert code_from(allowed, "tusky://oauth")


def test_denying_redirects_with_access_denied(client, alice, app):
    application, _ = app
    client.force_login(alice.user)

    denied = approve(client, authorize_url(application, state="s2"), allow=False)

    assert denied.status_code == 302
    query = parse_qs(urlsplit(denied["Location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s2"]
    assert "code" not in query
    assert not get_grant_model().objects.exists()


def test_scope_outside_the_registered_scopes_issues_no_code(client, alice):
    application, _ = application_create(
        name="Reader", redirect_uris=CALLBACK, scopes="read"
    )
    client.force_login(alice.user)

    page = client.get(authorize_url(application, scope="read write"))

    assert page.status_code == 400
    assert "invalid_scope" in page.content.decode()
    assert not get_grant_model().objects.exists()


def test_scope_edited_into_the_consent_form_issues_no_code(client, alice):
    application, _ = application_create(
        name="Reader", redirect_uris=CALLBACK, scopes="read"
    )
    client.force_login(alice.user)

    response = approve(client, authorize_url(application), scope="read write")

    assert "code=" not in response.get("Location", "")
    assert not get_grant_model().objects.exists()


def test_unknown_client_shows_an_error_page(client, alice):
    client.force_login(alice.user)

    response = client.get(
        "/oauth/authorize?"
        + urlencode(
            {"response_type": "code", "client_id": "nope", "redirect_uri": CALLBACK}
        )
    )

    assert response.status_code == 400
    page = response.content.decode()
    # The code itself, and the standard text for it in the reader's language
    # (Doorkeeper's wording in English), not oauthlib's English detail.
    assert "<code>invalid_request</code>" in page
    assert "The request is missing a required parameter" in page


def test_an_authorized_app_is_approved_again_without_asking(client, alice, app):
    application, secret = app
    client.force_login(alice.user)
    code = code_from(approve(client, authorize_url(application)))
    token_request(
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": application.client_id,
            "client_secret": secret,
            "redirect_uri": CALLBACK,
        },
    )

    again = client.get(authorize_url(application))

    assert code_from(again)


def test_force_login_signs_out_and_asks_again(client, alice, app):
    application, _ = app
    client.force_login(alice.user)
    url = authorize_url(application, force_login="true")

    response = client.get(url)

    assert response.status_code == 302
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    assert urlsplit(response["Location"]).path == "/auth/sign_in"
    assert "force_login" not in parse_qs(urlsplit(next_url).query)
    assert "_auth_user_id" not in client.session


def test_form_post_response_mode(client, alice, app):
    application, _ = app
    client.force_login(alice.user)

    response = approve(
        client, authorize_url(application, response_mode="form_post", state="s3")
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert f'action="{CALLBACK}"' in page
    fields = hidden_inputs(page)
    assert fields["state"] == "s3" and fields["code"]


# --- token endpoint -------------------------------------------------------------------


def test_client_credentials_grant(client, app):
    application, secret = app

    response = token_request(
        client,
        {
            "grant_type": "client_credentials",
            "scope": "read write",
            "client_id": application.client_id,
            "client_secret": secret,
        },
        body="json",
    )

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["scope"] == "read write" and data["token_type"] == "Bearer"
    assert isinstance(data["created_at"], int)
    token = access_token(data["access_token"])
    assert token.user is None and token.application == application


def test_parameters_in_the_query_string_are_accepted(client, app):
    application, secret = app
    query = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": application.client_id,
            "client_secret": secret,
        }
    )

    response = client.post("/oauth/token?" + query)

    assert response.status_code == 200, response.content


def test_refresh_token_grant(client, alice, app):
    application, secret = app
    client.force_login(alice.user)
    code = code_from(approve(client, authorize_url(application, scope="read write")))
    first = token_request(
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": application.client_id,
            "client_secret": secret,
            "redirect_uri": CALLBACK,
        },
    ).json()

    before = int(time.time())
    response = token_request(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": application.client_id,
            "client_secret": secret,
        },
    )

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["access_token"] != first["access_token"]
    assert data["scope"] == "read write"
    assert data["created_at"] >= before
    assert access_token(data["access_token"]).user == alice.user
    assert access_token(first["access_token"]) is None


def test_wrong_secret_is_an_invalid_client(client, app):
    application, _ = app

    response = token_request(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": application.client_id,
            "client_secret": "not-the-secret",
        },
    )

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["error"] == "invalid_client" and data["error_description"]
    assert not get_access_token_model().objects.exists()


def test_reused_code_is_an_invalid_grant(client, alice, app):
    application, secret = app
    client.force_login(alice.user)
    code = code_from(approve(client, authorize_url(application)))
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": application.client_id,
        "client_secret": secret,
        "redirect_uri": CALLBACK,
    }
    assert token_request(client, params).status_code == 200

    response = token_request(client, params)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["error_description"]


def test_scope_beyond_the_app_is_an_invalid_scope(client):
    application, secret = application_create(
        name="Reader", redirect_uris=CALLBACK, scopes="read"
    )

    response = token_request(
        client,
        {
            "grant_type": "client_credentials",
            "scope": "write",
            "client_id": application.client_id,
            "client_secret": secret,
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_token_endpoint_answers_json_to_other_methods(client):
    response = client.get("/oauth/token")

    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


# --- revocation -------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["form", "json"])
def test_revoke_removes_the_token(client, app, body):
    application, secret = app
    raw = token_request(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": application.client_id,
            "client_secret": secret,
        },
    ).json()["access_token"]
    assert access_token(raw) is not None
    params = {"client_id": application.client_id, "client_secret": secret, "token": raw}

    if body == "json":
        response = client.post(
            "/oauth/revoke", json.dumps(params), content_type="application/json"
        )
    else:
        response = client.post("/oauth/revoke", urlencode(params), content_type=FORM)

    assert response.status_code == 200
    assert response.json() == {}
    assert access_token(raw) is None


def test_revoke_with_a_wrong_secret_keeps_the_token(client, app):
    application, secret = app
    raw = token_request(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": application.client_id,
            "client_secret": secret,
        },
    ).json()["access_token"]

    response = client.post(
        "/oauth/revoke",
        urlencode(
            {"client_id": application.client_id, "client_secret": "wrong", "token": raw}
        ),
        content_type=FORM,
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert access_token(raw) is not None


# --- metadata ---------------------------------------------------------------------------


def test_authorization_server_metadata(client):
    response = client.get("/.well-known/oauth-authorization-server")

    assert response.status_code == 200
    data = response.json()
    base = settings.TRIBUNE_BASE_URL
    assert data["issuer"] == base + "/"
    assert data["authorization_endpoint"] == base + "/oauth/authorize"
    assert data["token_endpoint"] == base + "/oauth/token"
    assert data["revocation_endpoint"] == base + "/oauth/revoke"
    assert data["app_registration_endpoint"] == base + "/api/v1/apps"
    assert data["service_documentation"] == "https://docs.joinmastodon.org/"
    assert set(data["scopes_supported"]) == set(ALL)
    assert {"read", "write", "follow", "push", "profile"} <= set(
        data["scopes_supported"]
    )
    assert data["response_types_supported"] == ["code"]
    assert data["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["grant_types_supported"] == [
        "authorization_code",
        "client_credentials",
        "refresh_token",
    ]
    assert data["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
