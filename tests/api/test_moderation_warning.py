"""A decision reaches Mastodon apps as a ``moderation_warning`` notification with
its AccountWarning (statement of reasons as text, appeal state)."""

from __future__ import annotations

import pytest

from tribune.moderation.appeals import appeal_create
from tribune.moderation.decisions import Reasons, decision_create
from tribune.moderation.services import report_create, rule_create
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db


def test_the_author_gets_the_warning_with_reasons_and_appeal_state(alice, bob, make_account,
                                                                    api_as):
    moderator = make_account("mod", admin=True)
    rule = rule_create(text="No spam links", severity_tier=4)
    status = status_create(account=alice, text="buy now")
    case = report_create(reporter=bob, target=alice, status_ids=[status.pk],
                         rule_ids=[rule.pk]).case
    decision = decision_create(case_id=case.pk, moderator=moderator, restriction="remove",
                               reasons=Reasons(facts="Advertising links posted repeatedly.",
                                               rule_id=rule.pk, explanation="Unsolicited ads."))
    appeal_create(account=alice, decision_id=decision.pk, text="These were not ads.")
    api = api_as(alice)
    [notification] = api.get("/api/v1/notifications").json()
    assert notification["type"] == "moderation_warning"
    warning = notification["moderation_warning"]
    assert warning["id"] == str(decision.pk)
    assert warning["action"] == "delete_statuses"
    assert warning["status_ids"] == [str(status.pk)]
    assert "Unsolicited ads." in warning["text"] and "No spam links" in warning["text"]
    assert warning["appeal"] == {"state": "pending", "text": "These were not ads."}
    assert warning["target_account"]["id"] == str(alice.pk)
    # The removed post is gone for others, still there for its author.
    assert api_as(bob).get(f"/api/v1/statuses/{status.pk}").status_code == 404
    assert api.get(f"/api/v1/statuses/{status.pk}").status_code == 200
