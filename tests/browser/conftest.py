"""Browser fixtures: the real server (`tribune serve` on a loopback port), Debian's
Chromium driven by Playwright, axe-core for accessibility checks, and full-page
screenshots under ``test-artifacts/screenshots/``.

The server and the browser are package-scoped: one of each for all browser tests,
torn down before the rest of the suite runs. Playwright's sync API keeps an asyncio
loop running in its thread while it is alive, and Django refuses ORM calls from a
thread with a running loop (``SynchronousOnlyOperation``), so neither may outlive this
package. For the same reason these tests never touch the ORM: they make data through
the `tribune` command, the API and the pages, as people do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, start_server, stop_server
from tests.mastodon_schema import require_services

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = Path(os.environ.get("TRIBUNE_CHROMIUM", "/usr/bin/chromium"))
# Headless flags for Debian's Chromium: no sandbox (CI runs as root), and nothing
# that phones home or updates itself while the tests run.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
AXE_VERSION = "4"
# The URL the pages load axe from; see ``Pages._serve_axe``.
AXE_URL_PATH = "/__tests__/axe.min.js"


def unavailable(reason: str) -> None:
    """Skip the browser tests, or fail under TRIBUNE_REQUIRE_SERVICES=1 (CI)."""
    if require_services():
        pytest.fail(f"{reason} (TRIBUNE_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tribune-tests"


@pytest.fixture(scope="package")
def axe_script() -> Path:
    """axe-core's ``axe.min.js``, fetched once with ``npm pack`` into a cache outside
    the work tree and reused by later sessions (so they also run offline)."""
    target = _cache_dir() / f"axe-core-{AXE_VERSION}" / "axe.min.js"
    if target.exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is not installed, so axe-core cannot be fetched")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        try:
            packed = subprocess.run(
                [npm, "pack", f"axe-core@{AXE_VERSION}", "--json", "--pack-destination", tmp],
                capture_output=True, text=True, timeout=180, check=True, cwd=tmp)
        except (subprocess.SubprocessError, OSError) as exc:
            unavailable(f"npm pack axe-core@{AXE_VERSION} failed: {exc}")
        tarball = Path(tmp) / json.loads(packed.stdout)[0]["filename"]
        with tarfile.open(tarball) as archive:
            source = archive.extractfile("package/axe.min.js")
            assert source is not None
            staged = Path(tmp) / "axe.min.js"
            staged.write_bytes(source.read())
        staged.replace(target)  # atomic, should two sessions fetch at once
    return target


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for the package."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (uv sync --group dev)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def server(tmp_path_factory, browser, axe_script, smtp_server) -> Iterator[Server]:
    """The real server with its task workers, sending its mail over SMTP to
    ``smtp_server`` (tests/smtp.py). Rate limits are off: every journey signs up
    and signs in from the same loopback address, far faster than people do."""
    data_dir = tmp_path_factory.mktemp("browser-server")
    process, running, log = start_server(data_dir, TRIBUNE_RATE_LIMITS="off",
                                         **smtp_server.environ())
    yield running
    text = stop_server(process, log, data_dir)
    # A page that failed with a 500 leaves its traceback in the log.
    assert "Traceback" not in text and "database is locked" not in text, text[-5000:]


@dataclass
class Axe:
    """Runs axe-core on pages and keeps the serious and critical violations."""

    script: Path
    report: Path
    findings: list[str] = field(default_factory=list)

    def check(self, page, name: str) -> None:
        page.add_script_tag(url=AXE_URL_PATH)
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        for violation in result["violations"]:
            if violation["impact"] not in ("serious", "critical"):
                continue
            nodes = "; ".join(f"{' '.join(node['target'])}: {node['html'][:160]}"
                              for node in violation["nodes"][:5])
            self.findings.append(f"{name} ({page.url}): {violation['impact']} "
                                 f"{violation['id']} - {violation['help']} - {nodes}")


@dataclass
class Screenshots:
    """Full-page screenshots of one test, numbered in the order they were taken."""

    folder: Path
    taken: int = 0

    def take(self, page, name: str) -> Path:
        self.taken += 1
        path = self.folder / f"{self.taken:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


class Pages:
    """Browser contexts (one per person) for one test, closed when it ends.

    ``pages.new(lang="fr", javascript=False)`` opens a page on the server. The
    site's Content-Security-Policy (``script-src 'self'``) would block an inline
    copy of axe-core, so rather than turning the policy off with ``bypass_csp`` —
    which would hide the very violations it reports — each context answers one
    same-origin URL with axe's file; the page loads it as a script of its own site,
    and the real policy stays on. Anything the policy refuses is collected in
    ``csp_violations``.
    """

    def __init__(self, browser, server: Server, axe: Axe):
        self.browser = browser
        self.server = server
        self.axe = axe
        self.contexts: list = []
        self.csp_violations: list[str] = []

    def new(self, *, lang: str = "en", javascript: bool = True):
        locale = {"en": "en-GB", "fr": "fr-FR"}[lang]
        context = self.browser.new_context(
            base_url=self.server.base_url, locale=locale, java_script_enabled=javascript,
            extra_http_headers={"Accept-Language": f"{locale},{lang};q=0.9"},
            viewport={"width": 1100, "height": 900})
        context.set_default_timeout(15_000)
        context.route(f"{self.server.base_url}{AXE_URL_PATH}", self._serve_axe)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", self._console)
        return page

    def _serve_axe(self, route) -> None:
        route.fulfill(path=str(self.axe.script), content_type="text/javascript")

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def _test_folder(request) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")


@pytest.fixture
def axe(request, axe_script) -> Axe:
    return Axe(script=axe_script, report=ARTIFACTS / "axe" / f"{_test_folder(request)}.txt")


@pytest.fixture
def pages(browser, server, axe) -> Iterator[Pages]:
    opened = Pages(browser, server, axe)
    yield opened
    opened.close()
    if axe.findings:
        axe.report.parent.mkdir(parents=True, exist_ok=True)
        axe.report.write_text("\n".join(axe.findings) + "\n")


@pytest.fixture
def screenshots(request) -> Screenshots:
    folder = SCREENSHOTS / _test_folder(request)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Screenshots(folder)


@pytest.fixture
def checks(request, axe, screenshots, pages):
    """The test's ``Checks`` (tests/browser/ui.py) in its ``lang`` parameter's
    language, English without one; ``checks.person()`` opens a browser context."""
    from tests.browser.ui import EN, Checks

    callspec = getattr(request.node, "callspec", None)
    lang = callspec.params.get("lang", EN) if callspec else EN
    return Checks(lang=lang, axe=axe, screenshots=screenshots, pages=pages)


@pytest.fixture(autouse=True)
def _expect_timeout(browser):
    from playwright.sync_api import expect

    # Posts reach other people's timelines through the task workers, a moment later.
    expect.set_options(timeout=15_000)
