"""Account security in the browser: turning on two-factor authentication and
signing in with a TOTP code (computed here by pyotp from the secret the page
shows), and resetting a forgotten password through the mail the real server sent
to the SMTP server on loopback (tests/smtp.py)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pyotp
from playwright.sync_api import expect

from tests.browser.ui import PASSWORD, make_users, unique

NEW_PASSWORD = "a-brand-new-passphrase"


def test_enable_two_factor_and_sign_in_with_a_code(server, checks):
    username = unique("tess")
    make_users(server, username)
    person = checks.person()
    person.sign_in(username)
    page = person.page
    page.goto("/settings/two_factor")
    person.submit(person.button("Set up an authenticator app"))
    expect(page.locator("img.qr-code")).to_be_visible()
    checks.visit(page, "two-factor set-up")
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().strip())
    spent = int(time.time() // 30)  # the period of the code that turns it on
    person.field("code", "Code from the app").fill(totp.at(spent * 30))
    person.submit(person.button("Turn on"))
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    person.submit(page.get_by_role("banner").get_by_role("button", name="Sign out"))

    page.goto("/auth/sign_in")
    person.fill_sign_in(username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    checks.visit(page, "second step", signed_in=False)
    # A code of a later period than the one spent turning it on: the next one while
    # that period lasts, else the current one (the server may have taken the first
    # code as late, and then counts from the period after it: django-otp's drift).
    later = max(int(time.time() // 30), spent + 1)
    person.field("code", "Two-factor code").fill(totp.at(later * 30))
    person.submit(person.button("Sign in"))
    person.signed_in()
    checks.done()


def _wait_for_link(mailbox, address: str, path: str, timeout: float = 30) -> str:
    """The link the server's task workers mailed to ``address``, once it arrives."""
    deadline = time.monotonic() + timeout
    while not mailbox.to(address) and time.monotonic() < deadline:
        time.sleep(0.25)
    return mailbox.link(address, path)


def test_reset_a_forgotten_password_through_the_mail(server, checks, smtp_server):
    username = unique("rhea")
    make_users(server, username)
    person = checks.person()
    page = person.page
    page.goto("/auth/sign_in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    checks.visit(page, "password reset request", signed_in=False)
    person.field("email", "Email address").fill(f"{username}@example.test")
    person.submit(person.button("Send the link"))
    expect(page.locator(".messages")).to_contain_text("on its way")

    link = _wait_for_link(smtp_server, f"{username}@example.test", "/auth/password/reset/")
    parts = urlsplit(link)
    page.goto(parts.path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    checks.visit(page, "new password", signed_in=False)
    person.field("new_password1").fill(NEW_PASSWORD)
    person.field("new_password2").fill(NEW_PASSWORD)
    person.submit(person.button("Change password"))
    expect(page.locator(".messages")).to_contain_text("Your password has been changed")

    person.field("username", "Username").fill(username)
    person.field("password", "Password").fill(PASSWORD)
    person.submit(person.button("Sign in"))
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_have_count(0)
    person.field("username", "Username").fill(username)
    person.field("password", "Password").fill(NEW_PASSWORD)
    person.submit(person.button("Sign in"))
    person.signed_in()
    checks.done()
