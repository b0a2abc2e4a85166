"""The decision form refuses a restriction without reasons; the affected user
reads the statement and appeals; an uninvolved reviewer reverses it."""

from __future__ import annotations

import pytest
from django.test import Client

from tribune.moderation.models import Appeal, Decision
from tribune.moderation.services import report_create, rule_create
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(account):
    client = Client(HTTP_HOST="localhost")
    client.force_login(account.user)
    return client


@pytest.fixture
def case(alice, bob):
    rule = rule_create(text="Be kind", severity_tier=3)
    status = status_create(account=alice, text="you are all idiots")
    report = report_create(reporter=bob, target=alice, status_ids=[status.pk], rule_ids=[rule.pk])
    return report.case, status, rule


def test_decision_form_without_reasons_is_refused_and_changes_nothing(case, make_account):
    found, status, rule = case
    mod = client_for(make_account("mod1", admin=True))
    url = f"/moderation/cases/{found.pk}"
    page = mod.get(url)
    assert page.status_code == 200 and b"decision-form" in page.content
    response = mod.post(url, {"restriction": "remove", "ground": "tc", "rule_id": str(rule.pk),
                              "explanation": "", "facts": "Insults.", "strike": "on"})
    assert response.status_code == 422
    assert not Decision.objects.exists()
    status.refresh_from_db()
    assert status.removed_at is None


def test_remove_appeal_reverse_through_the_pages(case, alice, carol, make_account):
    found, status, rule = case
    first, second = make_account("mod1", admin=True), make_account("mod2", admin=True)
    response = client_for(first).post(f"/moderation/cases/{found.pk}", {
        "restriction": "remove", "ground": "tc", "rule_id": str(rule.pk),
        "explanation": "Calling everyone idiots is unkind.", "facts": "A post insults members.",
        "strike": "on"})
    assert response.status_code == 302
    decision = Decision.objects.get()
    # Others no longer see the post; the author sees the notice and appeals.
    assert client_for(carol).get(f"/@alice/{status.pk}").status_code == 404
    author = client_for(alice)
    notifications = author.get("/notifications").content.decode()
    assert f"/moderation/decisions/{decision.pk}" in notifications
    page = author.get(f"/moderation/decisions/{decision.pk}").content.decode()
    assert "Calling everyone idiots is unkind." in page and "Be kind" in page
    assert author.post(f"/moderation/decisions/{decision.pk}",
                       {"text": "It was a joke among friends."}).status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.reviewer_id == second.pk  # never the moderator who decided
    assert client_for(first).post(f"/moderation/appeals/{appeal.pk}", {
        "outcome": "reverse", "response": "Self-deprecating joke."}).status_code == 422
    response = client_for(second).post(f"/moderation/appeals/{appeal.pk}", {
        "outcome": "reverse", "response": "In context this was a joke, not an insult."})
    assert response.status_code == 302
    assert client_for(carol).get(f"/@alice/{status.pk}").status_code == 200
    appeal.refresh_from_db()
    assert appeal.state == "reversed"
    assert "accepted" in author.get(f"/moderation/decisions/{decision.pk}").content.decode()


def test_others_cannot_read_a_decision(case, carol, make_account):
    found, _status, rule = case
    from tribune.moderation.decisions import Reasons, decision_create

    decision = decision_create(case_id=found.pk, moderator=make_account("mod1", admin=True),
                               restriction="label", label_text="Insults",
                               reasons=Reasons(facts="Insults.", rule_id=rule.pk,
                                               explanation="Unkind."))
    assert client_for(carol).get(f"/moderation/decisions/{decision.pk}").status_code == 404


def test_the_queue_gives_a_waiting_appeal_to_a_new_uninvolved_moderator(case, alice,
                                                                        make_account):
    from tribune.moderation.decisions import Reasons, decision_create

    found, _status, rule = case
    decider = make_account("mod1", admin=True)
    decision = decision_create(case_id=found.pk, moderator=decider, restriction="remove",
                               reasons=Reasons(facts="Insults.", rule_id=rule.pk,
                                               explanation="Unkind."))
    author = client_for(alice)
    author.post(f"/moderation/decisions/{decision.pk}", {"text": "Please look again."})
    assert Appeal.objects.get().state == "pending"
    # Sending it twice shows the appeal already made, not an error page.
    again = author.post(f"/moderation/decisions/{decision.pk}", {"text": "Again."})
    assert again.status_code == 302 and Appeal.objects.count() == 1
    newcomer = make_account("mod2", admin=True)
    page = client_for(newcomer).get("/moderation").content.decode()
    assert f"Appeal about @{alice.username}" in page
    assert Appeal.objects.get().reviewer_id == newcomer.pk


def test_the_case_page_shows_an_illegal_content_notice(make_account, alice):
    from django.conf import settings

    from tribune.moderation.notices import notice_create

    status = status_create(account=alice, text="an unlawful post")
    report = notice_create(url=f"{settings.TRIBUNE_BASE_URL}/@alice/{status.pk}",
                           explanation="It defames a named person.",
                           legal_category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
                           good_faith=True, name="Sam Notifier", email="sam@example.test")
    page = client_for(make_account("mod1", admin=True)).get(
        f"/moderation/cases/{report.case_id}").content.decode()
    assert "It defames a named person." in page
    assert "Sam Notifier" in page and "sam@example.test" in page
    assert "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH" in page


def test_non_staff_get_403_from_staff_pages(case, bob):
    found, _status, _rule = case
    assert client_for(bob).get("/moderation").status_code == 403
    assert client_for(bob).get(f"/moderation/cases/{found.pk}").status_code == 403


def test_a_frozen_author_gets_a_form_error_not_a_server_error(case, alice, make_account):
    """Regression: composing or editing while frozen raised an uncaught Forbidden."""
    from tribune.moderation.decisions import Reasons, decision_create

    found, status, rule = case
    decision_create(case_id=found.pk, moderator=make_account("mod1", admin=True),
                    restriction="freeze", reasons=Reasons(facts="Insults.", rule_id=rule.pk,
                                                          explanation="Unkind."))
    author = client_for(alice)
    response = author.post("/statuses", {"text": "Can I still post?", "visibility": "public"})
    assert response.status_code == 422
    assert "restricted by a moderation decision" in response.content.decode()
    edited = author.post(f"/@alice/{status.pk}/edit", {"text": "edited", "spoiler_text": ""})
    assert edited.status_code == 422
    assert "restricted by a moderation decision" in edited.content.decode()
