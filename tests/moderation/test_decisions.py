"""Decisions: complete reasons, notice before restriction, reversible restrictions
that end by themselves, strikes (moderation reference §8.12, behaviours 2, 3, 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tribune.core.errors import Forbidden, NotFound, ValidationFailed
from tribune.core.pagination import Cursor
from tribune.moderation.decisions import Reasons, decision_create, decisions_lift_due
from tribune.moderation.log import verify_log
from tribune.moderation.models import Case, Decision, LogEntry, Strike
from tribune.moderation.services import report_create, rule_create
from tribune.notifications.models import Notification
from tribune.statuses.selectors import public_timeline, status_get_visible
from tribune.statuses.services import favourite_create, status_create

# Notices are e-mailed after commit, so these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reported(alice, bob):
    rule = rule_create(text="No harassment", severity_tier=3)
    status = status_create(account=alice, text="a rude post")
    report = report_create(reporter=bob, target=alice, status_ids=[status.pk], rule_ids=[rule.pk])
    return status, report.case, rule


def tc(rule, **kw):
    return Reasons(facts="The post insults another member by name.", ground="tc",
                   rule_id=rule.pk, explanation="Insulting a member is harassment.", **kw)


@pytest.mark.parametrize("missing", ["facts", "rule_id", "explanation"])
def test_a_restriction_without_complete_reasons_is_refused(reported, moderator, missing):
    status, case, rule = reported
    reasons = tc(rule)
    setattr(reasons, missing, "" if missing != "rule_id" else None)
    with pytest.raises(ValidationFailed):
        decision_create(case_id=case.pk, moderator=moderator, restriction="remove", reasons=reasons)
    assert not Decision.objects.exists()
    status.refresh_from_db()
    assert status.removed_at is None
    assert Case.objects.get(pk=case.pk).state == "open"


def test_illegal_ground_needs_the_law_and_a_category(reported, moderator):
    _status, case, _rule = reported
    reasons = Reasons(facts="Facts.", ground="law", explanation="Why it is illegal.")
    with pytest.raises(ValidationFailed):
        decision_create(case_id=case.pk, moderator=moderator, restriction="remove", reasons=reasons)
    reasons.legal_ground = "Criminal code, section 1"
    with pytest.raises(ValidationFailed):
        decision_create(case_id=case.pk, moderator=moderator, restriction="remove", reasons=reasons)
    reasons.category = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
    decision = decision_create(case_id=case.pk, moderator=moderator, restriction="remove",
                               reasons=reasons)
    assert decision.decision_ground == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert decision.automated_decision == "AUTOMATED_DECISION_NOT_AUTOMATED"


def test_only_staff_decide(reported, carol):
    _status, case, rule = reported
    with pytest.raises(Forbidden):
        decision_create(case_id=case.pk, moderator=carol, restriction="remove", reasons=tc(rule))


def test_removal_notifies_before_it_applies_and_hides_the_post(reported, moderator, alice, carol):
    status, case, rule = reported
    decision = decision_create(case_id=case.pk, moderator=moderator, restriction="remove",
                               reasons=tc(rule))
    assert decision.author_notified_at is not None
    assert decision.author_notified_at <= decision.applied_at
    notice = Notification.objects.get(account=alice, type="moderation_warning")
    assert notice.subject_id == decision.pk
    with pytest.raises(NotFound):
        status_get_visible(status_id=status.pk, viewer=carol)
    with pytest.raises(NotFound):
        status_get_visible(status_id=status.pk, viewer=None)
    assert status_get_visible(status_id=status.pk, viewer=alice).removed_at is not None
    # The e-mail carries the rule, the reasons, the detection and the appeal route.
    to_alice = [m for m in mail.outbox if m.to == [alice.user.email]]
    assert len(to_alice) == 1
    body = to_alice[0].body
    assert "No harassment" in body and "Insulting a member is harassment." in body
    assert f"/moderation/decisions/{decision.pk}" in body
    assert decision.appeal_deadline.strftime("%Y-%m-%d") in body
    assert decision.appeal_deadline - decision.created_at >= timedelta(days=182)
    assert Strike.objects.filter(account=alice, decision=decision).count() == 1
    assert verify_log().intact


def test_reduced_reach_leaves_public_timelines_but_not_the_thread(reported, moderator, carol):
    status, case, rule = reported
    decision_create(case_id=case.pk, moderator=moderator, restriction="reduce", reasons=tc(rule))
    public_ids = [s.pk for s in public_timeline(viewer=None, cursor=Cursor(limit=40)).items]
    assert status.pk not in public_ids
    assert status_get_visible(status_id=status.pk, viewer=carol).pk == status.pk


def test_a_temporary_freeze_blocks_writes_then_lifts_itself(reported, moderator, alice, carol):
    _status, case, rule = reported
    other = status_create(account=carol, text="hello")
    decision = decision_create(case_id=case.pk, moderator=moderator, restriction="freeze",
                               reasons=tc(rule), duration=timedelta(days=3))
    alice.refresh_from_db()
    with pytest.raises(Forbidden):
        status_create(account=alice, text="still here?")
    with pytest.raises(Forbidden):
        favourite_create(account=alice, status=other)
    assert decisions_lift_due(now=timezone.now() + timedelta(days=2)) == 0
    assert decisions_lift_due(now=timezone.now() + timedelta(days=3, seconds=1)) == 1
    alice.refresh_from_db()
    assert alice.frozen_at is None
    status_create(account=alice, text="back")
    assert LogEntry.objects.filter(action="decision.lifted", target_id=decision.pk).count() == 1
    assert decisions_lift_due(now=timezone.now() + timedelta(days=4)) == 0


def test_no_action_tells_the_reporter(reported, moderator, bob):
    status, case, _rule = reported
    decision = decision_create(case_id=case.pk, moderator=moderator, restriction="none",
                               reasons=Reasons(facts="A heated exchange, but no insult."))
    assert decision.puid and not Notification.objects.filter(type="moderation_warning").exists()
    to_bob = [m for m in mail.outbox if m.to == [bob.user.email]]
    assert len(to_bob) == 1 and "no action" in to_bob[0].body
    status.refresh_from_db()
    assert status.removed_at is None


def test_facts_that_name_someone_are_refused(reported, moderator):
    """The facts are published in the Transparency Database; a name, an e-mail
    address or a profile link in them is refused before anything is applied."""
    status, case, rule = reported
    for facts in ("Contact jane@example.org about it.", "Reported by @bob about @alice.",
                  "See https://social.example/@alice for context."):
        reasons = tc(rule)
        reasons.facts = facts
        with pytest.raises(ValidationFailed, match="must not name anyone"):
            decision_create(case_id=case.pk, moderator=moderator, restriction="remove",
                            reasons=reasons)
    status.refresh_from_db()
    assert status.removed_at is None and not Decision.objects.exists()


def test_a_reporter_with_several_reports_gets_one_outcome_email(alice, bob, moderator):
    rule = rule_create(text="No spam", severity_tier=4)
    status = status_create(account=alice, text="buy buy buy")
    reports = [report_create(reporter=bob, target=alice, status_ids=[status.pk],
                             rule_ids=[rule.pk]) for _ in range(3)]
    mail.outbox.clear()
    decision_create(case_id=reports[0].case_id, moderator=moderator, restriction="none",
                    reasons=Reasons(facts="Not spam."))
    to_bob = [m for m in mail.outbox if m.to == [bob.user.email]]
    assert len(to_bob) == 1
    for report in reports:
        assert f"Report {report.pk}" in to_bob[0].body


def test_a_jury_decision_says_a_jury_decided(reported, moderator):
    from django.db import transaction

    from tribune.moderation.decisions import decide
    from tribune.moderation.models import Case as CaseModel

    _status, case, rule = reported
    with transaction.atomic():
        decision = decide(case=CaseModel.objects.get(pk=case.pk), decided_by=None,
                          decided_via="jury", restriction="label", label_text="Rude",
                          reasons=tc(rule))
    assert "A jury of this server's users decided this" in decision.statement_text
    assert "A person decided this" not in decision.statement_text


def test_the_statement_is_in_the_posting_language_when_no_interface_language_is_set(
        reported, moderator, alice):
    from tribune.accounts.models import Account

    Account.objects.filter(pk=alice.pk).update(locale="", default_language="fr")
    _status, case, rule = reported
    decision = decision_create(case_id=case.pk, moderator=moderator, restriction="remove",
                               reasons=tc(rule))
    assert "Notre décision" in decision.statement_text
    assert "What we decided" not in decision.statement_text
