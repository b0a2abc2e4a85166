"""The transparency report: its figures match the dataset, and the log alone gives
the same headline figures (moderation reference §8.12, behaviour 15)."""

from __future__ import annotations

import json
import statistics
from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.moderation.transparency_data import build
from tribune.moderation.decisions import Reasons, decision_create
from tribune.moderation.log import verify_log
from tribune.moderation.models import Appeal, Case, Decision, MisuseSanction
from tribune.moderation.transparency import (
    FORMAT_VERSION,
    reconciled_figures,
    transparency_from_log,
    transparency_report,
)

# Notices and appeal answers are e-mailed after commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dataset(make_account):
    return build(make_account)


def today_period():
    today = timezone.now().date()
    return {"start": today, "end": today + timedelta(days=1)}


def test_figures_match_the_dataset(dataset):
    report = transparency_report(**today_period())
    json.dumps(report)  # machine-readable as it is
    assert report["format_version"] == FORMAT_VERSION
    rules = dataset.rules
    assert report["notices"] == {
        "total": 10, "alleging_illegal": 1, "filed_while_suspended": 0,
        "by_category": {"other": 1, "spam": 5, "legal": 1, "violation": 3},
        "by_rule": [
            {"rule_id": str(rules["harassment"].pk), "text": "No harassment", "notices": 3},
            {"rule_id": str(rules["spam_links"].pk), "text": "No spam links", "notices": 1}],
    }
    assert report["actions"] == {
        "total": 5, "by_ground": {"law": 1, "tc": 4},
        "by_restriction": {"label": 1, "reduce": 1, "remove": 2, "freeze": 1, "suspend": 0},
        "by_detection": {"automated": 2, "not_automated": 3},
        "automated_detection_share": 0.4, "own_initiative": 1,
    }
    appeals = report["appeals"]
    assert {k: appeals[k] for k in ("filed", "filed_by_role", "decided", "upheld", "reversed",
                                    "automated_detection", "proactive_reinstatements")} == {
        "filed": 2, "filed_by_role": {"author": 2, "reporter": 0}, "decided": 2,
        "upheld": 1, "reversed": 1,
        "automated_detection": {"filed": 1, "upheld": 0, "reversed": 1},
        "proactive_reinstatements": 0,
    }
    seconds = [(a.decided_at - a.filed_at).total_seconds() for a in Appeal.objects.all()]
    assert appeals["median_seconds_to_decide"] == round(statistics.median(seconds), 3)
    # Time to action: from each case's opening to its first decision, by tier.
    by_tier = {}
    for case in Case.objects.filter(decisions__isnull=False).distinct():
        first = min(d.created_at for d in case.decisions.all())
        by_tier.setdefault(f"P{case.severity_tier}", []).append(
            (first - case.opened_at).total_seconds())
    assert {t: row["cases"] for t, row in report["time_to_action"].items()} == {
        "P0": 0, "P1": 0, "P2": 1, "P3": 3, "P4": 5}
    for tier, row in report["time_to_action"].items():
        expected = round(statistics.median(by_tier[tier]), 3) if tier in by_tier else None
        assert row["median_seconds"] == expected
    warnings = MisuseSanction.objects.filter(stage="warning")
    assert sum(report["sanctions"]["warning"].values()) == warnings.count()
    assert report["juries"]["panels_opened"] == 0 and report["juries"]["hung_rate"] is None
    backlog = report["backlog"]
    # Alice's third strike proposed a case about her account (P3).
    assert backlog["open_by_tier"] == {"P0": 0, "P1": 0, "P2": 0, "P3": 1, "P4": 1}
    assert backlog["open_total"] == 2
    age = (timezone.now() - dataset.open_case.opened_at).total_seconds()
    assert 0 <= backlog["oldest_open_age_seconds"] <= age + 1


