"""Client app registration (POST /api/v1/apps) and GET /api/v1/apps/verify_credentials."""

from __future__ import annotations

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.django_db

OOB = "urn:ietf:wg:oauth:2.0:oob"


def test_register_with_json_and_an_array_of_redirect_uris(api_as):
    r = api_as(None).post("/api/v1/apps", json={
        "client_name": "Birdwatch", "redirect_uris": ["https://bird.example/cb", "birdwatch://auth"],
        "scopes": "read write follow push", "website": "https://bird.example",
    })
    assert r.status_code == 200, r.content
    app = r.json()
    assert app["name"] == "Birdwatch"
    assert app["website"] == "https://bird.example"
    assert app["scopes"] == ["read", "write", "follow", "push"]
    assert app["redirect_uris"] == ["https://bird.example/cb", "birdwatch://auth"]
    assert app["redirect_uri"] == "https://bird.example/cb\nbirdwatch://auth"
    assert app["client_secret_expires_at"] == 0
    # The instance's VAPID key, as Mastodon shows it (deprecated there, still read).
    assert app["vapid_key"] == Api().get("/api/v2/instance").json()["configuration"]["vapid"][
        "public_key"]
    assert len(app["vapid_key"]) == 87  # 65 bytes, base64url without padding
    assert app["client_id"] and app["client_secret"] and app["client_id"] != app["client_secret"]
    assert isinstance(app["id"], str)

    from tribune.oauth.models import Application

    stored = Application.objects.get(pk=int(app["id"]))
    assert stored.client_id == app["client_id"]
    assert stored.client_secret != app["client_secret"]  # kept only as a hash


def test_register_with_a_form_and_defaults(api_as):
    r = api_as(None).post("/api/v1/apps/", data={"client_name": "Tooty", "redirect_uris": OOB})
    assert r.status_code == 200, r.content
    app = r.json()
    assert (app["scopes"], app["redirect_uris"], app["website"]) == (["read"], [OOB], None)


def test_register_with_form_arrays(api_as):
    api = api_as(None)
    r = api.client.post("/api/v1/apps", "client_name=Arr&redirect_uris%5B%5D=https%3A%2F%2Fa.example%2F"
                        "&redirect_uris%5B%5D=app%3A%2Fcb&scopes=read+write",
                        content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200, r.content
    assert r.json()["redirect_uris"] == ["https://a.example/", "app:/cb"]
    assert r.json()["scopes"] == ["read", "write"]


def test_register_ignores_a_bad_token(api_as):
    r = Api("stale-token").post("/api/v1/apps", json={"client_name": "X", "redirect_uris": OOB})
    assert r.status_code == 200


@pytest.mark.parametrize("body, message", [
    ({"redirect_uris": OOB}, "Validation failed: Name can't be blank"),
    ({"client_name": "X"}, "Validation failed: Redirect URI can't be blank"),
    ({"client_name": "X", "redirect_uris": "javascript:alert(1)"},
     "Validation failed: Redirect URI is forbidden by the server."),
    ({"client_name": "X", "redirect_uris": OOB, "scopes": "read everything"},
     "Validation failed: Scopes doesn't match configured on the server."),
    ({"client_name": "X", "redirect_uris": OOB, "website": "ftp://x.example"},
     "Validation failed: Website is invalid"),
])
def test_register_rejects_bad_input(api_as, body, message):
    from tribune.oauth.models import Application

    before = Application.objects.count()
    r = api_as(None).post("/api/v1/apps", json=body)
    assert r.status_code == 422
    assert r.json()["error"] == message
    assert Application.objects.count() == before


def test_register_rejects_a_non_object_json_body(api_as):
    api = api_as(None)
    r = api.client.post("/api/v1/apps", "[1, 2]", content_type="application/json")
    assert r.status_code in (400, 422)
    assert "error" in r.json()
    r = api.client.post("/api/v1/apps", "{not json", content_type="application/json")
    assert r.status_code in (400, 422)
    assert "error" in r.json()


def test_a_json_body_nested_too_deeply_is_refused_not_a_500(alice, api_as):
    deep = '{"a":' * 20_000 + "1" + "}" * 20_000  # past the parser's recursion limit
    for who, path in ((None, "/api/v1/apps"), (alice, "/api/v1/statuses")):
        api = api_as(who)
        r = api.client.post(path, deep, content_type="application/json", **api.headers)
        assert r.status_code in (400, 422), (path, r.status_code)
        assert "error" in r.json()


def test_verify_credentials_with_an_app_only_token(api_as):
    from tribune.oauth.models import Application
    from tribune.oauth.services import token_create

    app = api_as(None).post("/api/v1/apps", json={
        "client_name": "Lone app", "redirect_uris": OOB, "scopes": "read write",
        "website": "https://lone.example"}).json()
    # What the client-credentials grant issues: a token with no user behind it.
    raw = token_create(user=None, application=Application.objects.get(pk=int(app["id"])),
                       scopes=["read"])
    r = Api(raw).get("/api/v1/apps/verify_credentials")
    assert r.status_code == 200, r.content
    assert r.json() == {
        "id": app["id"], "name": "Lone app", "website": "https://lone.example",
        "scopes": ["read", "write"], "redirect_uri": OOB, "redirect_uris": [OOB],
        "vapid_key": app["vapid_key"],
    }
    # An app-only token is not a user: user endpoints refuse it.
    r = Api(raw).get("/api/v1/accounts/verify_credentials")
    assert r.status_code == 422
    assert r.json()["error"] == "This method requires an authenticated user"


def test_verify_credentials_with_a_user_token(alice, api_as):
    from tribune.oauth.services import CLI_APPLICATION_NAME

    r = api_as(alice, scopes="write").get("/api/v1/apps/verify_credentials")  # any scope will do
    assert r.status_code == 200
    assert r.json()["name"] == CLI_APPLICATION_NAME
    assert "client_secret" not in r.json()


def test_verify_credentials_needs_a_valid_token(api_as):
    r = api_as(None).get("/api/v1/apps/verify_credentials")
    assert (r.status_code, r.json()) == (401, {"error": "The access token is invalid"})
    r = Api("nope").get("/api/v1/apps/verify_credentials")
    assert (r.status_code, r.json()) == (401, {"error": "The access token is invalid"})
