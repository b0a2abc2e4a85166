"""The filters API (Mastodon's /api/v2/filters and /api/v1/filters), each answer
checked against Mastodon's schema by ``Api``, and ``filtered`` on the statuses of
every timeline: per context, ``hide`` left out, expired filters ignored, a
constant number of queries per page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tribune.filters.models import Filter

pytestmark = pytest.mark.django_db(transaction=True)


def ids(response) -> list[str]:
    return [s["id"] for s in response.json()]


def filtered(response) -> dict[str, list[tuple[str, list | None]]]:
    """status id -> [(filter title, keyword_matches)] of a list of statuses."""
    return {
        s["id"]: [(r["filter"]["title"], r["keyword_matches"]) for r in s["filtered"]]
        for s in response.json()
    }


def test_v2_crud_with_form_and_json(alice, bob, api_as):
    a = api_as(alice)
    r = a.post(
        "/api/v2/filters",
        data={
            "title": "Sport",
            "context[]": ["home", "public"],
            "filter_action": "hide",
            "expires_in": "600",
            "keywords_attributes[][keyword]": ["football", "goal"],
            "keywords_attributes[][whole_word]": ["false", "1"],
        },
    )
    assert r.status_code == 200, r.json()
    created = r.json()
    assert (created["title"], created["context"], created["filter_action"]) == (
        "Sport",
        ["home", "public"],
        "hide",
    )
    assert [(k["keyword"], k["whole_word"]) for k in created["keywords"]] == [
        ("football", False),
        ("goal", True),
    ]
    assert created["expires_at"] is not None and created["statuses"] == []
    fid, football = created["id"], created["keywords"][0]["id"]
    r = a.put(
        f"/api/v2/filters/{fid}",
        json={
            "title": "Games",
            "context": ["thread"],
            "expires_in": None,
            "keywords_attributes": [
                {"id": football, "_destroy": True},
                {"keyword": "match"},
            ],
        },
    )
    assert r.status_code == 200
    assert (r.json()["title"], r.json()["context"], r.json()["expires_at"]) == (
        "Games",
        ["thread"],
        None,
    )
    assert sorted((k["keyword"], k["whole_word"]) for k in r.json()["keywords"]) == [
        ("goal", True),
        ("match", True),
    ]
    assert [f["id"] for f in a.get("/api/v2/filters").json()] == [fid]
    assert a.get(f"/api/v2/filters/{fid}").json()["title"] == "Games"

    r = a.post(
        f"/api/v2/filters/{fid}/keywords", data={"keyword": "Derby", "whole_word": "0"}
    )
    derby = r.json()
    assert (derby["keyword"], derby["whole_word"]) == ("Derby", False)
    r = a.put(f"/api/v2/filters/keywords/{derby['id']}", json={"whole_word": True})
    assert r.json() == {**derby, "whole_word": True}
    assert a.get(f"/api/v2/filters/keywords/{derby['id']}").json()["keyword"] == "Derby"
    assert len(a.get(f"/api/v2/filters/{fid}/keywords").json()) == 3
    assert a.delete(f"/api/v2/filters/keywords/{derby['id']}").json() == {}
    assert a.get(f"/api/v2/filters/keywords/{derby['id']}").status_code == 404

    post = api_as(bob).post("/api/v1/statuses", json={"status": "hello"}).json()["id"]
    r = a.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": post})
    assert r.json()["status_id"] == post
    again = a.post(f"/api/v2/filters/{fid}/statuses", json={"status_id": post})
    assert again.status_code == 422
    assert [
        s["status_id"] for s in a.get(f"/api/v2/filters/{fid}/statuses").json()
    ] == [post]
    assert a.get(f"/api/v2/filters/statuses/{r.json()['id']}").json() == r.json()
    assert a.delete(f"/api/v2/filters/statuses/{r.json()['id']}").json() == r.json()
    assert a.get(f"/api/v2/filters/{fid}/statuses").json() == []

    # Another person's filter does not exist for bob.
    b = api_as(bob)
    assert b.get(f"/api/v2/filters/{fid}").status_code == 404
    assert b.delete(f"/api/v2/filters/{fid}").status_code == 404
    assert a.delete(f"/api/v2/filters/{fid}").json() == {}
    assert a.get("/api/v2/filters").json() == []


def test_v2_errors(alice, api_as):
    a = api_as(alice)
    for body in (
        {"title": "x"},
        {"title": "", "context": ["home"]},
        {"title": "x", "context": ["nowhere"]},
        {"title": "x", "context": ["home"], "filter_action": "explode"},
        {"title": "x", "context": ["home"], "keywords_attributes": "words"},
    ):
        r = a.post("/api/v2/filters", json=body)
        assert r.status_code == 422 and "error" in r.json(), body
    assert a.get("/api/v2/filters/999").status_code == 404
    assert a.put("/api/v2/filters/nope", json={"title": "y"}).status_code == 404
    assert not Filter.objects.exists()
    assert (
        api_as(alice, scopes="read:statuses").get("/api/v2/filters").status_code == 403
    )


def test_v1_filters_are_keywords(alice, api_as):
    a = api_as(alice)
    r = a.post(
        "/api/v1/filters",
        json={
            "phrase": "spoiler",
            "context": ["home"],
            "irreversible": True,
            "whole_word": False,
        },
    )
    assert r.status_code == 200
    v1 = r.json()
    assert (v1["phrase"], v1["context"], v1["irreversible"], v1["whole_word"]) == (
        "spoiler",
        ["home"],
        True,
        False,
    )
    listed = a.client.get("/api/v1/filters", **a.headers).json()
    assert listed == [v1]
    r = a.put(
        f"/api/v1/filters/{v1['id']}",
        json={
            "phrase": "spoilers",
            "irreversible": False,
            "context": ["home", "public"],
        },
    )
    assert (r.json()["phrase"], r.json()["irreversible"], r.json()["context"]) == (
        "spoilers",
        False,
        ["home", "public"],
    )
    v2 = a.get("/api/v2/filters").json()
    assert [
        (f["title"], f["filter_action"], [k["keyword"] for k in f["keywords"]])
        for f in v2
    ] == [("spoiler", "warn", ["spoilers"])]
    assert a.delete(f"/api/v1/filters/{v1['id']}").json() == {}
    assert a.client.get("/api/v1/filters", **a.headers).json() == []


def _setup_posts(alice, bob, api_as):
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    b = api_as(bob)
    posts = {
        text: b.post("/api/v1/statuses", json={"status": text}).json()["id"]
        for text in (
            "A quiet morning",
            "The match was great",
            "Terrible weather",
            "Matchbox cars",
        )
    }
    return posts


def test_filtered_and_hidden_per_context(alice, bob, api_as):
    posts = _setup_posts(alice, bob, api_as)
    a = api_as(alice)
    a.post(
        "/api/v2/filters",
        json={
            "title": "Sport",
            "context": ["home", "thread"],
            "filter_action": "warn",
            "keywords_attributes": [{"keyword": "match", "whole_word": True}],
        },
    )
    a.post(
        "/api/v2/filters",
        json={
            "title": "Gloom",
            "context": ["home", "account"],
            "filter_action": "hide",
            "keywords_attributes": [{"keyword": "WEATHER"}],
        },
    )
    gone = a.post(
        "/api/v2/filters",
        json={
            "title": "Gone",
            "context": ["home"],
            "filter_action": "hide",
            "keywords_attributes": [{"keyword": "quiet"}],
        },
    ).json()
    Filter.objects.filter(pk=gone["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    home = a.get("/api/v1/timelines/home")
    assert ids(home) == [
        posts["Matchbox cars"],
        posts["The match was great"],
        posts["A quiet morning"],
    ]
    assert filtered(home) == {
        posts["Matchbox cars"]: [],
        posts["The match was great"]: [("Sport", ["match"])],
        posts["A quiet morning"]: [],
    }
    assert home.json()[1]["filtered"][0]["filter"]["filter_action"] == "warn"

    # Public: neither filter applies there.
    public = a.get("/api/v1/timelines/public")
    assert len(ids(public)) == 4 and all(not s["filtered"] for s in public.json())
    # The account's page: only the hide filter of "account".
    profile = a.get(f"/api/v1/accounts/{bob.pk}/statuses")
    assert posts["Terrible weather"] not in ids(profile) and len(ids(profile)) == 3
    # One status alone: every active filter is reported, nothing is left out.
    one = a.get(f"/api/v1/statuses/{posts['Terrible weather']}").json()
    assert [r["filter"]["title"] for r in one["filtered"]] == ["Gloom"]
    # Others see no filters of alice's.
    assert all(
        not s["filtered"] for s in api_as(bob).get("/api/v1/timelines/home").json()
    )


def test_thread_and_notifications_and_reblogs(alice, bob, carol, api_as):
    a, b = api_as(alice), api_as(bob)
    root = a.post("/api/v1/statuses", json={"status": "What did you think?"}).json()[
        "id"
    ]
    reply = b.post(
        "/api/v1/statuses",
        json={"status": "@alice the ending was sad", "in_reply_to_id": root},
    ).json()["id"]
    a.post(
        "/api/v2/filters",
        json={
            "title": "Endings",
            "context": ["thread"],
            "filter_action": "warn",
            "keywords_attributes": [{"keyword": "ending"}],
        },
    )
    context = a.get(f"/api/v1/statuses/{root}/context").json()
    assert [
        (s["id"], [r["filter"]["title"] for r in s["filtered"]])
        for s in context["descendants"]
    ] == [(reply, ["Endings"])]
    assert len(a.get("/api/v1/notifications").json()) == 1
    a.post(
        "/api/v2/filters",
        json={
            "title": "Sad",
            "context": ["notifications"],
            "filter_action": "hide",
            "keywords_attributes": [{"keyword": "sad"}],
        },
    )
    assert a.get("/api/v1/notifications").json() == []

    # A boost is filtered by its original's words, and by the original's id.
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    original = (
        api_as(carol).post("/api/v1/statuses", json={"status": "plain"}).json()["id"]
    )
    boost = b.post(f"/api/v1/statuses/{original}/reblog").json()["id"]
    f = a.post(
        "/api/v2/filters", json={"title": "This post", "context": ["home"]}
    ).json()
    a.post(f"/api/v2/filters/{f['id']}/statuses", json={"status_id": original})
    home = a.get("/api/v1/timelines/home").json()
    shown = {s["id"]: s for s in home}
    result = shown[boost]["filtered"][0]
    assert (result["filter"]["title"], result["status_matches"]) == (
        "This post",
        [original],
    )
    assert shown[boost]["reblog"]["filtered"] == shown[boost]["filtered"]


def test_filtered_page_runs_constant_queries(alice, bob, api_as):
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    a, b = api_as(alice), api_as(bob)
    a.post(
        "/api/v2/filters",
        json={
            "title": "W",
            "context": ["home", "public"],
            "keywords_attributes": [{"keyword": "word"}, {"keyword": "other"}],
        },
    )
    a.post(
        "/api/v2/filters",
        json={
            "title": "H",
            "context": ["home", "public"],
            "filter_action": "hide",
            "keywords_attributes": [{"keyword": "never"}],
        },
    )

    def count(path: str) -> int:
        a.get(path)  # the entity cache warmed, as on a live server
        with CaptureQueriesContext(connection) as queries:
            r = a.get(path)
        assert r.status_code == 200
        return len(queries)

    for i in range(2):
        b.post("/api/v1/statuses", json={"status": f"a word {i}"})
    small = {
        path: count(path)
        for path in ("/api/v1/timelines/home", "/api/v1/timelines/public")
    }
    for i in range(6):
        b.post("/api/v1/statuses", json={"status": f"another word {i}"})
    large = {path: count(path) for path in small}
    assert large == small
    assert all(s["filtered"] for s in a.get("/api/v1/timelines/home").json())
