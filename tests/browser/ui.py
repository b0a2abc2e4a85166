"""What a person does in the browser, in their language: sign up or in, publish,
find a post, wait for it to arrive; and the checks every page visited gets.

Controls are found by role and accessible name, so the tests read like the page and
fail when a control loses its label. Form fields are found by their ``name`` and their
label is then checked "softly": a wrong or untranslated label is recorded and the
journey goes on, so one run reports every problem (``Checks.done``)."""

from __future__ import annotations

import re
import secrets
import subprocess
import time
from dataclasses import dataclass, field

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import TRIBUNE, Server

PASSWORD = "a-long-browser-passphrase"

# The French interface's words for what the journeys use (the catalogue in
# src/tribune/locale/fr/). Text not listed here is found some other way.
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
    "It is spam": "C'est du spam",
    "Report received": "Signalement reçu",
}
# Controls every signed-in page shows in its header.
SIGNED_IN_WORDS = ("Home", "Notifications", "Follow requests", "Sign out")
# English names no French page may show as a button or link (a missing translation).
ENGLISH_ONLY = ("Home", "Publish", "Reply", "Boost", "Sign out", "Sign in", "Sign up",
                "Accept", "Request to follow", "Follow requests", "Load more",
                "Create an account")


@dataclass(frozen=True)
class Lang:
    """The interface language a journey runs in."""

    code: str

    def t(self, english: str) -> str:
        """The interface's text for ``english`` in this language."""
        return english if self.code == "en" else FRENCH[english]

    def knows(self, english: str) -> bool:
        return self.code == "en" or english in FRENCH

    def name(self, english: str) -> re.Pattern:
        """An accessible name that is the whole of ``english``'s translation, or it
        followed by a count, as on the status buttons ("Favourite 3")."""
        return re.compile(rf"^\s*{re.escape(self.t(english))}(\s+[\d\s,.\u202f\u00a0]*)?$")


EN = Lang("en")
FR = Lang("fr")


def unique(prefix: str) -> str:
    """A username or word that no other test uses on the shared server."""
    return f"{prefix}{secrets.token_hex(3)}"


