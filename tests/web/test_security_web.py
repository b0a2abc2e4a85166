"""Account security through the web interface: e-mail confirmation, password reset
and change of address with the mails caught by a real SMTP server on loopback
(tests/smtp.py), two-factor sign-in with TOTP and recovery codes, and the
sessions and authorised apps pages."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pyotp
import pytest
from django.test import Client

PASSWORD = "a-long-test-passphrase"
NEW_PASSWORD = "another-long-passphrase"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """``send(callable)``: call it and run what it left for after commit (the mails)."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def browser(**headers) -> Client:
    return Client(HTTP_HOST="localhost", **headers)


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post("/auth/sign_in", {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def main_part(response) -> str:
    """The page's main content, without the per-response CSRF token."""
    main = response.content.decode().split("<main", 1)[1]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main)


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def sign_up(client: Client, send, username: str = "newcomer"):
    return send(lambda: client.post("/auth/sign_up", {
        "username": username, "email": f"{username}@example.test", "password": PASSWORD,
        "password_confirmation": PASSWORD, "agreement": "on"}))


# --- e-mail confirmation -----------------------------------------------------------------


def test_sign_up_needs_a_confirmed_address_when_required(db, settings, mail, send):
    settings.TRIBUNE_REQUIRE_EMAIL_CONFIRMATION = True
    client = browser()
    response = sign_up(client, send)
    assert response.status_code == 303
    assert response["Location"] == "/auth/sign_up/confirm"
    assert not signed_in(client)
    [message] = mail.to("newcomer@example.test")
    assert "Confirm your e-mail address" in message["Subject"]

    refused = sign_in(browser(), "newcomer")
    assert refused.status_code == 422
    assert refused.context["form"].has_error("__all__", "unconfirmed")

    link = local_path(mail.link("newcomer@example.test", "/auth/confirmation"))
    confirmed = browser().get(link)
    assert confirmed.status_code == 303
    assert sign_in(browser(), "newcomer").status_code == 302
    # A link works once.
    again = browser().get(link)
    assert again.status_code == 422
    assert "invalid or has expired" in again.content.decode()


def test_sign_up_without_required_confirmation_signs_in_at_once(db, mail, send):
    client = browser()
    assert sign_up(client, send)["Location"] == "/"
    assert signed_in(client)
    assert mail.messages == []


def test_expired_or_forged_confirmation_links_are_refused(db, settings, mail, send,
                                                          monkeypatch):
    from django.core import signing

    from tribune.accounts.emails import confirmation_token

    settings.TRIBUNE_REQUIRE_EMAIL_CONFIRMATION = True
    sign_up(browser(), send)
    pk = user("newcomer").pk
    issued = time.time() - settings.TRIBUNE_EMAIL_CONFIRMATION_SECONDS - 60
    monkeypatch.setattr(signing.time, "time", lambda: issued)
    old = confirmation_token(user_id=pk, email="newcomer@example.test")
    monkeypatch.undo()
    assert browser().get("/auth/confirmation", {"token": old}).status_code == 422
    forged = signing.dumps({"u": pk, "e": "newcomer@example.test"}, salt="another")
    assert browser().get("/auth/confirmation", {"token": forged}).status_code == 422
    assert sign_in(browser(), "newcomer").status_code == 422
    fresh = confirmation_token(user_id=pk, email="newcomer@example.test")
    assert browser().get("/auth/confirmation", {"token": fresh}).status_code == 303


def test_resending_the_confirmation_link_reveals_nothing(db, settings, mail, send,
                                                         make_account):
    settings.TRIBUNE_REQUIRE_EMAIL_CONFIRMATION = True
    sign_up(browser(), send)
    make_account("settled")
    mail.clear()
    answers = [send(lambda address=address: browser().post(
                   "/auth/confirmation/new", {"email": address}, follow=True))
               for address in ("newcomer@example.test", "settled@example.test",
                               "nobody@example.test")]
    pages = {main_part(answer) for answer in answers}
    assert len(pages) == 1  # the same page whoever asks
    assert [m["To"] for m in mail.messages] == ["newcomer@example.test"]


# --- password reset ----------------------------------------------------------------------


def test_password_reset_by_mail_signs_out_everywhere(db, mail, send, alice):
    from oauth2_provider.models import get_access_token_model

    from tribune.oauth.services import cli_application_get_or_create, token_create

    token_create(user=alice.user, application=cli_application_get_or_create(),
                 scopes=["read"])
    elsewhere = browser()
    assert sign_in(elsewhere, "alice").status_code == 302

    known = send(lambda: browser().post("/auth/password/reset",
                                        {"email": "ALICE@example.test"}, follow=True))
    unknown = send(lambda: browser().post("/auth/password/reset",
                                          {"email": "nobody@example.test"}, follow=True))
    assert main_part(known) == main_part(unknown)
    assert [m["To"] for m in mail.messages] == ["alice@example.test"]

    client = browser()
    link = local_path(mail.link("alice@example.test", "/auth/password/reset/"))
    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD,
                                                    "new_password2": NEW_PASSWORD})
    assert done.status_code == 303
    assert sign_in(browser(), "alice").status_code == 422
    assert sign_in(browser(), "alice", NEW_PASSWORD).status_code == 302
    assert not signed_in(elsewhere)
    assert not get_access_token_model().objects.filter(user=alice.user).exists()
    # The link is spent once the password changed.
    assert not browser().get(link, follow=True).context["validlink"]


