"""End to end with Mastodon.py: its streaming client, pointed by the instance
endpoint at the streaming process that ``tribune serve`` starts, receives the
update of a new post and a notification (delays are measured in
bench/streaming/delay.py, not asserted here)."""

from __future__ import annotations

import queue
import threading

import pytest
from mastodon import CallbackStreamListener, Mastodon

from tests.e2e.conftest import stream_closed

PASSWORD = "correct-horse-battery-staple"
WAIT = 30  # seconds before a missing event fails the test


@pytest.fixture(scope="module")
def streamers(server):
    clients = []
    for token in server.accounts("streamone", "streamtwo").values():
        clients.append(Mastodon(access_token=token, api_base_url=server.base_url,
                                version_check_mode="none", ratelimit_method="throw"))
    return clients


class Listener(CallbackStreamListener):
    """Collects events; ``ready`` is set by the first comment line, which the
    server writes once the stream is subscribed."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.ready = threading.Event()
        super().__init__(update_handler=lambda s: self.events.put(("update", s)),
                         notification_handler=lambda n: self.events.put(("notification", n)))

    def handle_heartbeat(self) -> None:
        self.ready.set()

    def next(self, kind: str) -> dict:
        while True:
            name, data = self.events.get(timeout=WAIT)
            if name == kind:
                return data


def test_the_user_stream_delivers_a_new_post_and_a_notification(streamers, server):
    one, two = streamers
    advertised = one.instance()["configuration"]["urls"]["streaming"]
    assert advertised.startswith("ws://127.0.0.1:")
    assert advertised != server.base_url.replace("http", "ws", 1)  # its own process
    two.account_follow(one.me()["id"])
    listener = Listener()
    handle = one.stream_user(listener, run_async=True)
    try:
        assert listener.ready.wait(WAIT)
        posted = one.status_post("live from the stream")
        update = listener.next("update")
        assert update["id"] == posted["id"]
        assert "live from the stream" in update["content"]
        two.status_favourite(posted["id"])
        notification = listener.next("notification")
        assert notification["type"] == "favourite"
        assert notification["account"]["acct"] == "streamtwo"
        assert notification["status"]["id"] == posted["id"]
    finally:
        stream_closed(handle)  # not handle.close(): it waits for a heartbeat
