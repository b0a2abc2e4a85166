"""Jury pages: volunteering with the quiz, sending a case to a jury, blind voting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tribune.accounts.models import Account
from tribune.moderation.jurors import juror_opt_in, juror_quiz, juror_quiz_submit
from tribune.moderation.models import Case, JurorProfile, JuryMembership, JuryPanel
from tribune.moderation.services import report_create, rule_create
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db

RULES = ["No insults", "No advertising"]


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TRIBUNE_JURY_SIZE, settings.TRIBUNE_JURY_QUORUM = 3, 3
    settings.TRIBUNE_JURY_THRESHOLD = 2


def client_for(account=None) -> Client:
    client = Client(HTTP_HOST="localhost")
    if account is not None:
        client.force_login(account.user)
    return client


def aged(account):
    Account.objects.filter(pk=account.pk).update(created_at=timezone.now() - timedelta(days=45))
    account.refresh_from_db()
    return account


def test_volunteer_and_pass_the_quiz(make_account):
    for text in RULES:
        rule_create(text=text)
    fresh = make_account("fresh")
    page = client_for(fresh).get("/settings/jury").content.decode()
    assert "at least 30 days old" in page and 'value="opt_in"' not in page
    account = aged(make_account("volunteer"))
    client = client_for(account)
    assert 'value="opt_in"' in client.get("/settings/jury").content.decode()
    assert client.post("/settings/jury", {"form": "opt_in"}).status_code == 303
    quiz = client.get("/settings/jury").content.decode()
    texts = [q.text for q in juror_quiz(account=account)]
    assert all(t in quiz for t in texts)
    wrong = {f"q{i}": "no" if t in RULES else "yes" for i, t in enumerate(texts)}
    assert client.post("/settings/jury", {"form": "quiz", **wrong}).status_code == 422
    assert JurorProfile.objects.get(account=account).quiz_passed_at is None
    right = {f"q{i}": "yes" if t in RULES else "no" for i, t in enumerate(texts)}
    assert client.post("/settings/jury", {"form": "quiz", **right}).status_code == 303
    assert JurorProfile.objects.get(account=account).quiz_passed_at is not None
    assert client.post("/settings/jury", {"form": "opt_out"}).status_code == 303
    assert JurorProfile.objects.get(account=account).opted_out_at is not None


def test_staff_send_a_case_to_a_jury_that_votes_blind(make_account, alice, bob):
    rule = rule_create(text=RULES[0], severity_tier=3)
    jurors = []
    for i in range(3):
        juror = aged(make_account(f"juror{i}"))
        juror_opt_in(account=juror)
        juror_quiz_submit(account=juror, answers=[q.text in RULES
                                                 for q in juror_quiz(account=juror)])
        jurors.append(juror)
    status = status_create(account=alice, text="you are all fools")
    case = report_create(reporter=bob, target=alice, status_ids=[status.pk],
                         rule_ids=[rule.pk]).case
    moderator = make_account("moddy", admin=True)
    staff = client_for(moderator)
    assert "Send to a jury" in staff.get(f"/moderation/cases/{case.pk}").content.decode()
    assert client_for(bob).post(f"/moderation/cases/{case.pk}/jury").status_code == 403
    assert staff.post(f"/moderation/cases/{case.pk}/jury").status_code == 303
    assert Case.objects.get(pk=case.pk).state == "jury"
    panel = JuryPanel.objects.get(case=case)
    assert set(JuryMembership.objects.filter(panel=panel).values_list("juror_id", flat=True)) \
        == {j.pk for j in jurors}

    first, second, third = (client_for(j) for j in jurors)
    assert f"/jury/{panel.pk}" in first.get("/jury").content.decode()
    assert client_for(bob).get(f"/jury/{panel.pk}").status_code == 404
    page = first.get(f"/jury/{panel.pk}").content.decode()
    assert "you are all fools" in page and RULES[0] in page and 'name="rationale"' in page
    missing = first.post(f"/jury/{panel.pk}", {"verdict": "violates", "rule_id": str(rule.pk),
                                                "proposed_restriction": "remove"})
    assert missing.status_code == 422
    assert first.post(f"/jury/{panel.pk}", {
        "verdict": "violates", "rule_id": str(rule.pk), "proposed_restriction": "remove",
        "rationale": "Calling everyone fools is an insult."}).status_code == 303
    assert 'name="rationale"' not in first.get(f"/jury/{panel.pk}").content.decode()
    # Blind: neither another juror nor staff sees the vote while the panel votes.
    assert "Calling everyone fools" not in second.get(f"/jury/{panel.pk}").content.decode()
    assert "Calling everyone fools" not in staff.get(
        f"/moderation/cases/{case.pk}").content.decode()
    second.post(f"/jury/{panel.pk}", {"verdict": "does_not_violate",
                                      "rationale": "Rude but harmless."})
    third.post(f"/jury/{panel.pk}", {"verdict": "abstain", "rationale": "Cannot tell."})
    panel.refresh_from_db()
    assert panel.state == "hung"
    case_page = staff.get(f"/moderation/cases/{case.pk}").content.decode()
    for rationale in ("Calling everyone fools", "Rude but harmless.", "Cannot tell."):
        assert rationale in case_page
    assert Case.objects.get(pk=case.pk).state == "open"
