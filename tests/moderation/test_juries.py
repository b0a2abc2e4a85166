"""Community juries: who may serve, a conflict-free and reproducible draw, blind
votes, and outcomes that never default to removal (moderation reference §8.7;
§8.12, behaviours 6–8)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tribune.accounts.models import Account
from tribune.core.errors import Conflict, Forbidden, ValidationFailed
from tribune.graph.services import block_create, follow_create, mute_create
from tribune.moderation.decisions import Reasons, decision_create
from tribune.moderation.juries import (
    case_panels,
    conflicted_ids,
    juror_panel,
    juror_panels,
    panel_open,
    panel_redraw,
    panel_tally,
    panel_votes,
    panels_close_due,
    vote_cast,
)
from tribune.moderation.jurors import (
    juror_opt_in,
    juror_opt_out,
    juror_quiz,
    juror_quiz_submit,
)
from tribune.moderation.log import verify_log
from tribune.moderation.models import (
    Case,
    Decision,
    JurorProfile,
    JuryMembership,
    JuryPanel,
    LogEntry,
    MisuseSanction,
)
from tribune.moderation.selectors import next_case
from tribune.moderation.services import report_create, rule_create
from tribune.statuses.services import favourite_create, reblog_create, status_create

RULES = ["No harassment", "No spam"]


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TRIBUNE_JURY_SIZE, settings.TRIBUNE_JURY_QUORUM = 5, 5
    settings.TRIBUNE_JURY_THRESHOLD = 4


@pytest.fixture
def rules(db):
    return [rule_create(text=text, severity_tier=3) for text in RULES]


def age(account, days=60):
    Account.objects.filter(pk=account.pk).update(created_at=timezone.now() - timedelta(days=days))
    account.refresh_from_db()
    return account


def qualify(account):
    """Opt in an old enough account and pass its quiz, answering from RULES."""
    age(account)
    juror_opt_in(account=account)
    answers = [q.text in RULES for q in juror_quiz(account=account)]
    assert juror_quiz_submit(account=account, answers=answers)
    return account


@pytest.fixture
def jurors(make_account, rules):
    return [qualify(make_account(f"juror{i}")) for i in range(5)]


@pytest.fixture
def reported(alice, bob, rules):
    status = status_create(account=alice, text="a rude post")
    report = report_create(reporter=bob, target=alice, status_ids=[status.pk],
                           rule_ids=[rules[0].pk])
    return status, report.case


def members(panel):
    return set(JuryMembership.objects.filter(panel=panel).values_list("juror_id", flat=True))


def vote_all(panel, verdicts, rule):
    by_juror = sorted(members(panel))
    for juror_id, (verdict, restriction) in zip(by_juror, verdicts, strict=True):
        vote_cast(juror=Account.objects.get(pk=juror_id), panel_id=panel.pk, verdict=verdict,
                  rationale=f"My reading of the post ({verdict}).", rule_id=rule.pk,
                  proposed_restriction=restriction)


# --- eligibility ----------------------------------------------------------------------

def test_a_new_account_cannot_volunteer(make_account, rules):
    fresh = make_account("fresh")
    with pytest.raises(Forbidden, match="30 days"):
        juror_opt_in(account=fresh)
    assert not JurorProfile.objects.filter(account=fresh).exists()
    assert JurorProfile.objects.get(account=qualify(fresh)).quiz_passed_at is not None


def test_a_strike_or_a_misuse_suspension_bars_volunteering(make_account, moderator, rules):
    struck, sanctioned, served = (age(make_account(n)) for n in ("struck", "sanctioned", "served"))
    post = status_create(account=struck, text="spam spam")
    case = report_create(reporter=served, target=struck, status_ids=[post.pk],
                         rule_ids=[rules[1].pk]).case
    decision_create(case_id=case.pk, moderator=moderator, restriction="remove",
                    reasons=Reasons(facts="Advertising.", rule_id=rules[1].pk,
                                    explanation="It is spam."))
    now = timezone.now()
    MisuseSanction.objects.create(account=sanctioned, kind="manifestly_unfounded_notices",
                                  stage="suspension", starts_at=now - timedelta(days=1),
                                  ends_at=now + timedelta(days=10), created_at=now)
    MisuseSanction.objects.create(account=served, kind="manifestly_unfounded_notices",
                                  stage="suspension", starts_at=now - timedelta(days=20),
                                  ends_at=now - timedelta(days=10), created_at=now)
    for barred in (struck, sanctioned):
        with pytest.raises(Forbidden, match="strike or sanction"):
            juror_opt_in(account=barred)
    assert juror_opt_in(account=served).opted_out_at is None  # the suspension has ended


def test_the_quiz_is_stable_and_checked_against_the_published_rules(make_account, rules):
    account = age(make_account("quizzed"))
    with pytest.raises(ValidationFailed):
        juror_quiz_submit(account=account, answers=[True, True, True])  # not opted in
    juror_opt_in(account=account)
    questions = juror_quiz(account=account)
    assert questions == juror_quiz(account=account)
    assert len(questions) == 3
    truth = [q.text in RULES for q in questions]
    assert True in truth and False in truth
    wrong = [not t for t in truth]
    assert juror_quiz_submit(account=account, answers=wrong) is False
    assert JurorProfile.objects.get(account=account).quiz_passed_at is None
    assert juror_quiz_submit(account=account, answers=truth) is True
    assert JurorProfile.objects.get(account=account).quiz_passed_at is not None
    assert juror_opt_out(account=account).opted_out_at is not None


# --- the draw -------------------------------------------------------------------------

def test_the_draw_excludes_every_conflicted_account(make_account, alice, bob, moderator,
                                                    rules, reported):
    status, case = reported
    clean = {qualify(make_account(f"clean{i}")).pk for i in range(7)}
    conflicted = {}
    for party in (alice, bob):
        name = party.username
        relations = {
            "follows": lambda a, p=party: follow_create(account=a, target=p),
            "followed_by": lambda a, p=party: follow_create(account=p, target=a),
            "blocks": lambda a, p=party: block_create(account=a, target=p),
            "blocked_by": lambda a, p=party: block_create(account=p, target=a),
            "mutes": lambda a, p=party: mute_create(account=a, target=p),
            "muted_by": lambda a, p=party: mute_create(account=p, target=a),
        }
        for kind, relate in relations.items():
            account = qualify(make_account(f"{kind}_{name}"))
            relate(account)
            conflicted[f"{kind} {name}"] = account
    conflicted["author"], conflicted["reporter"] = qualify(alice), qualify(bob)
    conflicted["moderator"] = qualify(moderator)
    replier = qualify(make_account("replier"))
    status_create(account=replier, text="I disagree", in_reply_to_id=status.pk)
    conflicted["replied in the thread"] = replier
    conflicted["favourited"] = qualify(make_account("faved"))
    favourite_create(account=conflicted["favourited"], status=status)
    conflicted["reblogged"] = qualify(make_account("boosted"))
    reblog_create(account=conflicted["reblogged"], status=status)
    struck = qualify(make_account("struck"))
    other = status_create(account=struck, text="cheap watches")
    decision_create(case_id=report_create(reporter=alice, target=struck, status_ids=[other.pk],
                                          rule_ids=[rules[1].pk]).case_id,
                    moderator=moderator, restriction="remove",
                    reasons=Reasons(facts="Advertising.", rule_id=rules[1].pk,
                                    explanation="It is spam."))
    conflicted["active strike"] = struck
    sanctioned = qualify(make_account("sanctioned"))
    now = timezone.now()
    MisuseSanction.objects.create(account=sanctioned, kind="manifestly_unfounded_notices",
                                  stage="suspension", starts_at=now, created_at=now,
                                  ends_at=now + timedelta(days=7))
    conflicted["misuse suspension"] = sanctioned
    opted_out = qualify(make_account("retired"))
    juror_opt_out(account=opted_out)
    conflicted["opted out"] = opted_out
    unquizzed = age(make_account("unquizzed"))
    juror_opt_in(account=unquizzed)
    conflicted["quiz not passed"] = unquizzed
    assert Case.objects.get(pk=case.pk).state == "open"

    class Undo(Exception):
        pass

    drawn = set()
    for seed in range(40):
        try:
            with transaction.atomic():
                panel = panel_open(case_id=case.pk, moderator=moderator, seed=f"seed-{seed}")
                drawn |= members(panel)
                opened = LogEntry.objects.get(action="jury.panel_opened", target_id=panel.pk)
                assert sorted(int(i) for i in opened.payload["candidates"]) == sorted(clean)
                assert opened.payload["candidate_count"] == len(clean)
                raise Undo
        except Undo:
            pass
    assert drawn <= clean
    assert drawn == clean  # 40 draws of 5 among 7 reach everyone
    assert not drawn & {a.pk for a in conflicted.values()}


def test_earlier_jurors_and_deciders_of_the_case_are_conflicted(make_account, moderator,
                                                                reported, rules):
    _status, case = reported
    pool = [qualify(make_account(f"pool{i}")) for i in range(10)]
    first = panel_open(case_id=case.pk, moderator=moderator)
    panels_close_due(first.deadline_at + timedelta(seconds=1))  # expires: back to staff
    second = panel_open(case_id=case.pk, moderator=moderator)
    assert not members(first) & members(second)
    assert members(first) | members(second) == {a.pk for a in pool}
    assert members(first) <= conflicted_ids(Case.objects.get(pk=case.pk))
    panels_close_due(second.deadline_at + timedelta(seconds=1))
    assert members(first) | members(second) <= conflicted_ids(Case.objects.get(pk=case.pk))
    decision_create(case_id=case.pk, moderator=moderator, restriction="none",
                    reasons=Reasons(facts="Checked."))
    assert moderator.pk in conflicted_ids(Case.objects.get(pk=case.pk))


def test_the_draw_is_reproducible_from_its_seed(jurors, moderator, reported):
    _status, case = reported
    panel = panel_open(case_id=case.pk, moderator=moderator, seed="a-known-seed")
    expected = random.Random("a-known-seed").sample(sorted(j.pk for j in jurors), 5)
    assert panel_redraw(panel.pk) == expected
    assert set(expected) == members(panel)
    panel.refresh_from_db()
    assert panel.seed == "a-known-seed"


def test_a_generated_seed_is_stored_and_redraws_the_same_jurors(jurors, moderator, reported):
    _status, case = reported
    panel = panel_open(case_id=case.pk, moderator=moderator)
    assert len(panel.seed) == 32
    assert set(panel_redraw(panel.pk)) == members(panel)


@pytest.mark.parametrize("tier", [0, 1])
def test_p0_and_p1_never_go_to_a_jury(jurors, moderator, alice, bob, tier):
    rule = rule_create(text=f"Tier {tier} rule", severity_tier=tier)
    status = status_create(account=alice, text="severe")
    case = report_create(reporter=bob, target=alice, status_ids=[status.pk],
                         rule_ids=[rule.pk]).case
    with pytest.raises(ValidationFailed):
        panel_open(case_id=case.pk, moderator=moderator)
    assert Case.objects.get(pk=case.pk).state == "open"
    assert not JuryPanel.objects.exists()


def test_too_few_jurors_leaves_the_case_unchanged(make_account, moderator, reported, rules):
    _status, case = reported
    for i in range(4):
        qualify(make_account(f"few{i}"))
    with pytest.raises(ValidationFailed, match="4 of 5"):
        panel_open(case_id=case.pk, moderator=moderator)
    assert Case.objects.get(pk=case.pk).state == "open"
    assert not JuryPanel.objects.exists()


def test_only_staff_send_a_case_to_a_jury(jurors, reported):
    _status, case = reported
    with pytest.raises(Forbidden):
        panel_open(case_id=case.pk, moderator=jurors[0])


def test_a_case_with_a_jury_leaves_the_staff_queue(jurors, moderator, reported):
    _status, case = reported
    assert next_case().pk == case.pk
    panel_open(case_id=case.pk, moderator=moderator)
    assert Case.objects.get(pk=case.pk).state == "jury"
    assert next_case() is None


# --- votes ----------------------------------------------------------------------------

def test_votes_are_blind_until_the_panel_closes(jurors, moderator, reported, rules):
    _status, case = reported
    panel = panel_open(case_id=case.pk, moderator=moderator)
    seated = [a for a in jurors if a.pk in members(panel)]
    vote_cast(juror=seated[0], panel_id=panel.pk, verdict="violates", rule_id=rules[0].pk,
              proposed_restriction="remove", rationale="It insults someone.")
    vote_cast(juror=seated[1], panel_id=panel.pk, verdict="does_not_violate",
              rationale="Rude, not harassment.")
    assert panel_votes(panel_id=panel.pk) == []
    assert panel_tally(panel_id=panel.pk) is None
    [staff_view] = case_panels(case_id=case.pk)
    assert staff_view.votes == () and staff_view.tally is None
    for juror in seated:
        mine = juror_panel(juror=juror, panel_id=panel.pk)
        assert mine.votes == () and mine.tally is None
    assert juror_panel(juror=seated[2], panel_id=panel.pk).own_vote is None
    assert juror_panel(juror=seated[0], panel_id=panel.pk).own_vote.verdict == "violates"
    assert [v.own_vote is not None for v in juror_panels(juror=seated[1])] == [True]
    cast = LogEntry.objects.filter(action="jury.vote_cast")
    assert cast.count() == 2
    assert all("violates" not in str(e.payload) for e in cast)


def test_one_vote_per_seat_with_reasons_from_seated_jurors_only(jurors, moderator, reported,
                                                                 rules, make_account):
    _status, case = reported
    panel = panel_open(case_id=case.pk, moderator=moderator)
    seated = [a for a in jurors if a.pk in members(panel)]
    with pytest.raises(ValidationFailed):
        vote_cast(juror=seated[0], panel_id=panel.pk, verdict="abstain", rationale="  ")
    with pytest.raises(ValidationFailed):  # a violation names a rule and a restriction
        vote_cast(juror=seated[0], panel_id=panel.pk, verdict="violates", rationale="Bad.")
    with pytest.raises(Forbidden):
        vote_cast(juror=moderator, panel_id=panel.pk, verdict="abstain", rationale="x")
    vote_cast(juror=seated[0], panel_id=panel.pk, verdict="abstain", rationale="Unsure.")
    with pytest.raises(Conflict):
        vote_cast(juror=seated[0], panel_id=panel.pk, verdict="abstain", rationale="Again.")


def test_a_tie_formed_after_the_draw_bars_the_vote(jurors, moderator, reported, alice):
    _status, case = reported
    panel = panel_open(case_id=case.pk, moderator=moderator)
    juror = next(a for a in jurors if a.pk in members(panel))
    follow_create(account=juror, target=alice)
    with pytest.raises(Forbidden):
        vote_cast(juror=juror, panel_id=panel.pk, verdict="abstain", rationale="Unsure.")


# --- outcomes -------------------------------------------------------------------------

def test_a_supermajority_decides_as_a_jury(jurors, moderator, reported, rules):
    status, case = reported
    panel = panel_open(case_id=case.pk, moderator=moderator)
    # Two remove, two reduce: a tie between restrictions goes to the less severe.
    vote_all(panel, [("violates", "remove"), ("violates", "reduce"), ("violates", "remove"),
                     ("violates", "reduce"), ("does_not_violate", "")], rules[0])
    decision = Decision.objects.get(case=case)
    assert decision.decided_via == "jury"
    assert decision.decided_by is None
    assert decision.automated_decision == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert decision.restriction == "reduce"
    assert decision.rule_id == rules[0].pk
    assert "My reading of the post (violates)." in decision.incompatible_content_explanation
    for juror in jurors:
        assert juror.username not in decision.decision_facts
    assert "My reading" not in decision.decision_facts
    status.refresh_from_db()
    assert status.reach_reduced_at is not None and status.removed_at is None
    panel.refresh_from_db()
    assert (panel.state, panel.decision_id) == ("decided", decision.pk)
    assert Case.objects.get(pk=case.pk).state == "decided"
    tally = panel_tally(panel_id=panel.pk)
    assert (tally.violates, tally.does_not_violate, tally.abstain) == (4, 1, 0)
    assert len(panel_votes(panel_id=panel.pk)) == 5
    closed = LogEntry.objects.get(action="jury.panel_closed")
    assert (closed.payload["violates"], closed.payload["does_not_violate"]) == (4, 1)
    assert verify_log().intact


def test_a_supermajority_against_a_violation_decides_no_action(jurors, moderator, reported,
                                                                rules):
    status, case = reported
    panel = panel_open(case_id=case.pk, moderator=moderator)
    vote_all(panel, [("does_not_violate", "")] * 4 + [("violates", "remove")], rules[0])
    decision = Decision.objects.get(case=case)
    assert (decision.restriction, decision.decided_via) == ("none", "jury")
    status.refresh_from_db()
    assert status.removed_at is None and status.reach_reduced_at is None


def test_a_hung_jury_goes_back_to_staff_and_removes_nothing(jurors, moderator, reported, rules):
    status, case = reported
    priority = Case.objects.get(pk=case.pk).priority
    panel = panel_open(case_id=case.pk, moderator=moderator)
    vote_all(panel, [("violates", "remove")] * 3 + [("does_not_violate", "")] * 2, rules[0])
    panel.refresh_from_db()
    assert panel.state == "hung" and panel.decision_id is None
    case.refresh_from_db()
    assert (case.state, case.escalated) == ("open", True)
    assert case.priority > priority
    assert not Decision.objects.exists()
    status.refresh_from_db()
    assert status.removed_at is None and status.reach_reduced_at is None
    assert next_case().pk == case.pk
    assert len(panel_votes(panel_id=panel.pk)) == 5  # visible now that it is closed


def test_an_expired_panel_goes_back_to_staff_and_removes_nothing(jurors, moderator, reported,
                                                                  rules):
    status, case = reported
    panel = panel_open(case_id=case.pk, moderator=moderator)
    seated = [a for a in jurors if a.pk in members(panel)]
    for juror in seated[:4]:  # four "violates": the threshold, but not the quorum of 5
        vote_cast(juror=juror, panel_id=panel.pk, verdict="violates", rule_id=rules[0].pk,
                  proposed_restriction="remove", rationale="It insults someone.")
    assert panels_close_due(panel.deadline_at - timedelta(minutes=1)) == 0
    assert panels_close_due(panel.deadline_at + timedelta(hours=1)) == 1
    with pytest.raises(ValidationFailed):  # too late to vote
        vote_cast(juror=seated[4], panel_id=panel.pk, verdict="abstain", rationale="Late.")
    panel.refresh_from_db()
    assert panel.state == "expired"
    case.refresh_from_db()
    assert (case.state, case.escalated) == ("open", True)
    assert not Decision.objects.exists()
    status.refresh_from_db()
    assert status.removed_at is None
    assert panels_close_due(panel.deadline_at + timedelta(hours=2)) == 0
