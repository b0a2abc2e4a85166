"""Misuse of notices (DSA Art. 23(2), (3); moderation reference §8.12, behaviour 12):
a warning first, a bounded suspension only on a later repetition, and muted
reports that are kept but give no priority while it lasts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tribune.moderation.decisions import Reasons, decision_create
from tribune.moderation.log import verify_log
from tribune.moderation.misuse import misuse_review, notices_suspended
from tribune.moderation.models import Case, LogEntry, MisuseSanction, Report
from tribune.moderation.services import report_create, rule_create
from tribune.statuses.services import status_create

# The reporter is e-mailed after commit, so these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


def no_action(report, moderator, *, unfounded=True):
    """A moderator decides the report's case, finding the report manifestly unfounded."""
    return decision_create(case_id=report.case_id, moderator=moderator, restriction="none",
                           reasons=Reasons(facts="An ordinary holiday photo."),
                           unfounded_report_ids=[report.pk] if unfounded else [])


def file(reporter, target):
    post = status_create(account=target, text="a holiday photo")
    return report_create(reporter=reporter, target=target, status_ids=[post.pk],
                         category="spam")


def sanctions(account):
    return list(MisuseSanction.objects.filter(account=account).order_by("created_at"))


def unfounded_rounds(reporter, target, moderator, rounds):
    """``rounds`` notices, each filed and then found manifestly unfounded."""
    for _ in range(rounds):
        no_action(file(reporter, target), moderator)


def test_a_warning_comes_first_with_the_evidence(alice, bob, moderator):
    unfounded_rounds(bob, alice, moderator, 2)
    assert sanctions(bob) == []
    mail.outbox.clear()
    unfounded_rounds(bob, alice, moderator, 1)
    [warning] = sanctions(bob)
    assert (warning.stage, warning.kind) == ("warning", "manifestly_unfounded_notices")
    assert warning.ends_at is None
    assert warning.decided_by == moderator
    assert warning.evidence["notices"] == 3
    assert warning.evidence["unfounded"] == 3
    assert warning.evidence["proportion"] == 1.0
    assert warning.evidence["window_days"] == 30
    assert LogEntry.objects.filter(action="sanction.warning", target_id=warning.pk).count() == 1
    # Bob hears the outcome of his report (Art. 16(5)) and, separately, the warning.
    to_bob = [m.subject for m in mail.outbox if m.to == ["bob@example.test"]]
    assert len(to_bob) == 2
    assert len([s for s in to_bob if "warning" in s]) == 1
    assert not notices_suspended(account_id=bob.pk)
    assert file(bob, alice).muted is False
    assert verify_log().intact


def test_a_low_proportion_of_unfounded_notices_is_no_misuse(alice, bob, carol, moderator):
    for _ in range(4):
        file(bob, carol)  # still open: not found unfounded
    unfounded_rounds(bob, alice, moderator, 3)  # 3 of 7 = 0.43, under a half
    assert sanctions(bob) == []


def test_notices_found_unfounded_only_after_the_warning_do_not_suspend(alice, bob, moderator):
    reports = [file(bob, alice) for _ in range(5)]  # all filed before any warning
    for report in reports:
        no_action(report, moderator)
    assert [s.stage for s in sanctions(bob)] == ["warning"]
    # Reviewing again changes nothing either: there has been no repetition.
    assert misuse_review(account_id=bob.pk) is None
    assert [s.stage for s in sanctions(bob)] == ["warning"]


def test_a_later_repetition_suspends_for_a_bounded_time(alice, bob, moderator):
    unfounded_rounds(bob, alice, moderator, 3)
    [warning] = sanctions(bob)
    unfounded_rounds(bob, alice, moderator, 1)  # 4 in the window: under SUSPEND_AT
    assert len(sanctions(bob)) == 1
    mail.outbox.clear()
    unfounded_rounds(bob, alice, moderator, 1)
    _warning, suspension = sanctions(bob)
    assert suspension.stage == "suspension"
    assert suspension.starts_at > warning.created_at
    assert suspension.ends_at == suspension.starts_at + timedelta(days=14)
    assert suspension.evidence["warning"] == str(warning.pk)
    assert (suspension.evidence["unfounded"], suspension.evidence["unfounded_after_warning"]) \
        == (5, 2)
    assert LogEntry.objects.filter(action="sanction.applied",
                                   target_id=suspension.pk).count() == 1
    assert len([m for m in mail.outbox if m.to == ["bob@example.test"]
                and "suspended" in m.subject]) == 1
    assert notices_suspended(account_id=bob.pk)
    assert not notices_suspended(account_id=bob.pk,
                                 now=suspension.starts_at + timedelta(days=14))
    # Only one suspension at a time.
    assert misuse_review(account_id=bob.pk) is None


def suspended(bob, alice, moderator):
    unfounded_rounds(bob, alice, moderator, 5)
    return sanctions(bob)[-1]


def test_reports_while_suspended_are_kept_but_add_no_priority(alice, bob, carol, moderator):
    suspension = suspended(bob, alice, moderator)
    rule = rule_create(text="No threats", severity_tier=1)
    post = status_create(account=alice, text="a quiet post")
    first = report_create(reporter=carol, target=alice, status_ids=[post.pk], category="spam")
    case = Case.objects.get(pk=first.case_id)
    assert (case.severity_tier, case.priority, case.reporter_count) == (4, 1, 1)
    muted = report_create(reporter=bob, target=alice, status_ids=[post.pk], rule_ids=[rule.pk])
    assert muted.case_id == case.pk
    assert muted.acknowledged_at == muted.created_at  # acknowledged all the same
    stored = Report.objects.get(pk=muted.pk)
    assert stored.muted is True
    case.refresh_from_db()
    assert (case.severity_tier, case.priority, case.reporter_count) == (4, 1, 1)
    assert case.report_count == 2
    assert LogEntry.objects.get(action="report.created", target_id=muted.pk).payload["muted"]
    # Finding it unfounded too adds nothing while the suspension lasts.
    no_action(muted, moderator)
    assert sanctions(bob)[-1] == suspension


def test_after_the_suspension_ends_reports_count_again(alice, bob, carol, moderator):
    suspension = suspended(bob, alice, moderator)
    # Time passes: the suspension is over.
    MisuseSanction.objects.filter(pk=suspension.pk).update(
        starts_at=suspension.starts_at - timedelta(days=15),
        ends_at=timezone.now() - timedelta(seconds=1))
    assert not notices_suspended(account_id=bob.pk)
    post = status_create(account=alice, text="a quiet post")
    report_create(reporter=carol, target=alice, status_ids=[post.pk], category="spam")
    report = report_create(reporter=bob, target=alice, status_ids=[post.pk], category="spam")
    assert report.muted is False
    case = Case.objects.get(pk=report.case_id)
    assert (case.priority, case.reporter_count) == (2, 2)


def test_after_a_suspension_the_next_one_needs_a_new_warning(alice, bob, moderator):
    suspension = suspended(bob, alice, moderator)
    MisuseSanction.objects.filter(pk=suspension.pk).update(
        ends_at=timezone.now() - timedelta(seconds=1))
    unfounded_rounds(bob, alice, moderator, 3)
    assert [s.stage for s in sanctions(bob)] == ["warning", "suspension", "warning"]
    unfounded_rounds(bob, alice, moderator, 1)
    assert [s.stage for s in sanctions(bob)] == ["warning", "suspension", "warning"]


def test_reports_found_well_founded_never_lead_to_a_sanction(alice, bob, moderator):
    for _ in range(6):
        no_action(file(bob, alice), moderator, unfounded=False)
    assert sanctions(bob) == []
