"""End to end with Mastodon.py: a filter made with keywords as an app makes it,
then seen as ``filtered`` on a timeline's status; a hide filter leaves a post
out; keywords added and removed, the filter deleted."""

from __future__ import annotations

import time

import pytest
from mastodon import Mastodon

PASSWORD = "correct-horse-battery-staple"


def eventually(check, timeout: float = 20.0):
    """Retry ``check`` until it returns a truthy value: posts reach home
    timelines through the task workers a moment after they are written."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)
    return value


@pytest.fixture(scope="module")
def people(server):
    clients = []
    for token in server.accounts("filterone", "filtertwo",
                                 scopes="read write follow push").values():
        clients.append(
            Mastodon(
                access_token=token,
                api_base_url=server.base_url,
                version_check_mode="none",
                ratelimit_method="throw",
            )
        )
    return clients


def test_filters_v2_through_mastodon_py(people):
    reader, writer = people
    reader.account_follow(writer.me()["id"])
    made = reader.create_filter_v2(
        title="Gardening",
        context=["home", "public"],
        filter_action="warn",
        keywords_attributes=[
            {"keyword": "tomato", "whole_word": True},
            {"keyword": "slug", "whole_word": False},
        ],
    )
    assert sorted(k["keyword"] for k in made["keywords"]) == ["slug", "tomato"]
    assert [f["id"] for f in reader.filters_v2()] == [made["id"]]

    warned = writer.status_post("My tomatoes and tomato plants, and sluggish snails")
    plain = writer.status_post("Nothing to see")
    home = eventually(lambda: (h := reader.timeline_home()) and len(h) >= 2 and h)
    by_id = {s["id"]: s for s in home}
    [result] = by_id[warned["id"]]["filtered"]
    assert result["filter"]["title"] == "Gardening"
    assert sorted(result["keyword_matches"]) == ["slug", "tomato"]
    assert by_id[plain["id"]]["filtered"] == []

    hide = reader.create_filter_v2(
        title="Quiet",
        context=["home"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "nothing"}],
    )
    assert plain["id"] not in [s["id"] for s in reader.timeline_home()]

    keyword = reader.add_filter_keyword_v2(made["id"], "compost", whole_word=False)
    assert keyword["keyword"] == "compost"
    assert len(reader.filter_keywords_v2(made["id"])) == 3
    reader.delete_filter_keyword_v2(keyword["id"])
    reader.delete_filter_v2(hide["id"])
    assert plain["id"] in [s["id"] for s in reader.timeline_home()]
    assert [f["title"] for f in reader.filters_v2()] == ["Gardening"]
