"""Keyboard use across in-place updates: after an action the same button keeps
focus; after "Load more" the first new post has it, not the top of the page."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.browser.ui import make_users, unique


def test_focus_survives_in_place_actions_and_load_more(server, checks):
    author, reader = unique("kay"), unique("lou")
    make_users(server, author, reader)
    token = server.cli("token", author).stdout.strip()
    for i in range(23):
        response = requests.post(f"{server.base_url}/api/v1/statuses", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"},
                                 data={"status": f"keyboard post {i} {author}"})
        assert response.status_code == 200, response.text
    lou = checks.person()
    lou.sign_in(reader)
    page = lou.page
    page.goto(f"/@{author}")
    newest = lou.post(f"keyboard post 22 {author}")
    favourite = lou.button("Favourite", scope=newest)
    favourite.focus()
    page.keyboard.press("Enter")
    # The new button bar keeps focus on the same (now pressed) button ...
    focused = newest.locator("button:focus")
    expect(focused).to_have_attribute("aria-pressed", "true")
    expect(focused).to_contain_text(lou.lang.name("Favourite"))
    # ... and Tab goes on to the next button of the same post, not the next post.
    page.keyboard.press("Tab")
    expect(newest.locator("button:focus")).to_contain_text(lou.lang.name("Bookmark"))

    more = page.get_by_role("link", name=lou.lang.name("Load more"))
    more.focus()
    page.keyboard.press("Enter")
    expect(lou.post(f"keyboard post 0 {author}")).to_be_visible()
    expect(page.locator("article:focus")).to_contain_text(f"keyboard post 2 {author}")
    checks.visit(page, "profile-after-load-more")
    checks.done()
