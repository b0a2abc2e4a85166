"""Polls in the client API (docs: methods/polls, methods/statuses, entities/Poll),
every response checked against Mastodon's OpenAPI schema by ``tests.conftest.Api``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tribune.statuses.models import Poll

pytestmark = pytest.mark.django_db


def _post_poll(api, **poll):
    body = {"status": "Which one?", "poll": {"options": ["Tea", "Coffee"], "expires_in": 600, **poll}}
    response = api.post("/api/v1/statuses", json=body)
    assert response.status_code == 200, response.json()
    return response.json()


def test_create_with_form_parameters_as_clients_send_them(alice, api_as):
    response = api_as(alice).post("/api/v1/statuses", data={
        "status": "Lunch?", "poll[options][]": ["Soup", "Salad", "Both"],
        "poll[expires_in]": "3600", "poll[multiple]": "true", "poll[hide_totals]": "false"})
    assert response.status_code == 200, response.json()
    poll = response.json()["poll"]
    assert [o["title"] for o in poll["options"]] == ["Soup", "Salad", "Both"]
    assert [o["votes_count"] for o in poll["options"]] == [0, 0, 0]
    assert (poll["multiple"], poll["expired"], poll["votes_count"], poll["voters_count"]) == (
        True, False, 0, 0)
    # The author has "voted" in Mastodon's sense (Poll#voted? counts the owner) with no votes.
    assert (poll["voted"], poll["own_votes"]) == (True, [])
    stored = Poll.objects.get(pk=int(poll["id"]))
    expected_end = stored.created_at + timedelta(seconds=3600)
    assert stored.expires_at == expected_end
    assert poll["expires_at"].startswith(expected_end.strftime("%Y-%m-%dT%H:%M:%S"))


@pytest.mark.parametrize(("poll", "message"), [
    ({"options": ["only"], "expires_in": 600}, "at least 2 options"),
    ({"options": ["a", "b", "c", "d", "e"], "expires_in": 600}, "more than 4"),
    ({"options": ["a", "b"], "expires_in": 60}, "too short"),
    ({"options": ["a", "b"]}, "number of seconds"),
])
def test_bad_polls_are_422(alice, api_as, poll, message):
    response = api_as(alice).post("/api/v1/statuses", json={"status": "?", "poll": poll})
    assert response.status_code == 422
    assert message in response.json()["error"]


def test_vote_and_read_results(alice, bob, carol, api_as):
    created = _post_poll(api_as(alice))
    poll_id = created["poll"]["id"]
    bob_api = api_as(bob)
    before = bob_api.get(f"/api/v1/polls/{poll_id}").json()
    assert (before["voted"], before["own_votes"]) == (False, [])

    voted = bob_api.post(f"/api/v1/polls/{poll_id}/votes", data={"choices[]": ["1"]})
    assert voted.status_code == 200, voted.json()
    body = voted.json()
    assert (body["voted"], body["own_votes"]) == (True, [1])
    assert [o["votes_count"] for o in body["options"]] == [0, 1]
    assert (body["votes_count"], body["voters_count"]) == (1, 1)

    api_as(carol).post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]})
    anonymous = api_as().get(f"/api/v1/polls/{poll_id}").json()
    assert [o["votes_count"] for o in anonymous["options"]] == [1, 1]
    # No viewer: nothing to say (Mastodon leaves them out; the schema allows null).
    assert (anonymous.get("voted"), anonymous.get("own_votes")) == (None, None)

    # The status as bob reads it carries his votes; alice's own (author) view too.
    status = bob_api.get(f"/api/v1/statuses/{created['id']}").json()
    assert (status["poll"]["voted"], status["poll"]["own_votes"]) == (True, [1])
    assert status["poll"]["votes_count"] == 2


@pytest.mark.parametrize(("who", "choices", "status", "message"), [
    ("bob", [5], 422, "option does not exist"),
    ("bob", [], 422, "Choices can't be blank"),
    ("bob", [0, 1], 422, "only one choice"),
    ("alice", [0], 422, "your own polls"),
])
def test_refused_votes(alice, bob, api_as, who, choices, status, message):
    poll_id = _post_poll(api_as(alice))["poll"]["id"]
    account = {"alice": alice, "bob": bob}[who]
    response = api_as(account).post(f"/api/v1/polls/{poll_id}/votes", json={"choices": choices})
    assert response.status_code == status
    assert message in response.json()["error"]


def test_second_vote_and_ended_poll_are_422(alice, bob, carol, api_as):
    poll_id = _post_poll(api_as(alice))["poll"]["id"]
    assert api_as(bob).post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}).status_code == 200
    again = api_as(bob).post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [1]})
    assert (again.status_code, again.json()["error"]) == (
        422, "Validation failed: You have already voted on this poll")
    Poll.objects.filter(pk=poll_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    late = api_as(carol).post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [1]})
    assert (late.status_code, late.json()["error"]) == (
        422, "Validation failed: The poll has already ended")
    ended = api_as(carol).get(f"/api/v1/polls/{poll_id}").json()
    assert ended["expired"] is True


def test_unknown_and_hidden_polls_are_404(alice, bob, api_as):
    assert api_as(bob).get("/api/v1/polls/123").status_code == 404
    assert api_as(bob).get("/api/v1/polls/x").status_code == 404
    private = api_as(alice).post("/api/v1/statuses", json={
        "status": "followers only", "visibility": "private",
        "poll": {"options": ["a", "b"], "expires_in": 600}}).json()
    poll_id = private["poll"]["id"]
    assert api_as(bob).get(f"/api/v1/polls/{poll_id}").status_code == 404
    assert api_as(bob).post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}).status_code == 404


def test_hidden_totals_show_to_the_author_and_after_the_end(alice, bob, api_as):
    created = _post_poll(api_as(alice), hide_totals=True)
    poll_id = created["poll"]["id"]
    body = api_as(bob).post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}).json()
    assert [o["votes_count"] for o in body["options"]] == [None, None]
    assert body["votes_count"] == 1
    own = api_as(alice).get(f"/api/v1/polls/{poll_id}").json()
    assert [o["votes_count"] for o in own["options"]] == [1, 0]
    Poll.objects.filter(pk=poll_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    ended = api_as(bob).get(f"/api/v1/statuses/{created['id']}").json()["poll"]
    assert [o["votes_count"] for o in ended["options"]] == [1, 0]


def test_media_and_poll_together_are_422(alice, api_as):
    response = api_as(alice).post("/api/v1/statuses", json={
        "status": "both", "media_ids": ["1"], "poll": {"options": ["a", "b"], "expires_in": 600}})
    assert response.status_code == 422
    assert "cannot have media" in response.json()["error"]


def test_edit_changes_the_poll_as_mastodon_does(alice, bob, api_as):
    a = api_as(alice)
    created = _post_poll(a)
    poll_id = created["poll"]["id"]
    api_as(bob).post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [1]})
    same = a.put(f"/api/v1/statuses/{created['id']}", json={
        "status": "Which one, then?", "poll": {"options": ["Tea", "Coffee"], "expires_in": 7200}})
    assert same.status_code == 200
    assert [o["votes_count"] for o in same.json()["poll"]["options"]] == [0, 1]
    changed = a.put(f"/api/v1/statuses/{created['id']}", json={
        "status": "Which one, then?", "poll": {"options": ["Tea", "Coffee", "Cocoa"],
                                               "expires_in": 7200}}).json()
    assert [o["votes_count"] for o in changed["poll"]["options"]] == [0, 0, 0]
    assert changed["poll"]["votes_count"] == 0
    removed = a.put(f"/api/v1/statuses/{created['id']}", json={"status": "No poll now"}).json()
    assert removed["poll"] is None


def test_instance_announces_the_limits_the_server_applies(api_as):
    from tribune.statuses.polls import POLL_LIMITS

    expected = {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300,
                "max_expiration": 2629746}
    assert expected == POLL_LIMITS
    assert api_as().get("/api/v1/instance").json()["configuration"]["polls"] == expected
    assert api_as().get("/api/v2/instance").json()["configuration"]["polls"] == expected


@pytest.mark.parametrize("body", [
    {"status": "?", "poll": "yes"},
    {"status": "?", "poll": {"options": {"a": 1}, "expires_in": 600}},
    {"status": "?", "poll": {"options": ["a", "b"], "expires_in": [600]}},
    {"status": "?", "poll": {"options": ["a", "b"], "expires_in": 1e30}},
    {"status": "?", "poll": {"options": ["a", 2], "expires_in": 600}},
    {"status": "?", "poll": {"options": ["a", "b"], "expires_in": True}},
])
def test_malformed_poll_parameters_are_422(alice, api_as, body):
    response = api_as(alice).post("/api/v1/statuses", json=body)
    assert response.status_code in (400, 422), response.content
    assert "error" in response.json()
    assert not Poll.objects.exists()


def test_malformed_form_poll_and_choices_are_422(alice, bob, api_as):
    response = api_as(alice).post("/api/v1/statuses", data={
        "status": "?", "poll[options]": "a", "poll[expires_in]": "600"})
    assert response.status_code == 422
    poll_id = _post_poll(api_as(alice))["poll"]["id"]
    for body in ({"choices": {"a": 1}}, {"choices": [[0]]}, {"choices": ["99999999999999999999"]}):
        refused = api_as(bob).post(f"/api/v1/polls/{poll_id}/votes", json=body)
        assert refused.status_code in (400, 422), (body, refused.content)
