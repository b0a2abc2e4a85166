"""``POST /api/v1/emails/confirmations`` and the 403 for a login whose address
awaits confirmation (docs: methods/emails.md; Api::BaseController#require_user!),
with the mails caught by a real SMTP server on loopback (tests/smtp.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

UNCONFIRMED = "Your login is missing a confirmed e-mail address"


@pytest.fixture
def newcomer(db, settings, django_capture_on_commit_callbacks, mail):
    from tribune.accounts.registrations import account_sign_up

    settings.TRIBUNE_REQUIRE_EMAIL_CONFIRMATION = True
    with django_capture_on_commit_callbacks(execute=True):
        return account_sign_up(username="newcomer", email="newcomer@example.test",
                               password="a-long-test-passphrase", agreement=True)


def token_in(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def test_an_unconfirmed_login_is_refused_until_it_confirms(newcomer, api_as, mail):
    from tribune.accounts.emails import email_confirm

    api = api_as(newcomer)
    refused = api.get("/api/v1/accounts/verify_credentials")
    assert refused.status_code == 403
    assert refused.json() == {"error": UNCONFIRMED}
    assert api.get("/api/v1/timelines/home").status_code == 403

    email_confirm(token=token_in(mail.link("newcomer@example.test", "/auth/confirmation")))
    confirmed = api.get("/api/v1/accounts/verify_credentials")
    assert confirmed.status_code == 200
    assert confirmed.json()["username"] == "newcomer"


def test_resending_the_confirmation(newcomer, api_as, mail, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    from tribune.accounts.emails import email_confirm

    api = api_as(newcomer)
    mail.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post("/api/v1/emails/confirmations", json={})
    assert (again.status_code, again.json()) == (200, {})
    assert [m["To"] for m in mail.messages] == ["newcomer@example.test"]

    taken = api.post("/api/v1/emails/confirmations", json={"email": "NEWCOMER@example.test"})
    assert taken.status_code == 200  # its own address is not "taken"
    malformed = api.post("/api/v1/emails/confirmations", json={"email": "not an address"})
    assert malformed.status_code == 422

    mail.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moved = api.post("/api/v1/emails/confirmations", json={"email": "typo@fixed.example"})
    assert moved.status_code == 200
    assert get_user_model().objects.get(username="newcomer").email == "typo@fixed.example"
    [message] = mail.messages
    assert message["To"] == "typo@fixed.example"
    email_confirm(token=token_in(mail.link("typo@fixed.example", "/auth/confirmation")))

    done = api.post("/api/v1/emails/confirmations", json={})
    assert done.status_code == 403
    assert done.json() == {"error": "This method is only available while the e-mail is "
                                    "awaiting confirmation"}


def test_a_confirmed_login_has_nothing_to_resend(alice, api_as):
    response = api_as(alice).post("/api/v1/emails/confirmations", json={})
    assert response.status_code == 403


def test_a_token_is_needed(db):
    from tests.conftest import Api

    assert Api().post("/api/v1/emails/confirmations", json={}).status_code == 401


def test_the_confirmation_mail_of_an_app_sign_up_is_in_the_locale_asked_for(
        db, settings, mail, django_capture_on_commit_callbacks):
    # Mastodon's POST /api/v1/accounts: ``locale`` is the language of the
    # confirmation mail (the request itself has no Accept-Language here).
    from tests.api.test_surge_limits import app_token
    from tests.conftest import Api
    from tribune.accounts.models import Account

    settings.TRIBUNE_REQUIRE_EMAIL_CONFIRMATION = True
    app = Api(app_token())
    with django_capture_on_commit_callbacks(execute=True):
        response = app.post("/api/v1/accounts", json={
            "username": "francoise", "email": "francoise@example.test",
            "password": "a-long-test-passphrase", "agreement": True, "locale": "fr-FR"})
    assert response.status_code == 200, response.content
    [message] = mail.to("francoise@example.test")
    assert message["Subject"].startswith("Confirmez votre adresse")
    assert Account.objects.get(username="francoise").locale == "fr"
