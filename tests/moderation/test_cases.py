"""Reports become cases; the queue puts the worst first; the log is tamper-evident.
(Moderation reference §8.12, behaviours 9 and 13.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tribune.core.errors import NotFound, ValidationFailed
from tribune.moderation.log import verify_log
from tribune.moderation.models import Case, LogEntry, Report, Tier
from tribune.moderation.selectors import next_case
from tribune.moderation.services import report_create, rule_create
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db


def test_a_report_opens_a_case_acknowledged_at_once(alice, bob):
    status = status_create(account=alice, text="something rude")
    report = report_create(reporter=bob, target=alice, status_ids=[str(status.pk)],
                           category="spam", comment="spam")
    assert report.acknowledged_at == report.created_at
    case = report.case
    assert case.subject_key == f"status:{status.pk}"
    assert case.subject_snapshot["text"] == "something rude"
    assert case.severity_tier == Tier.P4
    assert case.deadline_at == report.created_at + timedelta(days=30)


def test_500_reports_on_one_post_make_one_case(alice, make_account):
    status = status_create(account=alice, text="viral")
    reporters = [make_account(f"reporter{i}") for i in range(25)]
    for i in range(500):
        report_create(reporter=reporters[i % 25], target=alice, status_ids=[status.pk],
                      category="other")
    case = Case.objects.get()
    assert (case.report_count, case.reporter_count) == (500, 25)
    assert case.priority == 25  # one point per distinct reporter, not per report
    assert Report.objects.filter(case=case).count() == 500


def test_the_most_severe_rule_sets_the_tier_and_the_earliest_deadline(alice, bob, carol):
    spam = rule_create(text="No spam", severity_tier=Tier.P4)
    threats = rule_create(text="No threats of violence", severity_tier=Tier.P1)
    status = status_create(account=alice, text="hm")
    first = report_create(reporter=bob, target=alice, status_ids=[status.pk], rule_ids=[spam.pk])
    assert first.category == "violation" and first.case.severity_tier == Tier.P4
    second = report_create(reporter=carol, target=alice, status_ids=[status.pk],
                           rule_ids=[threats.pk])
    case = Case.objects.get(pk=second.case_id)
    assert case.severity_tier == Tier.P1
    assert case.deadline_at == second.created_at + timedelta(hours=24)


def test_10000_p4_reports_then_one_p0_the_p0_comes_first(alice, bob, carol, make_account):
    """The flood is inserted in bulk (the services' cost is measured in bench/), then
    the P0 report goes through the service like any other."""
    now = timezone.now()
    targets = [make_account(f"spammer{i}") for i in range(3)]
    Case.objects.bulk_create([
        Case(subject_key=f"account:{9_000_000 + i}", target_account=targets[i % 3],
             severity_tier=Tier.P4, priority=1000 - i % 1000,
             deadline_at=now - timedelta(days=1 + i % 5), opened_at=now - timedelta(days=40),
             report_count=1, reporter_count=1)
        for i in range(10_000)
    ])
    csam = rule_create(text="No sexual content involving minors", severity_tier=Tier.P0)
    status = status_create(account=alice, text="awful")
    report = report_create(reporter=bob, target=alice, status_ids=[status.pk],
                           rule_ids=[csam.pk])
    assert next_case(moderator=carol).pk == report.case_id
    # ... and the queue is read from its index, without sorting the backlog.
    plan = Case.objects.filter(state="open").order_by(
        "severity_tier", "deadline_at", "-priority", "id")[:1].explain()
    assert "case_queue" in plan and "TEMP B-TREE" not in plan


def test_within_a_tier_the_most_overdue_then_the_highest_priority(alice, bob, carol, make_account):
    now = timezone.now()
    a, b, c = (make_account(n) for n in ("target_a", "target_b", "target_c"))
    early = Case.objects.create(subject_key="account:1", target_account=a, severity_tier=Tier.P3,
                                priority=1, deadline_at=now - timedelta(hours=5), opened_at=now)
    Case.objects.create(subject_key="account:2", target_account=b, severity_tier=Tier.P3,
                        priority=99, deadline_at=now + timedelta(hours=5), opened_at=now)
    assert next_case() == early
    Case.objects.create(subject_key="account:3", target_account=c, severity_tier=Tier.P3,
                        priority=50, deadline_at=early.deadline_at, opened_at=now)
    assert next_case().subject_key == "account:3"
    # Nobody gets their own case.
    assert next_case(moderator=c).subject_key == "account:1"


def test_report_validation(alice, bob, carol):
    rule = rule_create(text="Be kind")
    mine = status_create(account=bob, text="bob's own")
    with pytest.raises(ValidationFailed, match="report yourself"):
        report_create(reporter=alice, target=alice)
    with pytest.raises(ValidationFailed, match="Category"):
        report_create(reporter=bob, target=alice, category="rude")
    with pytest.raises(ValidationFailed, match="Rule ids"):
        report_create(reporter=bob, target=alice, category="violation")
    with pytest.raises(ValidationFailed, match="Rule ids are not valid"):
        report_create(reporter=bob, target=alice, rule_ids=[rule.pk + 1000])
    with pytest.raises(ValidationFailed, match="Comment is too long"):
        report_create(reporter=bob, target=alice, comment="x" * 1001)
    with pytest.raises(NotFound):  # a status that is not the target's
        report_create(reporter=carol, target=alice, status_ids=[mine.pk])
    with pytest.raises(ValidationFailed, match="invalid id"):
        report_create(reporter=carol, target=alice, status_ids=["12x"])
    assert not Report.objects.exists() and not Case.objects.exists()


def test_the_log_records_every_step_and_verifies(alice, bob):
    rule = rule_create(text="No spam", severity_tier=Tier.P4)
    report_create(reporter=bob, target=alice, rule_ids=[rule.pk])
    actions = list(LogEntry.objects.values_list("action", flat=True))
    assert actions == ["rule.published", "case.opened", "report.created"]
    check = verify_log()
    assert check.intact and check.entries == 3


@pytest.mark.parametrize("tamper, problem", [
    ("UPDATE moderation_logentry SET payload = '{\"category\": \"other\"}' WHERE seq = 3",
     "changed"),
    ("DELETE FROM moderation_logentry WHERE seq = 2", "missing"),
    ("DELETE FROM moderation_logentry WHERE seq = 3", "deleted"),
    ("UPDATE moderation_logentry SET action = 'case.closed' WHERE seq = 2", "changed"),
])
def test_the_log_detects_tampering(alice, bob, tamper, problem):
    rule = rule_create(text="No spam", severity_tier=Tier.P4)
    report_create(reporter=bob, target=alice, rule_ids=[rule.pk])
    assert verify_log().intact
    with connection.cursor() as cursor:
        cursor.execute(tamper)
    check = verify_log()
    assert not check.intact
    assert problem in check.problem


def test_a_comment_with_a_nul_character_is_refused(alice, bob):
    with pytest.raises(ValidationFailed):
        report_create(reporter=bob, target=alice, category="spam", comment="bad\x00byte")
    assert not Report.objects.exists()


def test_the_flag_rule_form_refuses_an_invalid_regular_expression(db):
    from tribune.moderation.admin import FlagRuleForm

    form = FlagRuleForm(data={"pattern": "([unclosed", "is_regex": True, "severity_tier": 3,
                              "enabled": True})
    assert not form.is_valid() and "pattern" in form.errors
    plain = FlagRuleForm(data={"pattern": "([unclosed", "is_regex": False, "severity_tier": 3,
                               "enabled": True})
    assert plain.is_valid()
