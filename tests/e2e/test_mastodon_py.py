"""End to end: the real server driven by Mastodon.py, as a Mastodon app would.

App registration, the OAuth authorization-code flow over plain HTTP (with and without
PKCE), then the social core through the client library: follow, post with mention and
hashtag, timelines, favourite, reblog, reply and context, notifications, edit and
history, delete, a poll voted in and read, pagination of 45 posts through Link
headers, and the error cases.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNotFoundError,
    MastodonUnauthorizedError,
)

REDIRECT = "http://127.0.0.1/callback"
SCOPES = ["read", "write", "follow", "push"]
PASSWORD = "correct-horse-battery-staple"


def eventually(check, timeout: float = 20.0):
    """Retry ``check`` until it returns a truthy value: fan-out and notifications run
    on the task workers a moment after the request."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


def main_form(text: str) -> str:
    """The first form in the page's <main> (the header holds a sign-out form)."""
    main = text[text.index("<main"):]
    return re.search(r"<form.*?</form>", main, re.S).group(0)


def form_action(page: requests.Response) -> str:
    """Where the page's main form posts to, as a browser resolves it."""
    from urllib.parse import urljoin

    tag = re.search(r"<form[^>]*>", main_form(page.text)).group(0)
    match = re.search(r'action="([^"]*)"', tag)
    return urljoin(page.url, html.unescape(match.group(1))) if match else page.url


def hidden_inputs(page: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", main_form(page)):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


def authorize(server, client_id: str, client_secret: str, username: str, *, pkce: bool) -> dict:
    """The authorization-code flow over plain HTTP: sign in, consent, exchange."""
    session = requests.Session()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
              "scope": " ".join(SCOPES), "state": secrets.token_hex(8)}
    verifier = secrets.token_urlsafe(48)
    if pkce:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        params.update(code_challenge=challenge, code_challenge_method="S256")
    page = session.get(f"{server.base_url}/oauth/authorize", params=params)
    assert page.status_code == 200
    if 'name="password"' in page.text:  # the sign-in form comes first
        form = hidden_inputs(page.text)
        form.update(username=username, password=PASSWORD)
        page = session.post(form_action(page), data=form, headers={"Referer": page.url})
        assert page.status_code == 200, page.text[:500]
    assert "allow" in page.text
    consent = hidden_inputs(page.text)
    consent["allow"] = "Authorize"
    answer = session.post(form_action(page), data=consent, allow_redirects=False,
                          headers={"Referer": page.url})
    assert answer.status_code == 302, answer.text[:500]
    location = urlparse(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == [params["state"]]
    token_request = {"grant_type": "authorization_code", "code": query["code"][0],
                     "client_id": client_id, "client_secret": client_secret, "redirect_uri": REDIRECT}
    if pkce:
        token_request["code_verifier"] = verifier
    token = requests.post(f"{server.base_url}/oauth/token", data=token_request)
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer"
    assert isinstance(body["created_at"], int)
    assert set(body["scope"].split()) == set(SCOPES)
    return body


@pytest.fixture(scope="module")
def clients(server):
    for name in ("alice", "bob"):
        done = server.cli("createuser", name, "--email", f"{name}@example.test", "--password", PASSWORD)
        assert done.returncode == 0, done.stderr
    client_id, client_secret = Mastodon.create_app("Tribune e2e", scopes=SCOPES, redirect_uris=REDIRECT,
                                                   api_base_url=server.base_url)
    alice_token = authorize(server, client_id, client_secret, "alice", pkce=True)["access_token"]
    bob_token = authorize(server, client_id, client_secret, "bob", pkce=False)["access_token"]

    def client(token):
        return Mastodon(client_id=client_id, client_secret=client_secret, access_token=token,
                        api_base_url=server.base_url, version_check_mode="created",
                        ratelimit_method="throw")

    return client(alice_token), client(bob_token), client_id, client_secret


def test_app_credentials_and_instance(clients, server):
    alice, _, _, _ = clients
    assert alice.app_verify_credentials()["name"] == "Tribune e2e"
    instance = alice.instance()
    assert instance["version"].startswith("4.3.0 (compatible; Tribune")
    assert alice.verify_minimum_version("4.0.0", cached=True)
    me = alice.account_verify_credentials()
    assert me["username"] == "alice" and me["acct"] == "alice"
    assert me["avatar"].startswith(server.base_url)


def test_social_journey(clients):
    alice, bob, _, _ = clients
    bob_account = alice.account_lookup("bob")
    relationship = alice.account_follow(bob_account["id"])
    assert relationship["following"] is True

    post = bob.status_post("Hello @alice, welcome to #TribuneE2E")
    assert [m["acct"] for m in post["mentions"]] == ["alice"]
    assert [t["name"] for t in post["tags"]] == ["tribunee2e"]

    eventually(lambda: post["id"] in [s["id"] for s in alice.timeline_home()])
    assert post["id"] in [s["id"] for s in alice.timeline_local()]
    assert post["id"] in [s["id"] for s in alice.timeline_hashtag("tribunee2e")]

    assert alice.status_favourite(post["id"])["favourited"] is True
    reblog = alice.status_reblog(post["id"])
    assert reblog["reblog"]["id"] == post["id"]

    reply = alice.status_post("@bob thanks!", in_reply_to_id=post["id"])
    context = bob.status_context(post["id"])
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]
    assert [s["id"] for s in bob.status_context(reply["id"])["ancestors"]] == [post["id"]]

    def bob_notified():
        types = {(n["type"], n["account"]["acct"]) for n in bob.notifications()}
        return {("follow", "alice"), ("favourite", "alice"), ("reblog", "alice"),
                ("mention", "alice")} <= types
    eventually(bob_notified)
    eventually(lambda: any(n["type"] == "mention" and n["status"]["id"] == post["id"]
                           for n in alice.notifications()))

    edited = bob.status_update(post["id"], status="Hello again @alice #TribuneE2E")
    assert edited["edited_at"] is not None
    history = bob.status_history(post["id"])
    assert len(history) == 2
    assert "Hello again" not in history[0]["content"]
    assert "Hello again" in history[1]["content"]
    eventually(lambda: any(n["type"] == "update" for n in alice.notifications()))

    deleted = bob.status_delete(post["id"])
    assert deleted["text"] == "Hello again @alice #TribuneE2E"
    with pytest.raises(MastodonNotFoundError):
        alice.status(post["id"])
    eventually(lambda: post["id"] not in [s["id"] for s in alice.timeline_home()]
               and all((s.get("reblog") or {}).get("id") != post["id"] for s in alice.timeline_home()))
    assert post["id"] not in [s["id"] for s in alice.timeline_local()]


