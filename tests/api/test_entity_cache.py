"""The home timeline answers from cached entities (ADR 0013) yet always shows the
current rows: after every kind of change, its Status entity equals the one
``GET /api/v1/statuses/:id`` renders from the rows, and the changed value is the
one expected. (Cards: tests/links/test_cards.py.)"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db(transaction=True)


def on_home(client, status_id: str) -> dict | None:
    for entity in client.get("/api/v1/timelines/home", {"limit": 40}).json():
        if entity["id"] == status_id:
            return entity
    return None


def fresh(client, status_id: str) -> dict:
    response = client.get(f"/api/v1/statuses/{status_id}")
    assert response.status_code == 200
    return response.json()


def same_as_rows(client, status_id: str) -> dict:
    cached = on_home(client, status_id)
    assert cached == fresh(client, status_id)
    return cached


def test_every_change_shows_on_the_next_read(alice, bob, carol, api_as, make_account):
    from tribune.accounts.services import account_update
    from tribune.graph.services import follow_create
    from tribune.moderation.decisions import Reasons, decision_create
    from tribune.moderation.services import report_create, rule_create

    follow_create(account=alice, target=bob)
    a, b, c = api_as(alice), api_as(bob), api_as(carol)
    sid = b.post("/api/v1/statuses", json={"status": "first words #one"}).json()["id"]
    assert same_as_rows(a, sid)["favourites_count"] == 0  # now cached

    c.post(f"/api/v1/statuses/{sid}/favourite")
    assert same_as_rows(a, sid)["favourites_count"] == 1
    a.post(f"/api/v1/statuses/{sid}/favourite")
    entity = same_as_rows(a, sid)
    assert (entity["favourites_count"], entity["favourited"]) == (2, True)
    c.post(f"/api/v1/statuses/{sid}/unfavourite")
    assert same_as_rows(a, sid)["favourites_count"] == 1

    c.post(f"/api/v1/statuses/{sid}/reblog")
    assert same_as_rows(a, sid)["reblogs_count"] == 1
    reply = c.post("/api/v1/statuses", json={"status": "@bob yes",
                                              "in_reply_to_id": sid}).json()["id"]
    assert same_as_rows(a, sid)["replies_count"] == 1
    c.delete(f"/api/v1/statuses/{reply}")
    c.post(f"/api/v1/statuses/{sid}/unreblog")
    entity = same_as_rows(a, sid)
    assert (entity["replies_count"], entity["reblogs_count"]) == (0, 0)

    b.put(f"/api/v1/statuses/{sid}", json={"status": "second words #two"})
    entity = same_as_rows(a, sid)
    assert "second words" in entity["content"] and entity["edited_at"] is not None
    assert [t["name"] for t in entity["tags"]] == ["two"]

    account_update(account=bob, display_name="Bob Renamed")
    assert same_as_rows(a, sid)["account"]["display_name"] == "Bob Renamed"
    follow_create(account=carol, target=bob)
    assert same_as_rows(a, sid)["account"]["followers_count"] == 2
    b.post("/api/v1/statuses", json={"status": "another"})
    assert same_as_rows(a, sid)["account"]["statuses_count"] == 2

    rule = rule_create(text="Mark graphic posts", severity_tier=3)
    case = report_create(reporter=carol, target=bob, status_ids=[int(sid)],
                         rule_ids=[rule.pk]).case
    decision_create(case_id=case.pk, moderator=make_account("mod", admin=True),
                    restriction="label", label_text="Graphic",
                    reasons=Reasons(facts="A picture.", rule_id=rule.pk, explanation="Label."))
    entity = same_as_rows(a, sid)
    assert (entity["spoiler_text"], entity["sensitive"]) == ("Graphic", True)


def test_a_removed_or_deleted_status_leaves_the_cached_page(alice, bob, carol, api_as,
                                                            make_account):
    from tribune.graph.services import follow_create
    from tribune.moderation.decisions import Reasons, decision_create
    from tribune.moderation.services import report_create, rule_create

    follow_create(account=alice, target=bob)
    follow_create(account=alice, target=carol)
    dave = make_account("dave")
    a, b, c = api_as(alice), api_as(bob), api_as(carol)
    removed = b.post("/api/v1/statuses", json={"status": "to be removed"}).json()["id"]
    deleted = c.post("/api/v1/statuses", json={"status": "to be deleted"}).json()["id"]
    original = api_as(dave).post("/api/v1/statuses", json={"status": "rude"}).json()["id"]
    boost = c.post(f"/api/v1/statuses/{original}/reblog").json()["id"]
    home = [s["id"] for s in a.get("/api/v1/timelines/home").json()]
    assert home == [boost, deleted, removed]  # cached now

    rule = rule_create(text="No insults", severity_tier=3)
    mod = make_account("mod", admin=True)
    for target, status_id in ((bob, removed), (dave, original)):
        case = report_create(reporter=carol if target == bob else bob, target=target,
                             status_ids=[int(status_id)], rule_ids=[rule.pk]).case
        decision_create(case_id=case.pk, moderator=mod, restriction="remove",
                        reasons=Reasons(facts="An insult.", rule_id=rule.pk, explanation="No."))
    c.delete(f"/api/v1/statuses/{deleted}")
    assert [s["id"] for s in a.get("/api/v1/timelines/home").json()] == []
    # the author still sees the removed post on their own home timeline
    assert [s["id"] for s in b.get("/api/v1/timelines/home").json()] == [removed]


def test_a_warm_page_reads_no_status_rows(alice, bob, api_as):
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    a, b = api_as(alice), api_as(bob)
    for n in range(20):
        b.post("/api/v1/statuses", json={"status": f"post {n}"})
    with CaptureQueriesContext(connection) as cold:
        first = a.get("/api/v1/timelines/home").json()
    with CaptureQueriesContext(connection) as warm:
        again = a.get("/api/v1/timelines/home").json()
    assert again == first and len(first) == 20
    prefetches = ("media_mediaattachment", "statuses_mention", "statuses_status_tags")
    assert any(t in q["sql"] for q in cold.captured_queries for t in prefetches)
    assert not any(t in q["sql"] for q in warm.captured_queries for t in prefetches)
