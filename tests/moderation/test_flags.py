"""Automated flaggers may open or raise a case, and nothing more (moderation
reference §8.12, behaviour 1)."""

from __future__ import annotations

import pytest

from tribune.accounts.models import Account
from tribune.core.errors import ValidationFailed
from tribune.core.pagination import Cursor
from tribune.moderation.models import AutomatedFlag, Case, FlagRule, LogEntry, Tier
from tribune.moderation.services import flag_create
from tribune.statuses.models import Status
from tribune.statuses.selectors import public_timeline, status_get_visible
from tribune.statuses.services import status_create, status_update


def _visible_to_everyone(status: Status) -> bool:
    status_get_visible(status_id=status.pk, viewer=None)
    page = public_timeline(viewer=None, cursor=Cursor(limit=40), local=True)
    return status.pk in [s.pk for s in page.items]


@pytest.mark.django_db
@pytest.mark.parametrize("score", [0.0, 0.31, 0.5, 0.99, 1.0])
@pytest.mark.parametrize("tier", list(Tier.values))
def test_a_flag_of_any_score_and_tier_never_restricts(alice, score, tier):
    status = status_create(account=alice, text="flag me")
    before = Status.objects.filter(pk=status.pk).values().get()
    account_before = Account.objects.filter(pk=alice.pk).values().get()
    flag_create(status=status, detector_name="test", detector_version="1", label="x",
                score=score, tier=tier)
    assert Status.objects.filter(pk=status.pk).values().get() == before
    assert Account.objects.filter(pk=alice.pk).values().get() == account_before
    assert _visible_to_everyone(status)
    case = Case.objects.get()
    assert case.automated_detection and case.severity_tier == tier
    assert case.priority == round(score * 10)


@pytest.mark.django_db
def test_a_flag_joins_a_reported_case_and_only_raises_it(alice, bob):
    from tribune.moderation.services import report_create

    status = status_create(account=alice, text="hm")
    report = report_create(reporter=bob, target=alice, status_ids=[status.pk], category="spam")
    flag_create(status=status, detector_name="test", detector_version="1", label="x",
                score=0.5, tier=Tier.P1)
    flag_create(status=status, detector_name="test", detector_version="1", label="y",
                score=0.5, tier=Tier.P4)  # a milder finding never lowers the tier
    case = Case.objects.get()
    assert case.pk == report.case_id
    assert (case.severity_tier, case.priority) == (Tier.P1, 1 + 5 + 5)
    assert list(LogEntry.objects.values_list("action", "actor_kind")) == [
        ("case.opened", "system"), ("report.created", "human"),
        ("case.tier_raised", "detector"), ("flag.created", "detector"),
        ("flag.created", "detector")]
    with pytest.raises(ValidationFailed):
        flag_create(status=status, detector_name="t", detector_version="1", label="z", score=1.5)


@pytest.mark.django_db(transaction=True)
def test_the_keyword_flagger_runs_on_new_and_edited_posts(alice):
    FlagRule.objects.create(pattern="cheap pills", severity_tier=Tier.P4)
    FlagRule.objects.create(pattern=r"\bcasino\d+\b", is_regex=True, severity_tier=Tier.P3)
    FlagRule.objects.create(pattern="(a+)+$", is_regex=True)  # runaway; must not stall
    FlagRule.objects.create(pattern="[unclosed", is_regex=True)  # broken; ignored
    clean = status_create(account=alice, text="Nothing to see: " + "a" * 40 + "!")
    assert not AutomatedFlag.objects.exists()
    status_update(account=alice, status=clean, text="Now with CHEAP pills")
    hit = status_create(account=alice, text="visit casino777 today")
    flags = {(f.status_id, f.label) for f in AutomatedFlag.objects.all()}
    # The pattern as the operator typed it, not a Python repr with doubled backslashes.
    assert flags == {(clean.pk, "matched “cheap pills”"), (hit.pk, r"matched “\bcasino\d+\b”")}
    assert _visible_to_everyone(clean) and _visible_to_everyone(hit)
    actors = set(LogEntry.objects.filter(action="flag.created").values_list("actor_kind", flat=True))
    assert actors == {"detector"}
