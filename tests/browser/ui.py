"""What a person does in the browser, in their language: sign in, publish, find a
post, wait for it to arrive. Locators go by role and accessible name, so the tests
read like the page and check that its controls are labelled."""

from __future__ import annotations

import re
import secrets
import subprocess
import time
from dataclasses import dataclass

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import TRIBUNE, Server

PASSWORD = "a-long-browser-passphrase"

# The French interface's words for the controls the journeys use (the catalogue in
# src/tribune/locale/fr/). A test that needs a word not listed here finds the
# control by its form field name instead.
FRENCH = {
    "Home": "Accueil",
    "Publish": "Publier",
    "Follow": "Suivre",
    "Request to follow": "Demander à suivre",
    "Accept": "Accepter",
    "Reply": "Répondre",
    "Favourite": "Favori",
    "Boost": "Partager",
    "Content warning": "Avertissement de contenu",
    "Sign in": "Se connecter",
    "Sign up": "S'inscrire",
    "Create an account": "Créer un compte",
    "favourited your post": "a ajouté votre message à ses favoris",
    "followed you": "vous suit",
    "Follow requests": "Demandes d'abonnement",
    "Load more": "Charger plus",
    "Username": "Nom d'utilisateur",
    "Password": "Mot de passe",
    "Notifications": "Notifications",
    "Sign out": "Se déconnecter",
}


@dataclass(frozen=True)
class Lang:
    """The interface language a journey runs in."""

    code: str

    def t(self, english: str) -> str:
        """The interface's text for ``english`` in this language."""
        return english if self.code == "en" else FRENCH[english]

    def knows(self, english: str) -> bool:
        return self.code == "en" or english in FRENCH

    def field(self, scope: Page | Locator, label: str, name: str) -> Locator:
        """A form field by its label when this language's label is known, else by its
        ``name`` (the English run checks the label exists either way)."""
        if self.knows(label):
            return scope.get_by_label(self.t(label), exact=False).and_(
                scope.locator(f"[name={name}]"))
        return scope.locator(f"[name={name}]")

    def exact(self, english: str) -> re.Pattern:
        """An accessible name that starts with the whole word(s) ``english``: the
        status buttons end with their counts ("Favourite 3")."""
        return re.compile(rf"^\s*{re.escape(self.t(english))}(\s+[\d,.\s\u202f]*)?$")


EN = Lang("en")
FR = Lang("fr")


def unique(prefix: str) -> str:
    """A username or word no other test uses on the shared server."""
    return f"{prefix}{secrets.token_hex(3)}"


def make_users(server: Server, *usernames: str) -> None:
    """Create local accounts with the `tribune createuser` command, side by side."""
    running = [subprocess.Popen(
        [*TRIBUNE, "createuser", name, "--email", f"{name}@example.test",
         "--password", PASSWORD], env=server.env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for name in usernames]
    for name, process in zip(usernames, running, strict=True):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"createuser {name}: {out}{err}"


def sign_in(page: Page, lang: Lang, username: str, *, check=None) -> None:
    """Sign in on the sign-in page; ``check(page, name)`` (axe) runs on the form."""
    page.goto("/auth/sign_in")
    expect(page.get_by_role("heading", name=lang.t("Sign in"))).to_be_visible()
    if check:
        check(page, "sign-in")
    page.get_by_label(lang.t("Username"), exact=True).fill(username)
    page.get_by_label(lang.t("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=lang.t("Sign in")).click()
    expect(page.get_by_role("button", name=lang.t("Sign out"))).to_be_visible()


def publish(page: Page, lang: Lang, text: str, *, content_warning: str = "") -> None:
    """Write a post in the page's compose box and publish it."""
    compose = page.locator("form#compose")
    if content_warning:
        lang.field(compose, "Content warning", "spoiler_text").fill(content_warning)
    lang.field(compose, "What's on your mind?", "text").fill(text)
    compose.get_by_role("button", name=lang.t("Publish")).click()
    expect(compose.locator("[name=text]")).not_to_have_value(text)


def post(page: Page, text: str) -> Locator:
    """The (outermost) post on the page that contains ``text``."""
    return page.locator("article.status").filter(has_text=text).first


def reveal(status: Locator) -> None:
    """Open a post's content warning."""
    status.locator("details.content-warning > summary").click()
    expect(status.locator("details.content-warning")).to_have_attribute("open", "")


def status_button(status: Locator, lang: Lang, english: str) -> Locator:
    return status.get_by_role("button", name=lang.exact(english))


def wait_for(page: Page, locator: Locator, *, timeout: float = 20) -> None:
    """Reload ``page`` until ``locator`` shows: posts reach home timelines and
    notifications through the task workers, a moment after they are written."""
    deadline = time.monotonic() + timeout
    while not locator.count():
        if time.monotonic() > deadline:
            break
        time.sleep(0.3)
        page.reload()
    expect(locator.first).to_be_visible()


# Controls every signed-in page shows; the French pages must not show their English
# names (a missing translation).
SIGNED_IN_WORDS = ("Home", "Notifications", "Follow requests", "Sign out")
ENGLISH_ONLY = ("Home", "Publish", "Reply", "Boost", "Sign out", "Sign in", "Accept",
                "Request to follow", "Follow requests", "Load more")


class Visit:
    """Checks each page a journey reaches: its language, axe-core, a screenshot.
    ``done()`` at the end of the test fails on what axe or the CSP reported."""

    def __init__(self, lang: Lang, axe, screenshots, pages):
        self.lang, self.axe, self.screenshots, self.pages = lang, axe, screenshots, pages

    def __call__(self, page: Page, name: str, *, signed_in: bool = True) -> None:
        expect(page.locator("html")).to_have_attribute("lang", self.lang.code)
        if signed_in:
            banner = page.get_by_role("banner")
            for word in SIGNED_IN_WORDS:
                expect(banner.get_by_text(self.lang.t(word), exact=True)).to_be_visible()
        if self.lang.code != "en":
            for word in ENGLISH_ONLY:
                for role in ("button", "link"):
                    expect(page.get_by_role(role, name=EN.exact(word))).to_have_count(0)
        self.axe.check(page, name)
        self.screenshots.take(page, name)

    def done(self) -> None:
        self.axe.assert_clean()
        assert not self.pages.csp_violations, self.pages.csp_violations