# --- change of address -------------------------------------------------------------------


def test_new_address_counts_only_once_confirmed(db, mail, send, alice):
    client = browser()
    client.force_login(alice.user)
    response = send(lambda: client.post("/settings/account", {
        "form": "email", "email-email": "alice@new.example",
        "email-current_password": PASSWORD}))
    assert response.status_code == 303
    assert user("alice").email == "alice@example.test"
    [notice] = mail.to("alice@example.test")
    assert "alice@new.example" in mail.body(notice)
    assert "is being changed" in notice["Subject"]
    link = local_path(mail.link("alice@new.example", "/auth/confirmation"))
    assert "alice@new.example" in client.get("/settings/account").content.decode()

    assert browser().get(link).status_code == 303
    assert user("alice").email == "alice@new.example"
    assert browser().get(link).status_code == 422  # used


def test_a_later_change_supersedes_the_earlier_link(db, mail, send, alice):
    from tribune.accounts.emails import email_change_request

    send(lambda: email_change_request(user=alice.user, email="first@new.example"))
    first = local_path(mail.link("first@new.example", "/auth/confirmation"))
    send(lambda: email_change_request(user=alice.user, email="second@new.example"))
    assert browser().get(first).status_code == 422
    assert user("alice").email == "alice@example.test"


# --- two-factor authentication -----------------------------------------------------------


def enable_two_factor(client: Client) -> tuple[pyotp.TOTP, list[str]]:
    assert client.post("/settings/two_factor", {"action": "setup"}).status_code == 303
    page = client.get("/settings/two_factor")
    assert page.context["qr"].startswith("data:image/svg+xml")
    totp = pyotp.TOTP(page.context["setup"].secret)
    wrong = client.post("/settings/two_factor", {"action": "enable",
                                                 "code": _other_code(totp)})
    assert wrong.status_code == 422
    time.sleep(1.1)  # django-otp refuses every code for a second after a wrong one
    enabled = client.post("/settings/two_factor", {"action": "enable", "code": totp.now()})
    assert enabled.status_code == 200
    codes = enabled.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return totp, codes


