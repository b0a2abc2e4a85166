"""End to end with Mastodon.py, as one everyday journey against the real server:
find someone with search, follow them and put them in a list, receive their new
poll on the user stream, read it on the list's timeline, vote in it, then see a
home filter applied to the list's timeline (Mastodon applies home filters to
lists)."""

from __future__ import annotations

import queue
import threading
import time

import pytest
from mastodon import CallbackStreamListener, Mastodon

from tests.e2e.conftest import stream_closed

PASSWORD = "correct-horse-battery-staple"
WAIT = 30  # seconds before a missing event fails the test


@pytest.fixture(scope="module")
def everyday(server):
    clients = []
    for token in server.accounts("everydayreader", "everydaywriter").values():
        clients.append(
            Mastodon(
                access_token=token,
                api_base_url=server.base_url,
                version_check_mode="none",
                ratelimit_method="throw",
            )
        )
    return clients


class Listener(CallbackStreamListener):
    """Collects updates; ``ready`` is set by the first comment line, which the
    server writes once the stream is subscribed."""

    def __init__(self) -> None:
        self.updates: queue.Queue[dict] = queue.Queue()
        self.ready = threading.Event()
        super().__init__(update_handler=self.updates.put)

    def handle_heartbeat(self) -> None:
        self.ready.set()

    def update_with_id(self, status_id) -> dict:
        """The first update about ``status_id``; fails after ``WAIT`` seconds
        without one (a bounded wait, not a timing assertion)."""
        deadline = time.monotonic() + WAIT
        while True:
            update = self.updates.get(timeout=max(deadline - time.monotonic(), 0.1))
            if update["id"] == status_id:
                return update


def test_search_list_stream_poll_and_filter_in_one_journey(everyday):
    reader, writer = everyday
    found = reader.search_v2("everydaywriter", result_type="accounts")
    [writer_account] = [a for a in found["accounts"] if a["acct"] == "everydaywriter"]
    assert writer_account["id"] == writer.me()["id"]
    reader.account_follow(writer_account["id"])

    kites = reader.list_create("Kite club")
    reader.list_accounts_add(kites["id"], [writer_account["id"]])
    assert [a["id"] for a in reader.list_accounts(kites["id"])] == [
        writer_account["id"]
    ]

    listener = Listener()
    handle = reader.stream_user(listener, run_async=True)
    try:
        assert listener.ready.wait(WAIT)
        posted = writer.status_post(
            "Which kite colour for Sunday?",
            poll=writer.make_poll(["Crimson", "Teal"], expires_in=3600),
        )
        update = listener.update_with_id(posted["id"])
        assert "Which kite colour" in update["content"]
        assert [o["title"] for o in update["poll"]["options"]] == ["Crimson", "Teal"]
    finally:
        stream_closed(handle)  # not handle.close(): it waits for a heartbeat

    reader.status_post("My own words stay out of the list")
    timeline = reader.timeline_list(kites["id"])
    assert [s["id"] for s in timeline] == [posted["id"]]
    assert timeline[0]["filtered"] == []

    # Full-text search finds the posts one interacted with, a vote included
    # (Mastodon's rule; the writer has not opted in to search), whatever the case.
    assert reader.search_v2("KITE Colour", result_type="statuses")["statuses"] == []
    voted = reader.poll_vote(posted["poll"]["id"], [1])
    assert voted["voted"] is True and voted["own_votes"] == [1]
    assert [o["votes_count"] for o in voted["options"]] == [0, 1]
    found = reader.search_v2("KITE Colour", result_type="statuses")
    assert [s["id"] for s in found["statuses"]] == [posted["id"]]

    reader.create_filter_v2(
        title="Colours",
        context=["home"],
        filter_action="warn",
        keywords_attributes=[{"keyword": "colour", "whole_word": True}],
    )
    [seen] = reader.timeline_list(kites["id"])
    [result] = seen["filtered"]
    assert result["filter"]["title"] == "Colours"
    assert result["keyword_matches"] == ["colour"]
