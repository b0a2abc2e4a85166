"""Make docs/images/home-timeline.png, the README's picture of the web interface: a
demo person's home timeline, in Debian's Chromium, from `tribune demo` on a free
loopback port with a throw-away data directory.

    uv run python -m tests.browser.readme_image
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT
from tests.e2e.conftest import free_port

OUTPUT = ROOT / "docs" / "images" / "home-timeline.png"
VIEWPORT = {"width": 1100, "height": 1350}
POSTS_SHOWN = 6


def _demo_login(log: Path) -> tuple[str, str]:
    """The first demo login that is not the administrator, and the password."""
    text = log.read_text()
    password = re.search(r"password for all: ([^)]+)\)", text).group(1)
    names = re.search(r"Demo logins[^\n]*\n((?:  .*\n?)+)", text).group(1)
    person = next(n.strip() for n in names.replace("\n", " ").split(",")
                  if "(admin)" not in n)
    return person, password


def main() -> int:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        log = Path(data_dir) / "demo.log"
        env = {**os.environ, "TRIBUNE_DATA_DIR": data_dir, "PYTHONUNBUFFERED": "1"}
        env.pop("TRIBUNE_DOMAIN", None)
        with log.open("w") as out:
            demo = subprocess.Popen([sys.executable, "-m", "tribune.cli", "demo", "--port",
                                     str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if requests.get(f"{base_url}/api/v1/instance", timeout=5).ok:
                        break
                except requests.RequestException:
                    pass
                if demo.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("tribune demo did not start:\n" + log.read_text())
                time.sleep(0.3)
            username, password = _demo_login(log)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                     args=CHROMIUM_ARGS)
                page = browser.new_context(base_url=base_url, locale="en-GB",
                                           viewport=VIEWPORT).new_page()
                page.goto("/auth/sign_in")
                page.locator("[name=username]").fill(username)
                page.locator("[name=password]").fill(password)
                page.get_by_role("main").get_by_role("button", name="Sign in").click()
                expect(page.get_by_role("heading", level=1)).to_have_text("Home")
                # The demo's posts reach home timelines through the task workers.
                posts = page.locator("#feed > article.status")
                for _ in range(120):
                    if posts.count() >= POSTS_SHOWN:
                        break
                    time.sleep(0.5)
                    page.reload()
                page.wait_for_load_state("networkidle")
                page.wait_for_function(
                    "Array.from(document.images).every(i => i.complete && i.naturalWidth)")
                OUTPUT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(OUTPUT))
                browser.close()
        finally:
            demo.send_signal(signal.SIGTERM)
            demo.wait(timeout=30)
    print(f"Wrote {OUTPUT.relative_to(ROOT)} ({username}'s home timeline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