def make_users(server: Server, *usernames: str) -> None:
    """Create local accounts with `tribune createuser`, side by side."""
    running = [subprocess.Popen(
        [*TRIBUNE, "createuser", name, "--email", f"{name}@example.test",
         "--password", PASSWORD], env=server.env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for name in usernames]
    for name, process in zip(usernames, running, strict=True):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"createuser {name}: {out}{err}"


@dataclass
class Checks:
    """What one test found wrong on the pages it visited; ``done()`` fails on it."""

    lang: Lang
    axe: object
    screenshots: object
    pages: object
    problems: list[str] = field(default_factory=list)

    def soft(self, assertion, what: str) -> None:
        """Run a Playwright ``expect`` (a callable); record its failure, go on."""
        try:
            assertion()
        except AssertionError as failure:
            lines = str(failure).splitlines()
            details = [line.strip() for line in lines[1:]
                       if line.strip().startswith(("Expected", "Actual", "Received"))]
            self.problems.append(" ".join([f"{what}: {lines[0]}", *details]))

    def visit(self, page: Page, name: str, *, signed_in: bool = True,
              axe: bool = True) -> None:
        """Check the page a journey reached: language, axe-core, a screenshot."""
        where = f"{name} ({page.url})"
        html = page.locator("html")
        self.soft(lambda: expect(html).to_have_attribute("lang", self.lang.code, timeout=1000),
                  f"{where}: <html lang>")
        if signed_in:
            banner = page.get_by_role("banner")
            for word in SIGNED_IN_WORDS:
                # Whole words first: a link may go on with a count ("Notifications 2
                # unread").
                pattern = re.compile(rf"^{re.escape(self.lang.t(word))}(\s|$)")
                control = banner.get_by_role("link", name=pattern).or_(
                    banner.get_by_role("button", name=pattern))
                self.soft(lambda control=control: expect(control).to_be_visible(timeout=1000),
                          f"{where}: header shows {self.lang.t(word)!r}")
        if self.lang.code != "en":
            for word in ENGLISH_ONLY:
                for role in ("button", "link"):
                    self.soft(lambda role=role, word=word: expect(
                        page.get_by_role(role, name=EN.name(word))).to_have_count(0, timeout=500),
                        f"{where}: untranslated {role} {word!r}")
        if axe:
            self.axe.check(page, name)
        self.screenshots.take(page, name)

    def done(self) -> None:
        problems = [*self.problems, *self.axe.findings,
                    *(f"CSP: {text}" for text in self.pages.csp_violations)]
        assert not problems, "\n".join(problems)

    def person(self, *, javascript: bool = True) -> Person:
        """Someone new in front of their own browser (a fresh context)."""
        return Person(self.pages.new(lang=self.lang.code, javascript=javascript),
                      self.lang, self)


@dataclass
class Person:
    page: Page
    lang: Lang
    checks: Checks
    username: str = ""

    def t(self, english: str) -> str:
        return self.lang.t(english)

    def field(self, name: str, label: str | None = None, *,
              scope: Locator | None = None) -> Locator:
        """The form field called ``name``; its label, when this language's is known,
        must start with ``label`` (checked softly)."""
        found = (scope or self.page.locator("main")).locator(f"[name={name}]")
        if label and self.lang.knows(label):
            expected = re.compile(rf"^{re.escape(self.t(label))}(\s|$)")
            self.checks.soft(lambda: expect(found).to_have_accessible_name(
                expected, timeout=1000), f"{self.page.url}: field {name!r} is labelled {self.t(label)!r}")
        return found

    def button(self, english: str, *, scope: Locator | None = None) -> Locator:
        return (scope or self.page.get_by_role("main")).get_by_role(
            "button", name=self.lang.name(english))

    def submit(self, control: Locator) -> None:
        """Press a button that posts its form, and wait for the page that answers
        (the next step must not act on the page being left)."""
        with self.page.expect_navigation():
            control.click()

    def signed_in(self) -> None:
        expect(self.page.get_by_role("banner").get_by_role(
            "button", name=self.t("Sign out"))).to_be_visible()

    def sign_up(self, username: str, *, visit: bool = False) -> None:
        """Join through the sign-up page (open registrations sign one in at once)."""
        self.page.goto("/auth/sign_up")
        self.fill_sign_up(username, visit=visit)

    def fill_sign_up(self, username: str, *, visit: bool = False) -> None:
        expect(self.page.get_by_role("heading", level=1)).to_have_text(
            self.t("Create an account"))
        if visit:
            self.checks.visit(self.page, "sign-up", signed_in=False)
        self.field("username", "Username").fill(username)
        self.field("email").fill(f"{username}@example.test")
        self.field("password", "Password").fill(PASSWORD)
        self.field("password_confirmation").fill(PASSWORD)
        self.field("agreement").check()
        self.submit(self.button("Sign up"))
        self.signed_in()
        self.username = username

    def sign_in(self, username: str, *, visit: bool = False) -> None:
        self.page.goto("/auth/sign_in")
        self.fill_sign_in(username, visit=visit)
        self.signed_in()

    def fill_sign_in(self, username: str, *, visit: bool = False) -> None:
        """Fill in and send the sign-in form the page shows."""
        expect(self.page.get_by_role("heading", level=1)).to_have_text(self.t("Sign in"))
        if visit:
            self.checks.visit(self.page, "sign-in", signed_in=False)
        self.field("username", "Username").fill(username)
        self.field("password", "Password").fill(PASSWORD)
        self.submit(self.button("Sign in"))
        self.username = username

    def publish(self, text: str, *, content_warning: str = "") -> None:
        """Write a post in the page's compose box and publish it."""
        compose = self.page.locator("form#compose")
        if content_warning:
            self.field("spoiler_text", "Content warning", scope=compose).fill(content_warning)
        self.field("text", "What's on your mind?", scope=compose).fill(text)
        self.submit(self.button("Publish", scope=compose))
        expect(self.page).not_to_have_url(re.compile(r"/statuses$"))  # the error page

    def post(self, text: str) -> Locator:
        """The (outermost) post on the page that contains ``text``."""
        return self.page.locator("article.status").filter(has_text=text).first

    def wait_for(self, locator: Locator, *, timeout: float = 20) -> None:
        """Reload until ``locator`` shows: posts reach home timelines and
        notifications through the task workers, a moment after they are written."""
        deadline = time.monotonic() + timeout
        while not locator.count() and time.monotonic() < deadline:
            time.sleep(0.25)
            self.page.reload()
        expect(locator.first).to_be_visible()


def reveal(status: Locator) -> None:
    """Open a post's content warning."""
    status.locator("details.content-warning > summary").click()
    expect(status.locator("details.content-warning")).to_have_attribute("open", "")
