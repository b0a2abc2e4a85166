"""The streaming process for real: ``tribune serve`` on loopback ports starts it,
and a post made through the API arrives as an ``update`` over Server-Sent Events
and over a WebSocket, on the embedded default (the StreamEvent table, polled) and
with Redis pub/sub."""

from __future__ import annotations

import json
import queue
import re
import threading

import pytest
import requests
import websocket

import tests.instances as instances
from tests.e2e.conftest import close_stream, start_server, stop_server

WAIT = 30  # seconds before a missing event fails the test


def _private_redis_url() -> str:
    """A database on the session's private redis-server (tests/instances.py)."""
    if instances._redis is None:
        instances._redis = instances._PrivateRedis()
    return instances._redis.new_url()


@pytest.fixture(scope="module", params=["table", "redis"])
def live(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp(f"streaming-{request.param}")
    redis_url = _private_redis_url() if request.param == "redis" else ""
    process, server, log = start_server(data_dir, TRIBUNE_REDIS_URL=redis_url)
    tokens = server.accounts("writer", "reader")
    streaming = requests.get(f"{server.base_url}/api/v1/instance", timeout=10).json()[
        "urls"]["streaming_api"]
    yield server, tokens, streaming.replace("ws", "http", 1)
    stop_server(process, log, data_dir)


def post(server, token: str, text: str, **extra) -> dict:
    response = requests.post(f"{server.base_url}/api/v1/statuses", timeout=30,
                             headers={"Authorization": f"Bearer {token}"},
                             json={"status": text, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def sse_events(response, into: queue.Queue) -> None:
    """Parse Server-Sent Events into ``(event, data)`` pairs; a comment line is
    ``(":", text)``."""
    event = None
    try:
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith(":"):
                into.put((":", line[1:]))
            elif line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: "):
                into.put((event, line[len("data: "):]))
    except (requests.RequestException, AttributeError, ValueError):
        return  # closed by the test


def next_event(events: queue.Queue, name: str):
    while True:
        event, data = events.get(timeout=WAIT)
        if event == name:
            return data


def test_health_and_refusals(live):
    _server, _tokens, http_base = live
    health = requests.get(f"{http_base}/api/v1/streaming/health", timeout=10)
    assert (health.status_code, health.text) == (200, "OK")
    bad = requests.get(f"{http_base}/api/v1/streaming/user", timeout=10,
                       headers={"Authorization": "Bearer not-a-token"})
    assert (bad.status_code, bad.json()) == (401, {"error": "The access token is invalid"})
    anonymous = requests.get(f"{http_base}/api/v1/streaming/user", timeout=10)
    assert anonymous.status_code == 401 and "error" in anonymous.json()
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(
            f"{http_base.replace('http', 'ws', 1)}/api/v1/streaming?access_token=wrong", timeout=10)
    assert refused.value.status_code == 401


def test_an_update_over_server_sent_events(live):
    server, tokens, http_base = live
    events: queue.Queue = queue.Queue()
    response = requests.get(f"{http_base}/api/v1/streaming/user", stream=True,
                            headers={"Authorization": f"Bearer {tokens['writer']}"},
                            timeout=(10, WAIT))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    threading.Thread(target=sse_events, args=(response, events), daemon=True).start()
    try:
        assert events.get(timeout=WAIT) == (":", ")")  # subscribed
        posted = post(server, tokens["writer"], "over server-sent events")
        update = json.loads(next_event(events, "update"))
        assert update["id"] == posted["id"]
        assert update["account"]["username"] == "writer"
    finally:
        close_stream(response)


def test_an_update_over_a_websocket_with_subscribe_and_unsubscribe(live):
    server, tokens, http_base = live
    ws = websocket.create_connection(
        f"{http_base.replace('http', 'ws', 1)}/api/v1/streaming?stream=public:local",
        timeout=WAIT, header=[f"Authorization: Bearer {tokens['reader']}"])
    try:
        ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "Sunrise"}))
        ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": "1"}))
        # Messages are handled in order: the list's refusal comes after the subscription.
        assert json.loads(ws.recv()) == {"error": "Record not found", "status": 404}
        posted = post(server, tokens["writer"], "watching the #sunrise")
        received = {}
        while len(received) < 2:
            message = json.loads(ws.recv())
            assert message["event"] == "update"
            assert json.loads(message["payload"])["id"] == posted["id"]
            received[tuple(message["stream"])] = True
        assert set(received) == {("public:local",), ("hashtag", "Sunrise")}
        ws.send(json.dumps({"type": "unsubscribe", "stream": "public:local"}))
        ws.send(json.dumps({"type": "bogus"}))
        assert json.loads(ws.recv()) == {"error": "Unknown message type", "status": 400}
        quiet = post(server, tokens["writer"], "second #sunrise")
        message = json.loads(ws.recv())
        assert (message["stream"], json.loads(message["payload"])["id"]) == (
            ["hashtag", "Sunrise"], quiet["id"])
    finally:
        ws.close()


def test_the_web_interface_streams_notifications_by_its_session(live):
    server, tokens, http_base = live
    browser = requests.Session()
    page = browser.get(f"{server.base_url}/auth/sign_in", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    signed_in = browser.post(f"{server.base_url}/auth/sign_in", timeout=30, data={
        "csrfmiddlewaretoken": csrf, "username": "reader",
        "password": "correct-horse-battery-staple"})
    assert signed_in.status_code == 200
    home = browser.get(f"{server.base_url}/", timeout=30).text
    assert f'data-streaming="{http_base}/api/v1/streaming"' in home
    assert 'data-stream="user"' in home
    elsewhere = requests.get(f"{http_base}/api/v1/streaming/user/notification", timeout=10,
                             cookies=browser.cookies, headers={"Origin": "http://elsewhere.example"})
    assert elsewhere.status_code == 401  # another site's page gets no session
    events: queue.Queue = queue.Queue()
    response = requests.get(f"{http_base}/api/v1/streaming/user/notification", stream=True,
                            cookies=browser.cookies, headers={"Origin": server.base_url},
                            timeout=(10, WAIT))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == server.base_url
    assert response.headers["access-control-allow-credentials"] == "true"
    threading.Thread(target=sse_events, args=(response, events), daemon=True).start()
    try:
        assert events.get(timeout=WAIT) == (":", ")")
        auth = {"Authorization": f"Bearer {tokens['writer']}"}
        reader = requests.get(f"{server.base_url}/api/v1/accounts/lookup", timeout=30,
                              params={"acct": "reader"}, headers=auth).json()
        followed = requests.post(f"{server.base_url}/api/v1/accounts/{reader['id']}/follow",
                                 headers=auth, timeout=30)
        assert followed.status_code == 200
        notification = json.loads(next_event(events, "notification"))
        assert (notification["type"], notification["account"]["username"]) == ("follow", "writer")
    finally:
        close_stream(response)
