"""The account side of the web interface: joining under each registration mode,
signing in (with its rate limits), and one's own settings. Everything happens
through the pages a browser would post to; results are read back from the models,
the API or the pages themselves."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    """Argon2 is slow on purpose; these tests hash hundreds of passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def browser(ip: str = "127.0.0.1", **headers) -> Client:
    return Client(HTTP_HOST="localhost", REMOTE_ADDR=ip, **headers)


def mode(name: str) -> None:
    from tribune.accounts.instance import registration_mode_set

    registration_mode_set(mode=name)


def sign_up_data(username: str = "newcomer", **overrides) -> dict:
    data = {"username": username, "email": f"{username}@example.test",
            "password": PASSWORD, "password_confirmation": PASSWORD, "agreement": "on"}
    data.update(overrides)
    data["username"] = overrides.get("name", username)
    data.pop("name", None)
    return {key: value for key, value in data.items() if value is not None}


def field_errors(response) -> dict[str, list[str]]:
    """Error codes per field of the page's form, as the view left them."""
    return {name: [e.code for e in errors]
            for name, errors in response.context["form"].errors.as_data().items()}


def signed_in_username(client: Client) -> str | None:
    from django.contrib.auth import get_user_model

    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id).username if user_id else None


def user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=username).first()


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post("/auth/sign_in", {"username": username, "password": password})


# Markup rules every account page keeps (Content-Security-Policy, accessibility).


class _Audit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.labels: set[str] = set()
        self.controls: list[str] = []
        self.problems: list[str] = []
        self.forms = 0
        self.csrf_tokens = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in attributes:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
        if tag == "style":
            self.problems.append("<style>")
        if tag == "script" and "src" not in attributes:
            self.problems.append("inline <script>")
        if tag == "label" and "for" in attributes:
            self.labels.add(attributes["for"])
        if tag in ("input", "select", "textarea") and attributes.get("type") not in (
                "hidden", "submit"):
            self.controls.append(attributes.get("id") or f"<{tag} name={attributes.get('name')}>")
        if tag == "form" and attributes.get("method") == "post":
            self.forms += 1
        if tag == "input" and attributes.get("name") == "csrfmiddlewaretoken":
            self.csrf_tokens += 1


def audit(response) -> _Audit:
    parser = _Audit()
    parser.feed(response.content.decode())
    unlabelled = [c for c in parser.controls if c not in parser.labels]
    assert not unlabelled, unlabelled
    assert not parser.problems, parser.problems
    assert parser.forms == parser.csrf_tokens
    return parser


@pytest.mark.parametrize("registration", ["open", "approval", "invite"])
def test_sign_up_page_is_labelled_and_lists_the_rules(registration, db):
    from tribune.moderation.services import rule_create

    rule_create(text="No spam, ever")
    mode(registration)
    page = browser().get("/auth/sign_up")
    assert page.status_code == 200
    html = page.content.decode()
    assert "No spam, ever" in html
    assert audit(page).forms >= 1
    assert ('name="reason"' in html) == (registration == "approval")
    assert ('name="invite_code"' in html) == (registration in ("approval", "invite"))


