"""HTTP behaviour of the real server that clients depend on."""

from __future__ import annotations

import requests

PASSWORD = "correct-horse-battery-staple"


def test_keep_alive_survives_requests_whose_body_is_never_read(server):
    """A POST refused before its body is read (403 scope, 404 id) must not leave the
    body on a keep-alive connection, where it would be parsed as the next request."""
    token = server.accounts("keeper", scopes="read")["keeper"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    api = f"{server.base_url}/api/v1"
    failures = 0
    for _ in range(15):
        refused = session.post(f"{api}/statuses", data={"status": "x" * 2000})
        assert refused.status_code == 403
        missing = session.post(f"{api}/accounts/1/unfollow", data={"reason": "y" * 500})
        assert missing.status_code in (403, 404)
        try:
            assert session.get(f"{api}/timelines/home").status_code == 200
        except requests.ConnectionError:
            failures += 1
    assert failures == 0


def test_head_and_trailing_slashes(server):
    head = requests.head(f"{server.base_url}/api/v1/instance/")
    assert head.status_code == 200 and head.content == b""
    metadata = requests.get(f"{server.base_url}/.well-known/oauth-authorization-server")
    assert metadata.status_code == 200
    token = requests.post(f"{server.base_url}/oauth/token/", data={"grant_type": "client_credentials",
                                                                 "client_id": "nope", "client_secret": "x"})
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"
