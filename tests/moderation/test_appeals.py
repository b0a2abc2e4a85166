"""Appeals go to someone uninvolved, or wait; a reversal restores the post and
overrules the strike (moderation reference §8.12, behaviours 4, 5, 11)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tribune.core.errors import Conflict, Forbidden, ValidationFailed
from tribune.graph.services import block_create, follow_create
from tribune.moderation.appeals import (
    appeal_create,
    appeal_decide,
    appeals_assign_pending,
    excluded_reviewer_ids,
)
from tribune.moderation.decisions import Reasons, decision_create
from tribune.moderation.log import verify_log
from tribune.moderation.models import Appeal, Decision, LogEntry, Strike
from tribune.moderation.services import report_create, rule_create
from tribune.statuses.selectors import status_get_visible
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def removed(alice, bob, make_account):
    """alice's post, reported by bob, removed by ``mod``."""
    rule = rule_create(text="Be kind", severity_tier=3)
    status = status_create(account=alice, text="fools, all of you")
    case = report_create(reporter=bob, target=alice, status_ids=[status.pk],
                         rule_ids=[rule.pk]).case
    mod = make_account("mod", admin=True)
    decision = decision_create(case_id=case.pk, moderator=mod, restriction="remove",
                               reasons=Reasons(facts="An insult.", rule_id=rule.pk,
                                               explanation="Unkind."))
    return decision, status, mod


def test_with_only_involved_staff_the_appeal_waits_and_alerts(removed, alice):
    decision, _status, _mod = removed
    appeal = appeal_create(account=alice, decision_id=decision.pk, text="Please look again.")
    assert appeal.state == "pending" and appeal.reviewer is None
    assert appeal.alert_raised_at is not None
    assert LogEntry.objects.filter(action="appeal.no_reviewer", target_id=appeal.pk).exists()


@pytest.mark.parametrize("tie", ["follows_author", "followed_by_reporter",
                                 "blocks_decider", "blocked_by_author", "is_reporter"])
def test_no_involved_or_connected_person_reviews(removed, alice, bob, make_account, tie):
    decision, _status, mod = removed
    candidate = make_account("candidate", admin=True)
    if tie == "follows_author":
        follow_create(account=candidate, target=alice)
    elif tie == "followed_by_reporter":
        follow_create(account=bob, target=candidate)
    elif tie == "blocks_decider":
        block_create(account=candidate, target=mod)
    elif tie == "blocked_by_author":
        block_create(account=alice, target=candidate)
    elif tie == "is_reporter":
        report_create(reporter=candidate, target=alice, status_ids=[decision.status_id],
                      category="spam")
    assert candidate.pk in excluded_reviewer_ids(Decision.objects.get(pk=decision.pk))
    appeal = appeal_create(account=alice, decision_id=decision.pk, text="Please.")
    assert appeal.state == "pending"
    # A moderator with no ties arrives: the waiting appeal goes to them.
    outsider = make_account("outsider", admin=True)
    assert appeals_assign_pending() == 1
    appeal.refresh_from_db()
    assert appeal.reviewer_id == outsider.pk


def test_reversal_restores_the_post_and_overrules_the_strike(removed, alice, carol,
                                                             make_account):
    decision, status, mod = removed
    reviewer = make_account("reviewer", admin=True)
    appeal = appeal_create(account=alice, decision_id=decision.pk, text="A joke.")
    assert appeal.reviewer_id == reviewer.pk
    with pytest.raises(Forbidden):
        appeal_decide(reviewer=mod, appeal_id=appeal.pk, reverse=True, response="Fine.")
    with pytest.raises(ValidationFailed):
        appeal_decide(reviewer=reviewer, appeal_id=appeal.pk, reverse=True, response="  ")
    appeal = appeal_decide(reviewer=reviewer, appeal_id=appeal.pk, reverse=True,
                           response="In context, a joke.")
    assert appeal.state == "reversed"
    new = appeal.resolution
    assert (new.supersedes_id, new.restriction, new.decided_via) == (
        decision.pk, "none", "appeal_reviewer")
    assert status_get_visible(status_id=status.pk, viewer=carol).removed_at is None
    assert Strike.objects.get(decision=decision).overruled_at is not None
    assert Decision.objects.get(pk=decision.pk).lifted_at is not None
    assert verify_log().intact


def test_upheld_keeps_the_restriction(removed, alice, make_account):
    decision, status, _mod = removed
    reviewer = make_account("reviewer", admin=True)
    appeal = appeal_create(account=alice, decision_id=decision.pk, text="Unfair.")
    appeal_decide(reviewer=reviewer, appeal_id=appeal.pk, reverse=False,
                  response="It insults everyone; the rule applies.")
    status.refresh_from_db()
    assert status.removed_at is not None
    with pytest.raises(Conflict):
        appeal_create(account=alice, decision_id=decision.pk, text="Again.")


def test_only_the_author_appeals_a_restriction_and_only_in_time(removed, alice, carol):
    decision, _status, _mod = removed
    with pytest.raises(Forbidden):
        appeal_create(account=carol, decision_id=decision.pk, text="Not mine.")
    Decision.objects.filter(pk=decision.pk).update(
        appeal_deadline=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationFailed):
        appeal_create(account=alice, decision_id=decision.pk, text="Too late.")
    assert not Appeal.objects.exists()


def test_a_reporter_appeals_no_action_and_a_reviewer_restricts(alice, bob, make_account, carol):
    rule = rule_create(text="No threats", severity_tier=2)
    status = status_create(account=alice, text="watch your back")
    case = report_create(reporter=bob, target=alice, status_ids=[status.pk],
                         rule_ids=[rule.pk]).case
    mod, reviewer = make_account("mod", admin=True), make_account("reviewer", admin=True)
    decision = decision_create(case_id=case.pk, moderator=mod, restriction="none",
                               reasons=Reasons(facts="Ambiguous phrase."))
    assert decision.appeal_deadline - decision.created_at >= timedelta(days=182)
    with pytest.raises(Forbidden):
        appeal_create(account=alice, decision_id=decision.pk, text="Author of no action?")
    appeal = appeal_create(account=bob, decision_id=decision.pk, text="It was a threat.")
    assert (appeal.appellant_role, appeal.reviewer_id) == ("reporter", reviewer.pk)
    with pytest.raises(ValidationFailed):
        appeal_decide(reviewer=reviewer, appeal_id=appeal.pk, reverse=True, response="Yes.")
    appeal_decide(reviewer=reviewer, appeal_id=appeal.pk, reverse=True, response="A threat.",
                  restriction="remove",
                  reasons=Reasons(facts="A threat to a member.", rule_id=rule.pk,
                                  explanation="Threatens harm."))
    status.refresh_from_db()
    assert status.removed_at is not None


def test_a_reviewer_who_becomes_connected_loses_the_appeal(removed, alice, make_account):
    decision, status, _mod = removed
    first = make_account("first", admin=True)
    appeal = appeal_create(account=alice, decision_id=decision.pk, text="Please.")
    assert appeal.reviewer_id == first.pk
    second = make_account("second", admin=True)
    follow_create(account=first, target=alice)  # a tie that arose after assignment
    with pytest.raises(Forbidden, match="gone to another reviewer"):
        appeal_decide(reviewer=first, appeal_id=appeal.pk, reverse=True, response="Fine.")
    appeal.refresh_from_db()
    assert (appeal.state, appeal.reviewer_id) == ("assigned", second.pk)
    status.refresh_from_db()
    assert status.removed_at is not None  # the refused answer changed nothing
    assert LogEntry.objects.filter(action="appeal.unassigned", target_id=appeal.pk).exists()