def test_account_pages_are_labelled_and_need_no_inline_code(make_account):
    admin = make_account("root", admin=True)
    client = browser()
    client.force_login(admin.user)
    for path in ("/settings/profile", "/settings/preferences", "/settings/account",
                 "/settings/invites"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert audit(page).forms >= 1
        assert 'aria-current="page"' in page.content.decode()
    assert audit(browser().get("/auth/sign_in")).forms >= 1


# Open registrations.


def test_open_sign_up_creates_an_active_account_and_signs_in(db):
    mode("open")
    client = browser()
    response = client.post("/auth/sign_up", sign_up_data("newcomer"))
    assert response.status_code == 303
    assert response["Location"] == "/"
    assert signed_in_username(client) == "newcomer"
    login = user("newcomer")
    assert login.is_active and login.email == "newcomer@example.test"
    assert login.check_password(PASSWORD)
    assert login.account.username == "newcomer"
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome to" in home.content.decode()
    # Signed in, the sign-up page sends one home.
    assert client.get("/auth/sign_up")["Location"] == "/"


@pytest.mark.parametrize("overrides, field, code", [
    ({"name": "Alice"}, "username", "taken"),           # case-insensitively taken
    ({"name": "no spaces"}, "username", "invalid"),
    ({"email": "not-an-email"}, "email", "invalid"),
    ({"email": "ALICE@example.test"}, "email", "taken"),
    ({"password": "short", "password_confirmation": "short"}, "password",
     "password_too_short"),
    ({"password": "p" * 129, "password_confirmation": "p" * 129}, "password",
     "password_too_long"),
    ({"password_confirmation": "something else entirely"}, "password_confirmation",
     "password_mismatch"),
    ({"agreement": None}, "agreement", "required"),
])
def test_sign_up_form_errors_sit_on_their_fields(overrides, field, code, alice):
    mode("open")
    client = browser()
    response = client.post("/auth/sign_up", sign_up_data("newcomer", **overrides))
    assert response.status_code == 422
    assert field_errors(response) == {field: [code]}
    html = response.content.decode()
    # The message is rendered right after the field's own input.
    field_id = f"id_{field}"
    assert re.search(rf'id="{field_id}".*?<ul class="errorlist', html, re.S)
    assert user("newcomer") is None and user("Alice") is None
    assert signed_in_username(client) is None


# Registrations by approval.


def test_approval_sign_up_waits_for_review(db, api_as):
    from tribune.accounts.models import ApprovalRequest

    mode("approval")
    client = browser()
    missing = client.post("/auth/sign_up", sign_up_data("hopeful"))
    assert missing.status_code == 422
    assert field_errors(missing) == {"reason": ["required"]}
    assert "0 people have an account here." in browser().get("/").content.decode()

    response = client.post("/auth/sign_up", sign_up_data("hopeful", reason="I write poems"))
    assert response.status_code == 303
    assert response["Location"] == "/auth/sign_up/pending"
    assert signed_in_username(client) is None
    pending = client.get(response["Location"])
    assert "Your account is pending review" in pending.content.decode()
    login = user("hopeful")
    assert login.is_active is False
    assert ApprovalRequest.objects.get(account__user=login).reason == "I write poems"

    # Not counted or found in public until approved.
    assert "0 people have an account here." in browser().get("/").content.decode()
    assert api_as().get("/api/v1/accounts/lookup", {"acct": "hopeful"}).status_code == 404
    assert api_as().get(f"/api/v1/accounts/{login.account.pk}").status_code == 404
    assert browser().get("/@hopeful").status_code == 404


def test_pending_sign_in_says_pending_only_with_the_right_password(db):
    from tribune.accounts.registrations import account_approve, account_sign_up

    mode("approval")
    account = account_sign_up(username="hopeful", email="h@example.test", password=PASSWORD,
                              agreement=True, reason="Hello")
    right = sign_in(browser(), "hopeful")
    assert right.status_code == 422
    assert [e.code for e in right.context["form"].non_field_errors().as_data()] == ["pending"]
    assert "pending review" in right.content.decode()
    wrong = sign_in(browser(), "hopeful", "not the password")
    assert [e.code for e in wrong.context["form"].non_field_errors().as_data()] == [
        "invalid_login"]
    assert "pending" not in wrong.content.decode()

    account_approve(account=account)
    client = browser()
    approved = sign_in(client, "hopeful")
    assert approved.status_code == 302
    assert signed_in_username(client) == "hopeful"
    assert browser().get("/@hopeful").status_code == 200


def test_admin_actions_approve_and_reject(make_account):
    from tribune.accounts.models import Account, ApprovalRequest
    from tribune.accounts.registrations import account_sign_up

    mode("approval")
    for name in ("keeper", "spammer"):
        account_sign_up(username=name, email=f"{name}@example.test", password=PASSWORD,
                        agreement=True, reason="Let me in")
    operator = browser()
    operator.force_login(make_account("root", admin=True).user)
    changelist = "/admin/accounts/approvalrequest/"
    assert "Let me in" in operator.get(changelist).content.decode()
    keep = ApprovalRequest.objects.get(account__username="keeper")
    spam = ApprovalRequest.objects.get(account__username="spammer")
    assert operator.post(changelist, {"action": "approve",
                                      "_selected_action": [keep.pk]}).status_code == 302
    assert operator.post(changelist, {"action": "reject",
                                      "_selected_action": [spam.pk]}).status_code == 302
    assert user("keeper").is_active
    assert user("spammer") is None
    assert not Account.objects.filter(username="spammer").exists()
    assert not ApprovalRequest.objects.exists()
    # A rejected name is free again.
    response = browser().post("/auth/sign_up", sign_up_data("spammer", reason="Sorry"))
    assert response.status_code == 303


def test_invite_skips_the_review_in_approval_mode(make_account):
    from tribune.accounts.registrations import invite_create

    invite = invite_create(created_by=make_account("host"))
    mode("approval")
    client = browser()
    response = client.post("/auth/sign_up", sign_up_data("friend", invite_code=invite.code))
    assert response.status_code == 303 and response["Location"] == "/"
    assert user("friend").is_active


# Registrations by invitation.


def test_invite_links_fill_in_the_code(make_account):
    from tribune.accounts.registrations import invite_create

    invite = invite_create(created_by=make_account("host"))
    mode("invite")
    link = browser().get(f"/invite/{invite.code}")
    assert link.status_code == 302
    assert link["Location"] == f"/auth/sign_up?invite={invite.code}"
    page = browser().get(link["Location"])
    assert f'value="{invite.code}"' in page.content.decode()


def test_invite_sign_up_uses_the_code(make_account):
    from tribune.accounts.models import Invite
    from tribune.accounts.registrations import invite_create

    invite = invite_create(created_by=make_account("host"), max_uses=1)
    mode("invite")
    missing = browser().post("/auth/sign_up", sign_up_data("friend"))
    assert field_errors(missing) == {"invite_code": ["required"]}
    client = browser()
    response = client.post("/auth/sign_up", sign_up_data("friend", invite_code=invite.code))
    assert response.status_code == 303
    assert signed_in_username(client) == "friend"
    assert Invite.objects.get(pk=invite.pk).uses == 1
    again = browser().post("/auth/sign_up", sign_up_data("second", invite_code=invite.code))
    assert again.status_code == 422
    assert field_errors(again) == {"invite_code": ["used_up"]}
    assert "used up" in again.content.decode()
    assert user("second") is None


def test_wrong_and_expired_invites_are_refused(make_account):
    from tribune.accounts.models import Invite
    from tribune.accounts.registrations import invite_create

    host = make_account("host")
    soon = invite_create(created_by=host, expires_at=timezone.now() + timedelta(seconds=0.3))
    mode("invite")
    wrong = browser().post("/auth/sign_up", sign_up_data("friend", invite_code="nope1234"))
    assert field_errors(wrong) == {"invite_code": ["unknown"]}
    time.sleep(0.4)
    expired = browser().post("/auth/sign_up", sign_up_data("friend", invite_code=soon.code))
    assert expired.status_code == 422
    assert field_errors(expired) == {"invite_code": ["expired"]}
    assert "expired" in expired.content.decode()
    assert Invite.objects.get(pk=soon.pk).uses == 0
    assert user("friend") is None


def test_a_failed_sign_up_spends_no_invite_use(make_account):
    from tribune.accounts.models import Invite
    from tribune.accounts.registrations import account_sign_up, invite_create
    from tribune.core.errors import Conflict

    invite = invite_create(created_by=make_account("host"), max_uses=1)
    mode("invite")
    with pytest.raises(Conflict):
        account_sign_up(username="host", email="other@example.test", password=PASSWORD,
                        agreement=True, invite_code=invite.code)
    assert Invite.objects.get(pk=invite.pk).uses == 0


# Closed registrations.


def test_closed_registrations_show_no_form_and_refuse_posts(db):
    mode("closed")
    page = browser().get("/auth/sign_up")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Registrations are closed" in html
    assert 'name="username"' not in html
    refused = browser().post("/auth/sign_up", sign_up_data("sneaky"))
    assert refused.status_code == 403
    assert user("sneaky") is None


# Rate limits.


@pytest.mark.rate_limits
def test_sign_ups_are_limited_per_ip(db, settings):
    settings.TRIBUNE_RATE_LIMITS = True
    mode("open")
    for n in range(5):
        assert browser("203.0.113.7").post(
            "/auth/sign_up", sign_up_data(f"member{n}")).status_code == 303
    limited = browser("203.0.113.7").post("/auth/sign_up", sign_up_data("member5"))
    assert limited.status_code == 429
    assert "Too many attempts" in limited.content.decode()
    assert user("member5") is None
    # Another address has its own budget.
    assert browser("203.0.113.8").post(
        "/auth/sign_up", sign_up_data("member5")).status_code == 303


@pytest.mark.rate_limits
def test_sign_up_form_posts_are_limited_per_ip(db, settings):
    settings.TRIBUNE_RATE_LIMITS = True
    mode("open")
    for _ in range(25):
        assert browser("203.0.113.9").post(
            "/auth/sign_up", sign_up_data("x y")).status_code == 422
    limited = browser("203.0.113.9").post("/auth/sign_up", sign_up_data("fine"))
    assert limited.status_code == 429
    assert "Too many attempts" in limited.content.decode()
    assert user("fine") is None


@pytest.mark.rate_limits
def test_sign_in_attempts_are_limited_per_ip(alice, settings):
    settings.TRIBUNE_RATE_LIMITS = True
    for n in range(25):
        assert sign_in(browser("198.51.100.1"), f"nobody{n}", "guess").status_code == 422
    limited = sign_in(browser("198.51.100.1"), "alice", "a-long-test-passphrase")
    assert limited.status_code == 429
    assert [e.code for e in limited.context["form"].non_field_errors().as_data()] == [
        "rate_limited"]
    assert "Too many attempts" in limited.content.decode()
    assert sign_in(browser("198.51.100.2"), "alice", "a-long-test-passphrase").status_code == 302


@pytest.mark.rate_limits
def test_failed_sign_ins_are_limited_per_username(alice, bob, settings):
    settings.TRIBUNE_RATE_LIMITS = True
    right = "a-long-test-passphrase"  # the make_account fixture's
    for n in range(25):
        assert sign_in(browser(f"192.0.2.{n}"), "alice", "guess").status_code == 422
    # Now even the right password waits, from anywhere; other people are unaffected.
    limited = sign_in(browser("192.0.2.200"), "ALICE", right)
    assert limited.status_code == 429
    assert "Too many attempts" in limited.content.decode()
    client = browser("192.0.2.200")
    assert sign_in(client, "bob", right).status_code == 302
    assert signed_in_username(client) == "bob"


@pytest.mark.rate_limits
def test_right_passwords_cost_nothing(alice, settings):
    settings.TRIBUNE_RATE_LIMITS = True
    for n in range(30):
        assert sign_in(browser(f"192.0.2.{n}"), "alice",
                       "a-long-test-passphrase").status_code == 302


# Settings.


def test_settings_need_a_sign_in(db):
    for path in ("/settings", "/settings/profile", "/settings/preferences",
                 "/settings/account", "/settings/invites"):
        response = browser().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/auth/sign_in?next=")


def test_profile_settings_are_saved(alice, api_as):
    client = browser()
    client.force_login(alice.user)
    response = client.post("/settings/profile", {
        "display_name": "Alice Liddell", "note": "Curiouser and curiouser #wonder",
        "locked": "on", "bot": "on"})
    assert response.status_code == 303
    assert response["Location"] == "/settings/profile"
    page = client.get("/settings/profile")
    assert "Your profile has been saved." in page.content.decode()
    me = api_as(alice).get("/api/v1/accounts/verify_credentials").json()
    assert me["display_name"] == "Alice Liddell"
    assert me["source"]["note"] == "Curiouser and curiouser #wonder"
    assert "/tags/wonder" in me["note"]
    assert me["locked"] is True and me["bot"] is True
    # Unchecked boxes turn the flags off again.
    client.post("/settings/profile", {"display_name": "Alice", "note": ""})
    me = api_as(alice).get("/api/v1/accounts/verify_credentials").json()
    assert (me["locked"], me["bot"], me["note"]) == (False, False, "")


def test_profile_settings_errors(alice):
    client = browser()
    client.force_login(alice.user)
    response = client.post("/settings/profile", {"display_name": "x" * 31, "note": "y" * 501})
    assert response.status_code == 422
    assert field_errors(response) == {"display_name": ["max_length"], "note": ["max_length"]}
    alice.refresh_from_db()
    assert alice.display_name == "Alice"


def test_preferences_are_saved(alice, api_as):
    client = browser()
    client.force_login(alice.user)
    response = client.post("/settings/preferences", {
        "default_visibility": "private", "default_language": "de", "locale": ""})
    assert response.status_code == 303
    me = api_as(alice).get("/api/v1/accounts/verify_credentials").json()
    assert me["source"]["privacy"] == "private"
    assert me["source"]["language"] == "de"
    preferences = api_as(alice).get("/api/v1/preferences").json()
    assert preferences["posting:default:visibility"] == "private"
    assert preferences["posting:default:language"] == "de"
    # Direct is not a default (as in Mastodon), and languages come from the list.
    bad = client.post("/settings/preferences", {
        "default_visibility": "direct", "default_language": "zz-top", "locale": "xx"})
    assert bad.status_code == 422
    assert field_errors(bad) == {"default_visibility": ["invalid_choice"],
                                 "default_language": ["invalid_choice"],
                                 "locale": ["invalid_choice"]}


def test_interface_language_beats_the_browser(alice):
    client = browser(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(alice.user)
    assert client.get("/settings/preferences")["Content-Language"] == "en"
    response = client.post("/settings/preferences", {
        "default_visibility": "public", "default_language": "", "locale": "fr"})
    assert response.status_code == 303
    alice.refresh_from_db()
    assert alice.locale == "fr"
    page = client.get("/settings/preferences")
    assert page["Content-Language"] == "fr"
    assert '<html lang="fr">' in page.content.decode()
    # "Follow the browser" gives the choice back to Accept-Language.
    client.post("/settings/preferences", {
        "default_visibility": "public", "default_language": "", "locale": ""})
    assert client.get("/settings/preferences")["Content-Language"] == "en"


def test_a_password_over_128_characters_is_refused_in_english_and_french(alice):
    client = browser()
    assert sign_in(client, "alice", "a-long-test-passphrase").status_code == 302
    too_long = "p" * 129
    for language, message in [
        ("en", "This password is too long. It must contain at most 128 characters."),
        ("fr", "Ce mot de passe est trop long. Il doit contenir au maximum 128 caractères."),
    ]:
        response = client.post("/settings/account", {
            "form": "password", "password-old_password": "a-long-test-passphrase",
            "password-new_password1": too_long, "password-new_password2": too_long},
            HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 422
        form = response.context["password_form"]
        assert form.has_error("new_password2", "password_too_long")
        assert form.errors["new_password2"] == [message]
    alice.user.refresh_from_db()
    assert alice.user.check_password("a-long-test-passphrase")
    # 128 characters are allowed.
    response = client.post("/settings/account", {
        "form": "password", "password-old_password": "a-long-test-passphrase",
        "password-new_password1": "p" * 128, "password-new_password2": "p" * 128})
    assert response.status_code == 303


def test_password_change_keeps_the_session_and_the_new_password_signs_in(alice):
    old = "a-long-test-passphrase"
    new = "a brand new passphrase"
    client = browser()
    assert sign_in(client, "alice", old).status_code == 302
    wrong = client.post("/settings/account", {
        "form": "password", "password-old_password": "not it",
        "password-new_password1": new, "password-new_password2": new})
    assert wrong.status_code == 422
    assert wrong.context["password_form"].has_error("old_password", "password_incorrect")
    mismatch = client.post("/settings/account", {
        "form": "password", "password-old_password": old,
        "password-new_password1": new, "password-new_password2": new + "!"})
    assert mismatch.context["password_form"].has_error("new_password2", "password_mismatch")
    response = client.post("/settings/account", {
        "form": "password", "password-old_password": old,
        "password-new_password1": new, "password-new_password2": new})
    assert response.status_code == 303
    page = client.get("/settings/account")
    assert page.status_code == 200  # still signed in
    assert "Your password has been changed." in page.content.decode()
    assert sign_in(browser(), "alice", old).status_code == 422
    fresh = browser()
    assert sign_in(fresh, "alice", new).status_code == 302
    assert signed_in_username(fresh) == "alice"


def test_email_change_needs_the_current_password(alice, bob):
    client = browser()
    client.force_login(alice.user)
    wrong = client.post("/settings/account", {
        "form": "email", "email-email": "alice@new.example", "email-current_password": "no"})
    assert wrong.status_code == 422
    assert wrong.context["email_form"].has_error("current_password", "password_incorrect")
    taken = client.post("/settings/account", {
        "form": "email", "email-email": "BOB@example.test",
        "email-current_password": "a-long-test-passphrase"})
    assert taken.context["email_form"].has_error("email", "taken")
    response = client.post("/settings/account", {
        "form": "email", "email-email": "alice@new.example",
        "email-current_password": "a-long-test-passphrase"})
    assert response.status_code == 303
    # The new address counts once confirmed (tests/web/test_security_web.py).
    assert user("alice").email == "alice@example.test"


def test_staff_make_invites_to_share(make_account, settings):
    from tribune.accounts.models import Invite

    member = browser()
    member.force_login(make_account("member").user)
    assert member.get("/settings/invites").status_code == 403
    assert member.post("/settings/invites", {"max_uses": "5"}).status_code == 403
    assert 'href="/settings/invites"' not in member.get("/settings/profile").content.decode()

    root = make_account("root", admin=True)
    staff = browser()
    staff.force_login(root.user)
    before = timezone.now()
    response = staff.post("/settings/invites", {"max_uses": "5", "expires_in": "86400"})
    after = timezone.now()
    assert response.status_code == 303
    invite = Invite.objects.get()
    assert (invite.created_by, invite.max_uses, invite.uses) == (root, 5, 0)
    assert before + timedelta(days=1) <= invite.expires_at <= after + timedelta(days=1)
    page = staff.get("/settings/invites").content.decode()
    assert f"{settings.TRIBUNE_BASE_URL}/invite/{invite.code}" in page
    unlimited = staff.post("/settings/invites", {"max_uses": "", "expires_in": ""})
    assert unlimited.status_code == 303
    newest = Invite.objects.order_by("-id").first()
    assert (newest.max_uses, newest.expires_at) == (None, None)
