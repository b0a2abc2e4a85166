"""Inputs that once broke the API, each kept as a test."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_form_carries_next_to_the_consent_page(alice):
    client = Client(HTTP_HOST="localhost")
    target = "/oauth/authorize?client_id=x&response_type=code"
    page = client.get("/auth/sign_in", {"next": target}).content.decode()
    assert 'name="next" value="/oauth/authorize?client_id=x&amp;response_type=code"' in page
    done = client.post("/auth/sign_in", {"username": "alice", "password": "a-long-test-passphrase",
                                         "next": target})
    assert done.status_code == 302 and done["Location"] == target


@pytest.mark.parametrize("path", ["/oauth/token/", "/oauth/revoke/"])
def test_oauth_endpoints_accept_a_trailing_slash(path):
    response = Client(HTTP_HOST="localhost").post(path, {"client_id": "nope"})
    assert response.status_code in (400, 401)
    assert "error" in response.json()


def test_oauth_authorize_accepts_a_trailing_slash():
    response = Client(HTTP_HOST="localhost").get("/oauth/authorize/", {"client_id": "nope"})
    assert response.status_code != 404


def test_head_is_answered_like_get_without_a_body():
    response = Client(HTTP_HOST="localhost").head("/api/v1/instance")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response["Content-Length"]) > 100


def test_access_token_as_a_query_or_form_parameter(alice, api_as):
    from tribune.oauth.services import cli_application_get_or_create, token_create

    token = token_create(user=alice.user, application=cli_application_get_or_create(),
                         scopes=["read", "write"])
    client = Client(HTTP_HOST="localhost")
    me = client.get("/api/v1/accounts/verify_credentials", {"access_token": token})
    assert me.status_code == 200 and me.json()["username"] == "alice"
    posted = client.post("/api/v1/statuses", {"access_token": token, "status": "form token"})
    assert posted.status_code == 200
    assert client.get("/api/v1/accounts/verify_credentials", {"access_token": "wrong"}).status_code == 401


def test_cors_lets_browsers_page_and_send_idempotency_keys():
    client = Client(HTTP_HOST="localhost")
    preflight = client.options("/api/v1/statuses", HTTP_ORIGIN="https://app.example",
                               HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,idempotency-key")
    assert "idempotency-key" in preflight["Access-Control-Allow-Headers"].lower()
    response = client.get("/api/v1/timelines/public", HTTP_ORIGIN="https://app.example")
    exposed = response["Access-Control-Expose-Headers"].lower()
    assert "link" in exposed and "x-ratelimit-remaining" in exposed


def test_json_integer_ids_in_bodies(alice, api_as):
    api = api_as(alice)
    root = api.post("/api/v1/statuses", json={"status": "root"}).json()["id"]
    reply = api.post("/api/v1/statuses", json={"status": "reply", "in_reply_to_id": int(root)})
    assert reply.status_code == 200 and reply.json()["in_reply_to_id"] == root


def test_update_credentials_with_put(alice, api_as):
    response = api_as(alice).put("/api/v1/accounts/update_credentials", json={"display_name": "Put"})
    assert response.status_code == 200 and response.json()["display_name"] == "Put"


def test_a_scheduled_poll_is_kept_not_dropped(alice, api_as):
    poll = {"options": ["a", "b"], "expires_in": 300}
    response = api_as(alice).post("/api/v1/statuses", json={
        "status": "later?", "poll": poll, "scheduled_at": "2030-01-01T00:00:00Z"})
    assert response.status_code == 200, response.content
    assert response.json()["params"]["poll"] == {**poll, "multiple": False,
                                                 "hide_totals": False}
    alice.refresh_from_db()
    assert alice.statuses_count == 0


@pytest.mark.parametrize("shape", ["+{id}", "%20{id}", "0{id}", "{id}%00", "１"])
def test_ids_in_paths_are_parsed_strictly(alice, api_as, shape):
    api = api_as(alice)
    sid = api.post("/api/v1/statuses", json={"status": "x"}).json()["id"]
    response = api.get("/api/v1/statuses/" + shape.format(id=sid))
    assert response.status_code == 404


def test_posting_language_must_look_like_a_language(alice, api_as):
    response = api_as(alice).patch("/api/v1/accounts/update_credentials",
                                   json={"source": {"language": "not a language"}})
    assert response.status_code == 422


def test_a_reply_to_a_reblog_answers_the_original(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    original = a.post("/api/v1/statuses", json={"status": "original"}).json()["id"]
    reblog = b.post(f"/api/v1/statuses/{original}/reblog").json()["id"]
    reply = b.post("/api/v1/statuses", json={"status": "@alice yes", "in_reply_to_id": reblog})
    assert reply.status_code == 200
    assert reply.json()["in_reply_to_id"] == original
    assert reply.json()["in_reply_to_account_id"] == str(alice.pk)


def test_status_language_must_look_like_a_language(alice, api_as):
    api = api_as(alice)
    assert api.post("/api/v1/statuses", json={"status": "x", "language": "zz-notalang!"}).status_code == 422
    assert api.post("/api/v1/statuses", json={"status": "x", "language": "pt-BR"}).json()["language"] == "pt-BR"


@pytest.mark.parametrize("path, method, body", [
    ("/api/v1/statuses", "post", '{"status": "\\ud800"}'),
    ("/api/v1/statuses", "post", '{"status": "x", "spoiler_text": "\\udc00"}'),
    ("/api/v1/accounts/update_credentials", "patch", '{"display_name": "\\ud800"}'),
    ("/api/v1/apps", "post", '{"client_name": "\\ud800", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}'),
    ("/api/v1/statuses", "post", b'{"status": "raw \xed\xa0\x80"}'),
])
def test_lone_surrogates_are_a_client_error(alice, api_as, path, method, body):
    api = api_as(alice)
    response = getattr(api.client, method)(path, body, content_type="application/json", **api.headers)
    assert response.status_code == 400
    assert "error" in response.json()
    alice.refresh_from_db()
    assert alice.statuses_count == 0


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
def test_unknown_api_paths_are_404_for_every_method(alice, api_as, method):
    api = api_as(alice)
    response = getattr(api.client, method)("/api/v1/nonexistent", **api.headers)
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}


def test_access_token_inside_a_json_body(alice):
    from tests.conftest import Api
    from tribune.oauth.services import cli_application_get_or_create, token_create

    token = token_create(user=alice.user, application=cli_application_get_or_create(),
                         scopes=["read", "write"])
    response = Api().post("/api/v1/statuses", json={"status": "json token", "access_token": token})
    assert response.status_code == 200
    assert response.json()["account"]["username"] == "alice"


@pytest.mark.rate_limits
def test_deletion_limit_is_per_account_and_preflights_are_free(alice, api_as, settings):
    settings.TRIBUNE_RATE_LIMITS = True
    first = api_as(alice)
    ids = [first.post("/api/v1/statuses", json={"status": f"d{i}"}).json()["id"] for i in range(31)]
    for sid in ids[:30]:
        assert first.delete(f"/api/v1/statuses/{sid}").status_code == 200
    fresh_token = api_as(alice)  # a new token buys no new deletions
    limited = fresh_token.delete(f"/api/v1/statuses/{ids[30]}")
    assert limited.status_code == 429
    client = Client(HTTP_HOST="localhost")
    before = client.get("/api/v1/instance")["X-RateLimit-Remaining"]
    for _ in range(3):
        client.options("/api/v1/instance", HTTP_ORIGIN="https://app.example",
                       HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    after = client.get("/api/v1/instance")["X-RateLimit-Remaining"]
    assert int(before) - int(after) == 1


# A NUL character reaches no query: PostgreSQL's text cannot hold one (SQLite's can),
# so each of these was a 500 on PostgreSQL.
@pytest.mark.parametrize("path", [
    "/api/v1/markers?timeline[]=ho%00me",
    "/api/v1/accounts/lookup?acct=al%00ice",
    "/api/v2/search?q=a%00b",
    "/api/v1/accounts/search?q=a%00b",
    "/api/v1/notifications?types[]=men%00tion",
    "/api/v1/timelines/home?x%00=1",
])
def test_a_nul_in_a_query_parameter_is_a_client_error(alice, api_as, path):
    api = api_as(alice)
    response = api.client.get(path, **api.headers)
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]


@pytest.mark.parametrize("path", ["/api/v1/timelines/tag/a%00b", "/@al%00ice"])
def test_a_nul_in_a_path_names_nothing(alice, api_as, path):
    api = api_as(alice)
    response = api.client.get(path, **api.headers)
    assert response.status_code == 404


@pytest.mark.parametrize("path, method, body", [
    ("/api/v1/statuses", "post", {"status": "a\x00b"}),
    ("/api/v1/statuses", "post", {"status": "x", "spoiler_text": "\x00"}),
    ("/api/v1/apps", "post", {"client_name": "a\x00", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}),
    ("/api/v1/accounts/update_credentials", "patch", {"display_name": "a\x00"}),
])
@pytest.mark.parametrize("encoding", ["json", "form"])
def test_a_nul_in_a_body_is_a_client_error(alice, api_as, path, method, body, encoding):
    import json

    api = api_as(alice)
    send = getattr(api.client, method)
    if encoding == "json":
        response = send(path, json.dumps(body), content_type="application/json", **api.headers)
    elif method == "post":
        response = send(path, body, **api.headers)
    else:
        from urllib.parse import urlencode

        response = send(path, urlencode(body), content_type="application/x-www-form-urlencoded",
                        **api.headers)
    assert response.status_code == 400
    assert "error" in response.json()
    alice.refresh_from_db()
    assert alice.statuses_count == 0
    assert alice.display_name == "Alice"


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
@pytest.mark.parametrize("encoding", ["json", "form"])
def test_a_nul_in_an_oauth_parameter_is_invalid_request(path, encoding):
    import json

    body = {"grant_type": "client_credentials", "client_id": "app\x00", "client_secret": "s",
            "token": "t"}
    client = Client(HTTP_HOST="localhost")
    if encoding == "json":
        response = client.post(path, json.dumps(body), content_type="application/json")
    else:
        response = client.post(path, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_nul_in_a_web_query_is_a_client_error(alice):
    client = Client(HTTP_HOST="localhost")
    client.force_login(alice.user)
    assert client.get("/report-illegal-content", {"url": "a\x00b"}).status_code == 400
    assert client.get("/@al\x00ice").status_code == 404
    assert client.get("/oauth/authorize", {"client_id": "a\x00", "response_type": "code"}
                      ).status_code == 400
