"""Reporting from the interface, and the staff queue."""

from __future__ import annotations

import pytest
from django.test import Client

from tribune.moderation.models import Case, Report
from tribune.moderation.services import report_create, rule_create
from tribune.statuses.services import status_create, status_delete

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(account=None, **extra) -> Client:
    client = Client(HTTP_HOST="localhost", **extra)
    if account is not None:
        client.force_login(account.user)
    return client


def test_report_a_post_from_its_button(alice, bob):
    rule = rule_create(text="No insults", severity_tier=2)
    status = status_create(account=alice, text="you are all fools")
    client = client_for(bob)
    thread = client.get(f"/@alice/{status.pk}").content.decode()
    assert f'href="/@alice/{status.pk}/report"' in thread
    form = client.get(f"/@alice/{status.pk}/report").content.decode()
    assert "you are all fools" in form and "No insults" in form
    response = client.post(f"/@alice/{status.pk}/report", {
        "category": "violation", "rule_ids": [str(rule.pk)], "comment": "rude"})
    assert response.status_code == 200
    report = Report.objects.get()
    assert f"reference {report.pk}" in response.content.decode()
    assert [r.pk for r in report.rules.all()] == [rule.pk]
    assert report.case.severity_tier == 2


def test_report_form_errors_keep_what_was_typed(alice, bob):
    client = client_for(bob)
    missing = client.post("/@alice/report", {"comment": "please look"})
    assert missing.status_code == 422
    assert "please look" in missing.content.decode()
    no_rule = client.post("/@alice/report", {"category": "violation", "comment": "x"})
    assert no_rule.status_code == 422
    assert "Rule ids" in no_rule.content.decode()
    assert not Report.objects.exists()
    assert client_for(alice).post("/@alice/report", {"category": "spam"}).status_code == 422


def test_reporting_needs_an_account_and_a_visible_post(alice, bob):
    secret = status_create(account=alice, text="secret", visibility="private")
    assert client_for().get("/@alice/report").status_code == 302
    assert client_for(bob).get(f"/@alice/{secret.pk}/report").status_code == 404
    assert client_for(bob).get("/@nobody/report").status_code == 404


def test_staff_queue_in_tier_order_and_the_evidence_outlives_the_post(alice, bob, carol,
                                                                      make_account):
    from django.contrib.auth import get_user_model

    spam_post = status_create(account=alice, text="cheap watches")
    threat = status_create(account=carol, text="a threat")
    report_create(reporter=bob, target=alice, status_ids=[spam_post.pk], category="spam")
    severe = rule_create(text="No threats", severity_tier=0)
    report_create(reporter=bob, target=carol, status_ids=[threat.pk], rule_ids=[severe.pk])
    moderator = make_account("moddy")
    get_user_model().objects.filter(pk=moderator.user_id).update(is_staff=True)
    assert client_for(bob).get("/moderation").status_code == 403
    page = client_for(moderator).get("/moderation").content.decode()
    assert page.index("@carol") < page.index("@alice")
    status_delete(account=carol, status=threat)
    case = Case.objects.get(subject_key=f"status:{threat.pk}")
    detail = client_for(moderator).get(f"/moderation/cases/{case.pk}").content.decode()
    assert "a threat" in detail and "The author has deleted this post." in detail
    assert "No threats" in detail
