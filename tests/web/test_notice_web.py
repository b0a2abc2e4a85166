"""The notice of illegal content form: open to everyone, errors on the form with
nothing written, the acknowledgement page and e-mail, and its rate limit."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from tribune.moderation.models import Case, Report
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(account=None, ip="127.0.0.1") -> Client:
    client = Client(HTTP_HOST="localhost", REMOTE_ADDR=ip)
    if account is not None:
        client.force_login(account.user)
    return client


@pytest.fixture
def post_url(alice, settings):
    post = status_create(account=alice, text="an unlawful threat")
    return f"{settings.TRIBUNE_BASE_URL}/@alice/{post.pk}"


def form(address, **overrides):
    data = {"url": address, "legal_category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            "explanation": "It threatens a named person.", "name": "Dana Reader",
            "email": "dana@example.test", "good_faith": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_needs_no_account_and_is_linked_from_about_and_the_report_form(alice, bob):
    page = client_for().get("/report-illegal-content")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("url", "legal_category", "csam", "explanation", "name", "email", "good_faith"):
        assert f'name="{name}"' in html
    assert "Illegal or harmful speech" in html and "Protection of minors" in html
    assert 'href="/report-illegal-content"' in client_for().get("/about").content.decode()
    report_page = client_for(bob).get("/@alice/report").content.decode()
    assert 'href="/report-illegal-content?url=/%40alice"' in report_page


def test_a_url_in_the_query_fills_the_address_and_an_account_fills_name_and_email(bob, settings):
    html = client_for(bob).get("/report-illegal-content?url=/@alice/5").content.decode()
    assert f'value="{settings.TRIBUNE_BASE_URL}/@alice/5"' in html
    assert 'value="Bob"' in html and 'value="bob@example.test"' in html


def test_a_notice_is_acknowledged_on_the_page_and_by_email(post_url):
    response = client_for().post("/report-illegal-content", form(post_url))
    assert response.status_code == 200
    report = Report.objects.get()
    assert f"reference {report.pk}" in response.content.decode()
    assert (report.reporter, report.category, report.subject_url) == (None, "legal", post_url)
    assert [m.to for m in mail.outbox] == [["dana@example.test"]]


def test_a_signed_in_notifier_is_recorded_as_the_reporter(post_url, bob):
    assert client_for(bob).post("/report-illegal-content", form(post_url)).status_code == 200
    assert Report.objects.get().reporter == bob


def test_a_csam_notice_may_leave_out_name_and_email(post_url):
    response = client_for().post("/report-illegal-content", form(
        post_url, legal_category="", csam="on", name="", email=""))
    assert response.status_code == 200
    report = Report.objects.get()
    assert report.legal_category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert report.case.severity_tier == 0
    assert mail.outbox == []


@pytest.mark.parametrize(("overrides", "message"), [
    ({"explanation": ""}, "This field is required."),
    ({"good_faith": None}, "This field is required."),
    ({"url": "https://elsewhere.example/@alice/1"}, "Give the full address of a post"),
    ({"name": ""}, "Give your name"),
    ({"email": "nobody"}, "Enter a valid email address."),
    ({"legal_category": ""}, "Choose the category of illegal content"),
])
def test_errors_are_shown_on_the_form_and_nothing_is_written(post_url, overrides, message):
    response = client_for().post("/report-illegal-content", form(post_url, **overrides))
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert "It threatens a named person." in html or "explanation" in overrides
    assert not Report.objects.exists() and not Case.objects.exists()
    assert mail.outbox == []


def test_an_address_that_is_not_a_post_here_is_refused(alice, settings):
    response = client_for().post("/report-illegal-content",
                                 form(f"{settings.TRIBUNE_BASE_URL}/@alice/123"))
    assert response.status_code == 422
    assert "There is no post or profile at this address" in response.content.decode()
    assert not Report.objects.exists()


@pytest.mark.rate_limits
def test_notices_are_limited_per_ip(post_url, settings):
    settings.TRIBUNE_RATE_LIMITS = True
    for _ in range(10):
        assert client_for(ip="203.0.113.50").post(
            "/report-illegal-content", form(post_url)).status_code == 200
    limited = client_for(ip="203.0.113.50").post("/report-illegal-content", form(post_url))
    assert limited.status_code == 429
    assert "Too many attempts" in limited.content.decode()
    assert Report.objects.count() == 10
    assert client_for(ip="203.0.113.51").post(
        "/report-illegal-content", form(post_url)).status_code == 200
