"""POST /api/v1/reports (docs: methods/reports.md), checked against the Mastodon
OpenAPI schema by the api_as client."""

from __future__ import annotations

import pytest

from tribune.moderation.models import Case, Report
from tribune.moderation.services import rule_create
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db


def test_report_a_status_with_rules(alice, bob, api_as):
    rule = rule_create(text="No harassment", severity_tier=1)
    status = status_create(account=alice, text="mean words")
    response = api_as(bob).post("/api/v1/reports", json={
        "account_id": str(alice.pk), "status_ids": [str(status.pk)],
        "rule_ids": [str(rule.pk)], "comment": "targeted", "forward": False})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["category"] == "violation"  # rule_ids force it, as in Mastodon
    assert body["rule_ids"] == [str(rule.pk)]
    assert body["status_ids"] == [str(status.pk)]
    assert body["target_account"]["id"] == str(alice.pk)
    assert body["action_taken"] is False and body["action_taken_at"] is None
    case = Case.objects.get()
    assert (case.subject_key, case.severity_tier) == (f"status:{status.pk}", 1)


def test_report_with_form_parameters(alice, bob, api_as):
    response = api_as(bob).post("/api/v1/reports", data={
        "account_id": str(alice.pk), "category": "spam", "comment": "buy now"})
    assert response.status_code == 200, response.content
    assert response.json()["category"] == "spam"
    assert response.json()["rule_ids"] is None


@pytest.mark.parametrize("payload, status", [
    ({"account_id": "999999"}, 404),
    ({"account_id": "ALICE", "category": "nonsense"}, 422),
    ({"account_id": "ALICE", "category": "violation"}, 422),
    ({"account_id": "ALICE", "comment": "x" * 1001}, 422),
    ({"account_id": "BOB"}, 422),
])
def test_bad_reports_are_refused_and_leave_nothing(alice, bob, api_as, payload, status):
    payload = {k: (str(alice.pk) if v == "ALICE" else str(bob.pk) if v == "BOB" else v)
               for k, v in payload.items()}
    response = api_as(bob).post("/api/v1/reports", json=payload)
    assert response.status_code == status
    assert "error" in response.json()
    assert not Report.objects.exists()


def test_reports_need_the_write_reports_scope(alice, bob, api_as):
    response = api_as(bob, scopes="read").post("/api/v1/reports",
                                               json={"account_id": str(alice.pk)})
    assert response.status_code == 403