def test_the_log_alone_gives_the_same_figures(dataset):
    period = today_period()
    assert verify_log().intact
    report = transparency_report(**period)
    from_log = transparency_from_log(**period)
    assert from_log == reconciled_figures(report)
    # And not trivially: the figures are there.
    assert from_log["actions"]["total"] == 5 and from_log["appeals"]["reversed"] == 1
    assert from_log["time_to_action"]["P3"]["median_seconds"] is not None


def test_another_period_is_empty_in_both(dataset):
    period = {"start": date(2020, 1, 1), "end": date(2021, 1, 1)}
    report = transparency_report(**period)
    assert report["notices"]["total"] == 0 and report["actions"]["total"] == 0
    assert report["actions"]["automated_detection_share"] is None
    assert all(row["median_seconds"] is None for row in report["time_to_action"].values())
    assert report["backlog"]["open_total"] == 0
    assert transparency_from_log(**period) == reconciled_figures(report)


def test_a_period_that_ends_before_it_starts_is_refused(db):
    with pytest.raises(ValueError):
        transparency_report(start=date(2025, 2, 1), end=date(2025, 1, 1))
    with pytest.raises(ValueError):
        transparency_from_log(start=date(2025, 2, 1), end=date(2025, 1, 1))


def test_a_reversal_is_not_an_action(dataset):
    report = transparency_report(**today_period())
    restrictive = Decision.objects.exclude(restriction="none").count()
    assert report["actions"]["total"] == restrictive == 5


def test_jury_and_sanction_figures_reconcile_with_the_log(make_account, moderator, settings):
    """One panel reaches a verdict and one is hung; a reporter is warned under
    Art. 23. The report counts them as the tables say, and the log agrees."""
    from tests.moderation.test_juries import RULES, qualify, vote_all
    from tribune.moderation.juries import panel_open
    from tribune.moderation.models import JuryPanel
    from tribune.moderation.services import report_create, rule_create
    from tribune.statuses.services import status_create

    settings.TRIBUNE_JURY_SIZE = settings.TRIBUNE_JURY_QUORUM = 5
    settings.TRIBUNE_JURY_THRESHOLD = 4
    rules = [rule_create(text=text, severity_tier=3) for text in RULES]
    for i in range(5):
        qualify(make_account(f"juror{i}"))
    author, reporter, troll = (make_account(n) for n in ("author", "reporter", "troll"))
    panels = []
    for text in ("first rude post", "second rude post"):
        post = status_create(account=author, text=text)
        case = report_create(reporter=reporter, target=author, status_ids=[post.pk],
                             rule_ids=[rules[0].pk]).case
        panels.append(panel_open(case_id=case.pk, moderator=moderator))
    vote_all(panels[0], [("violates", "label")] * 4 + [("does_not_violate", "")], rules[0])
    vote_all(panels[1], [("violates", "remove")] * 3 + [("does_not_violate", "")] * 2,
             rules[0])
    states = sorted(JuryPanel.objects.values_list("state", flat=True))
    assert states == ["decided", "hung"]
    for n in range(3):  # three manifestly unfounded notices: a warning
        post = status_create(account=author, text=f"an ordinary post {n}")
        case = report_create(reporter=troll, target=author, status_ids=[post.pk],
                             category="spam").case
        report = case.reports.get()
        decision_create(case_id=case.pk, moderator=moderator, restriction="none",
                        reasons=Reasons(facts="An ordinary post."),
                        unfounded_report_ids=[report.pk])
    period = today_period()
    report = transparency_report(**period)
    juries = report["juries"]
    assert (juries["panels_opened"], juries["panels_decided"], juries["panels_hung"]) == (2, 1, 1)
    assert juries["hung_rate"] == 0.5
    warnings = MisuseSanction.objects.filter(stage="warning", account=troll).count()
    assert warnings == 1
    assert report["sanctions"]["warning"]["manifestly_unfounded_notices"] == 1
    assert transparency_from_log(**period) == reconciled_figures(report)
