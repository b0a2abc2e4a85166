"""Reply controls (who may reply: everyone, followers, the mentioned) and local-only
posts, through the client API: GoToSocial's ``interaction_policy`` in and out,
glitch-soc's ``local_only``."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

FOLLOWERS_ONLY = {"error": "Only followers of the author can reply to this post."}
MENTIONED_ONLY = {"error": "Only the accounts this post mentions can reply to it."}


def post(api, text: str, **extra) -> dict:
    response = api.post("/api/v1/statuses", json={"status": text, **extra})
    assert response.status_code == 200, response.content
    return response.json()


def can_reply(*audiences: str) -> dict:
    return {"can_reply": {"always": list(audiences), "with_approval": []}}


def reply(api, status: dict, text: str = "an answer"):
    return api.post("/api/v1/statuses", json={"status": text, "in_reply_to_id": status["id"]})


def test_a_post_open_to_all_shows_goto_socials_policy_and_takes_any_reply(alice, bob, api_as):
    made = post(api_as(alice), "open to all")
    assert made["local_only"] is False
    assert made["interaction_policy"] == {
        "can_favourite": {"always": ["public", "me"], "with_approval": []},
        "can_reply": {"always": ["public", "me"], "with_approval": []},
        "can_reblog": {"always": ["public", "me"], "with_approval": []},
    }
    assert reply(api_as(bob), made).status_code == 200


def test_followers_and_mentioned_accounts_may_reply_to_a_followers_reply_post(
        alice, bob, carol, make_account, api_as):
    dave = make_account("dave")
    api_as(bob).post(f"/api/v1/accounts/{alice.pk}/follow")
    made = post(api_as(alice), "@dave among friends",
                interaction_policy=can_reply("followers", "mentioned", "author"))
    assert made["interaction_policy"]["can_reply"]["always"] == ["followers", "mentioned", "me"]
    assert made["visibility"] == "public"  # who may reply is not who may read

    refused = reply(api_as(carol), made)
    assert (refused.status_code, refused.json()) == (403, FOLLOWERS_ONLY)
    assert reply(api_as(bob), made).status_code == 200
    assert reply(api_as(dave), made).status_code == 200  # mentioned, not following
    assert reply(api_as(alice), made).status_code == 200  # the author
    thread = api_as(alice).get(f"/api/v1/statuses/{made['id']}/context").json()
    assert sorted(s["account"]["username"] for s in thread["descendants"]) == [
        "alice", "bob", "dave"]
    assert api_as(alice).get(f"/api/v1/statuses/{made['id']}").json()["replies_count"] == 3


def test_only_the_mentioned_may_reply_to_a_mentioned_reply_post(alice, bob, carol, api_as):
    api_as(bob).post(f"/api/v1/accounts/{alice.pk}/follow")
    made = post(api_as(alice), "@carol just us", interaction_policy=can_reply("mentioned"))
    refused = reply(api_as(bob), made)  # a follower, not mentioned
    assert (refused.status_code, refused.json()) == (403, MENTIONED_ONLY)
    assert reply(api_as(carol), made).status_code == 200
    # A reply to a boost of it answers the original, under the same rule.
    boost = api_as(carol).post(f"/api/v1/statuses/{made['id']}/reblog").json()
    assert reply(api_as(bob), boost).status_code == 403


@pytest.mark.parametrize("policy", [
    {"can_reply": {"always": ["mutuals"]}},
    {"can_reply": {"always": ["public"], "with_approval": ["followers"]}},
    {"can_reply": {"always": "everyone"}},
    {"can_reply": ["public"]},
])
def test_an_interaction_policy_that_cannot_be_kept_is_refused_with_422(alice, api_as, policy):
    api = api_as(alice)
    response = api.post("/api/v1/statuses", json={"status": "x", "interaction_policy": policy})
    assert response.status_code == 422
    assert response.json()["error"].startswith("Validation failed")
    assert api.get(f"/api/v1/accounts/{alice.pk}/statuses").json() == []


def test_the_form_encoded_policy_of_goto_socials_clients(alice, api_as):
    response = api_as(alice).post("/api/v1/statuses", data={
        "status": "form", "interaction_policy[can_reply][always][]": ["followers", "author"]})
    assert response.status_code == 200, response.content
    assert response.json()["interaction_policy"]["can_reply"]["always"] == [
        "followers", "mentioned", "me"]


def test_a_local_only_post_is_seen_by_local_accounts_never_by_visitors(alice, bob, api_as):
    made = post(api_as(alice), "kept at home", local_only=True)
    assert made["local_only"] is True
    visitor = api_as(None)
    assert visitor.get(f"/api/v1/statuses/{made['id']}").status_code == 404
    assert made["id"] not in [s["id"] for s in visitor.get("/api/v1/timelines/public").json()]
    assert made["id"] not in [s["id"] for s in
                              visitor.get(f"/api/v1/accounts/{alice.pk}/statuses").json()]
    assert api_as(bob).get(f"/api/v1/statuses/{made['id']}").status_code == 200
    assert made["id"] in [s["id"] for s in
                          api_as(bob).get("/api/v1/timelines/public?local=true").json()]


def test_boosts_and_replies_of_a_local_only_post_stay_local(alice, bob, api_as):
    made = post(api_as(alice), "kept at home", local_only=True)
    boost = api_as(bob).post(f"/api/v1/statuses/{made['id']}/reblog").json()
    answer = reply(api_as(bob), made).json()
    assert boost["local_only"] is True
    assert answer["local_only"] is True
    visitor = api_as(None)
    assert visitor.get(f"/api/v1/statuses/{boost['id']}").status_code == 404
    assert visitor.get(f"/api/v1/statuses/{answer['id']}").status_code == 404
    # A reply may still choose to go out.
    public_answer = api_as(bob).post("/api/v1/statuses", json={
        "status": "out loud", "in_reply_to_id": made["id"], "local_only": False}).json()
    assert public_answer["local_only"] is False


def test_a_scheduled_post_keeps_local_only_and_reply_controls(alice, bob, api_as):
    from datetime import timedelta

    from django.utils import timezone

    from tribune.scheduling.services import scheduled_status_publish

    api = api_as(alice)
    when = (timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = api.post("/api/v1/statuses", json={
        "status": "later", "scheduled_at": when, "local_only": True,
        "interaction_policy": can_reply("followers")})
    assert response.status_code == 200, response.content
    [scheduled] = api.get("/api/v1/scheduled_statuses").json()
    published = scheduled_status_publish(scheduled_status_id=scheduled["id"],
                                         now=timezone.now() + timedelta(hours=2))
    made = api.get(f"/api/v1/statuses/{published.pk}").json()
    assert made["local_only"] is True
    assert made["interaction_policy"]["can_reply"]["always"] == ["followers", "mentioned", "me"]
    assert reply(api_as(bob), made).json() == FOLLOWERS_ONLY


def test_a_quote_of_a_local_only_post_stays_local_unless_asked(alice, bob, api_as):
    made = post(api_as(alice), "kept at home", local_only=True)
    quote = api_as(bob).post("/api/v1/statuses", json={
        "status": "quoting it", "quoted_status_id": made["id"]}).json()
    assert quote["local_only"] is True
    assert api_as(None).get(f"/api/v1/statuses/{quote['id']}").status_code == 404