def _other_code(totp: pyotp.TOTP) -> str:
    valid = {totp.at(time.time() + step * 30) for step in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def second_step(client: Client, code: str, next_url: str = ""):
    return client.post("/auth/sign_in/two_factor", {"code": code, "next": next_url})


def test_two_factor_sign_in_with_totp_and_single_use_recovery_codes(db, alice):
    owner = browser()
    owner.force_login(alice.user)
    totp, codes = enable_two_factor(owner)

    client = browser()
    first = sign_in(client, "alice")
    assert first.status_code == 303
    assert first["Location"].startswith("/auth/sign_in/two_factor")
    assert not signed_in(client)
    # The code of the next period: the current one was spent enabling.
    assert second_step(client, totp.at(time.time() + 30)).status_code == 303
    assert signed_in(client)

    wrong = browser()
    sign_in(wrong, "alice")
    assert second_step(wrong, _other_code(totp)).status_code == 422
    assert not signed_in(wrong)
    assert second_step(wrong, codes[0]).status_code == 303
    assert signed_in(wrong)

    reuse = browser()
    sign_in(reuse, "alice")
    assert second_step(reuse, codes[0]).status_code == 422
    assert not signed_in(reuse)
    time.sleep(1.1)  # the refused code holds the recovery codes back for a second
    assert second_step(reuse, codes[1].upper()).status_code == 303

    page = owner.get("/settings/two_factor")
    assert page.context["codes_left"] == 8


def test_a_right_code_too_soon_after_a_wrong_one_is_told_to_wait(db, alice):
    owner = browser()
    owner.force_login(alice.user)
    totp, _codes = enable_two_factor(owner)
    client = browser()
    sign_in(client, "alice")
    wrong = second_step(client, _other_code(totp))
    assert wrong.status_code == 422
    assert "This code is not valid" in wrong.content.decode()
    right = totp.at(time.time() + 30)  # the current one was spent enabling
    too_soon = second_step(client, right)
    assert too_soon.status_code == 422 and not signed_in(client)
    assert "wait 1 second, then enter the newest code" in too_soon.content.decode()
    time.sleep(1.1)
    assert second_step(client, right).status_code == 303
    assert signed_in(client)


def test_the_second_step_needs_the_first(db, alice):
    owner = browser()
    owner.force_login(alice.user)
    _totp, codes = enable_two_factor(owner)
    stranger = browser()
    response = second_step(stranger, codes[0])
    assert response.status_code == 303
    assert response["Location"].startswith("/auth/sign_in")
    assert not signed_in(stranger)


def test_oauth_authorization_passes_the_second_step(db, alice):
    from tribune.oauth.services import application_create

    owner = browser()
    owner.force_login(alice.user)
    _totp, codes = enable_two_factor(owner)
    app, _secret = application_create(name="Test app", redirect_uris="https://app.example/cb",
                             scopes="read")
    authorize = ("/oauth/authorize?" + f"client_id={app.client_id}&response_type=code"
                 "&redirect_uri=https://app.example/cb&scope=read")
    client = browser()
    assert client.get(authorize)["Location"].startswith("/auth/sign_in")
    first = client.post("/auth/sign_in", {"username": "alice", "password": PASSWORD,
                                          "next": authorize})
    assert first["Location"].startswith("/auth/sign_in/two_factor")
    assert client.get(authorize)["Location"].startswith("/auth/sign_in")  # not yet
    done = second_step(client, codes[0], authorize)
    assert done["Location"] == authorize
    assert client.get(authorize).status_code == 200  # the consent page


def test_disabling_two_factor_needs_password_and_code(db, alice):
    owner = browser()
    owner.force_login(alice.user)
    _totp, codes = enable_two_factor(owner)
    wrong_password = owner.post("/settings/two_factor", {
        "action": "disable", "current_password": "wrong", "code": codes[0]})
    assert wrong_password.status_code == 422
    wrong_code = owner.post("/settings/two_factor", {
        "action": "disable", "current_password": PASSWORD, "code": "nonsense"})
    assert wrong_code.status_code == 422
    assert owner.get("/settings/two_factor").context["enabled"]
    time.sleep(1.1)  # the refused code holds the recovery codes back for a second
    done = owner.post("/settings/two_factor", {
        "action": "disable", "current_password": PASSWORD, "code": codes[0]})
    assert done.status_code == 303
    assert sign_in(browser(), "alice").status_code == 302


# --- sessions and apps -------------------------------------------------------------------


def test_sessions_are_listed_and_revocable(db, alice, bob):
    here = browser(HTTP_USER_AGENT="Firefox on the laptop")
    there = browser(HTTP_USER_AGENT="Chromium on the phone")
    assert sign_in(here, "alice").status_code == 302
    assert sign_in(there, "alice").status_code == 302
    sign_in(browser(), "bob")
    page = here.get("/settings/sessions")
    listed = {s.user_agent: s for s in page.context["sessions"]}
    assert set(listed) == {"Firefox on the laptop", "Chromium on the phone"}
    other = listed["Chromium on the phone"].session_key
    assert other != page.context["current"]

    # Another person's session cannot be revoked from here.
    bobs = browser()
    bobs.force_login(bob.user)
    assert bobs.post("/settings/sessions", {"session": other}).status_code == 404
    assert signed_in(there)

    assert here.post("/settings/sessions", {"session": other}).status_code == 303
    assert there.get("/settings/account").status_code == 302  # signed out
    assert [s.user_agent for s in here.get("/settings/sessions").context["sessions"]] == [
        "Firefox on the laptop"]


def test_authorised_apps_are_listed_and_revocable(db, alice):
    from oauth2_provider.models import get_access_token_model

    from tribune.oauth.services import application_create, token_create

    app, _secret = application_create(name="Pocket client", redirect_uris="https://app.example/cb",
                             scopes="read write", website="https://pocket.example")
    token_create(user=alice.user, application=app, scopes=["read"])
    token_create(user=alice.user, application=app, scopes=["write"])
    client = browser()
    client.force_login(alice.user)
    page = client.get("/settings/sessions")
    [listed] = page.context["applications"]
    assert (listed.name, listed.scopes) == ("Pocket client", ["read", "write"])
    assert 'href="https://pocket.example"' in page.content.decode()
    assert client.post("/settings/sessions",
                       {"application": str(app.pk)}).status_code == 303
    assert not get_access_token_model().objects.filter(user=alice.user).exists()
    assert client.post("/settings/sessions",
                       {"application": str(app.pk)}).status_code == 404


def test_the_password_grant_cannot_skip_the_second_factor(db, alice):
    from tribune.oauth.services import application_create

    owner = browser()
    owner.force_login(alice.user)
    enable_two_factor(owner)
    app, secret = application_create(name="Test app", redirect_uris="https://app.example/cb",
                                     scopes="read")
    response = browser().post("/oauth/token", {
        "grant_type": "password", "username": "alice", "password": PASSWORD,
        "client_id": app.client_id, "client_secret": secret, "scope": "read"})
    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()


@pytest.mark.rate_limits
def test_reset_requests_are_limited_per_address_known_or_not(db, mail, send, alice):
    for address in ("alice@example.test", "nobody@example.test"):
        for _n in range(5):
            response = send(lambda address=address: browser().post(
                "/auth/password/reset", {"email": address}))
            assert response.status_code == 303
        refused = browser().post("/auth/password/reset", {"email": address.upper()})
        assert refused.status_code == 429
    assert len(mail.to("alice@example.test")) == 5
