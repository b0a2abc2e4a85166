"""End to end with Mastodon.py: a direct message read through the conversations
endpoints, and a post scheduled, listed, moved and cancelled, as an app would."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

PASSWORD = "correct-horse-battery-staple"


def eventually(check, timeout: float = 20.0):
    """Retry ``check`` until it returns a truthy value: conversations are filed by
    the task workers a moment after the post."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)
    return value


@pytest.fixture(scope="module")
def people(server):
    clients = []
    for token in server.accounts("dmone", "dmtwo", scopes="read write follow push").values():
        clients.append(Mastodon(access_token=token, api_base_url=server.base_url,
                                version_check_mode="none", ratelimit_method="throw"))
        clients[-1].test_token = token
    return clients


def test_a_direct_message_through_conversations(people, server):
    one, two = people
    sent = one.status_post("@dmtwo just for you", visibility="direct")
    [conversation] = eventually(two.conversations)
    assert conversation["unread"] is True
    assert [a["acct"] for a in conversation["accounts"]] == ["dmone"]
    assert conversation["last_status"]["id"] == sent["id"]
    assert two.conversations_read(conversation["id"])["unread"] is False
    [mine] = one.conversations()
    assert mine["unread"] is False and [a["acct"] for a in mine["accounts"]] == ["dmtwo"]
    # Mastodon.py has no call for removing a conversation: the request as an app sends it.
    removed = requests.delete(f"{server.base_url}/api/v1/conversations/{conversation['id']}",
                              headers={"Authorization": f"Bearer {two.test_token}"}, timeout=30)
    assert (removed.status_code, removed.json()) == (200, {})
    assert two.conversations() == []
    assert len(one.conversations()) == 1


def test_a_scheduled_post_listed_moved_and_cancelled(people):
    one, _ = people
    when = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    scheduled = one.status_post("see you in an hour", scheduled_at=when, visibility="unlisted")
    assert scheduled["scheduled_at"] == when
    assert scheduled["params"]["text"] == "see you in an hour"
    assert [s["id"] for s in one.scheduled_statuses()] == [scheduled["id"]]
    later = when + timedelta(days=1)
    moved = one.scheduled_status_update(scheduled["id"], later)
    assert moved["scheduled_at"] == later
    with pytest.raises(MastodonAPIError, match="at least 5 minutes"):
        one.status_post("too soon", scheduled_at=datetime.now(UTC) + timedelta(minutes=1))
    one.scheduled_status_delete(scheduled["id"])
    with pytest.raises(MastodonNotFoundError):
        one.scheduled_status(scheduled["id"])
    assert one.scheduled_statuses() == []