def test_poll_journey(clients):
    alice, bob, _, _ = clients
    poll = alice.make_poll(["Rain", "Sun", "Snow"], expires_in=600, multiple=True)
    post = alice.status_post("Tomorrow's weather?", poll=poll)
    poll_id = post["poll"]["id"]
    assert [o["title"] for o in post["poll"]["options"]] == ["Rain", "Sun", "Snow"]
    assert post["poll"]["multiple"] is True and post["poll"]["expired"] is False

    voted = bob.poll_vote(poll_id, [0, 2])
    assert (voted["voted"], voted["own_votes"]) == (True, [0, 2])
    with pytest.raises(MastodonAPIError) as twice:
        bob.poll_vote(poll_id, [1])
    assert twice.value.args[1] == 422
    with pytest.raises(MastodonAPIError) as own:
        alice.poll_vote(poll_id, [1])
    assert own.value.args[1] == 422

    results = alice.poll(poll_id)
    assert [o["votes_count"] for o in results["options"]] == [1, 0, 1]
    assert (results["votes_count"], results["voters_count"]) == (2, 1)
    assert bob.status(post["id"])["poll"]["own_votes"] == [0, 2]


def test_pagination_through_link_headers(clients):
    _, bob, _, _ = clients
    posted = [bob.status_post(f"page test {i}", visibility="unlisted")["id"] for i in range(45)]
    seen, page = [], bob.account_statuses(bob.me()["id"], limit=20)
    while page:
        seen += [s["id"] for s in page]
        page = bob.fetch_next(page)
    ours = [i for i in seen if i in set(posted)]
    assert ours == list(reversed(posted))
    assert len(seen) == len(set(seen))


def test_error_cases(clients, server):
    alice, _, _, _ = clients
    with pytest.raises(MastodonAPIError) as too_long:
        alice.status_post("x" * 501)
    assert too_long.value.args[1] == 422
    with pytest.raises(MastodonNotFoundError):
        alice.status("1")
    stranger = Mastodon(access_token="not-a-token", api_base_url=server.base_url)
    with pytest.raises(MastodonUnauthorizedError):
        stranger.timeline_home()
    token = server.cli("token", "alice", "--scopes", "read").stdout.strip().splitlines()[-1]
    read_only = Mastodon(access_token=token, api_base_url=server.base_url)
    assert read_only.account_verify_credentials()["username"] == "alice"
    with pytest.raises(MastodonAPIError) as forbidden:
        read_only.status_post("not allowed")
    assert forbidden.value.args[1] == 403
