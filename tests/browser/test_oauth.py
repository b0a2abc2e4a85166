"""An app gets a token through the consent page, as Mastodon apps do: it registers,
opens /oauth/authorize in the browser, the person signs in and presses Authorize,
and the browser brings the code to the app's redirect URI (here a small HTTP
listener on loopback), which exchanges it for a token."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.ui import make_users, unique


class _Callback(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.received.append(self.path)
        body = b"<!DOCTYPE html><title>Signed in</title><p>You can close this window.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def app_listener():
    """The app's redirect URI: records each request it receives."""
    listener = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    listener.received = []
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    yield listener
    listener.shutdown()
    listener.server_close()


def test_authorization_code_flow_through_the_consent_page(server, checks, app_listener):
    username = unique("fay")
    make_users(server, username)
    redirect_uri = f"http://127.0.0.1:{app_listener.server_port}/callback"
    app = requests.post(f"{server.base_url}/api/v1/apps", data={
        "client_name": "Browser Test App", "redirect_uris": redirect_uri,
        "scopes": "read write", "website": "https://example.test/app"}, timeout=30)
    assert app.status_code == 200, app.text
    client_id, client_secret = app.json()["client_id"], app.json()["client_secret"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(12)

    fay = checks.person()
    fay.page.goto("/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": "read write", "state": state, "code_challenge": challenge,
        "code_challenge_method": "S256"}))
    fay.fill_sign_in(username, visit=True)  # the app's page asks to sign in first
    consent = fay.page.get_by_role("main")
    expect(fay.page.get_by_role("heading", level=1)).to_have_text("Authorization required")
    expect(consent).to_contain_text("Browser Test App")
    expect(consent).to_contain_text(f"@{username}")
    checks.visit(fay.page, "consent")

    fay.submit(fay.button("Authorize"))
    fay.page.wait_for_url(f"{redirect_uri}?*")
    expect(fay.page.get_by_text("You can close this window.")).to_be_visible()
    checks.screenshots.take(fay.page, "back-in-the-app")
    assert len(app_listener.received) == 1
    answer = parse_qs(urlsplit(app_listener.received[0]).query)
    assert answer["state"] == [state]

    token = requests.post(f"{server.base_url}/oauth/token", data={
        "grant_type": "authorization_code", "code": answer["code"][0],
        "client_id": client_id, "client_secret": client_secret,
        "redirect_uri": redirect_uri, "code_verifier": verifier}, timeout=30)
    assert token.status_code == 200, token.text
    assert set(token.json()["scope"].split()) == {"read", "write"}
    me = requests.get(f"{server.base_url}/api/v1/accounts/verify_credentials", timeout=30,
                      headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["username"] == username
    checks.done()
