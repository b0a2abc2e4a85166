"""Searching from the header and opening a result, in a real browser against the
real server. English only: the French words of the search page come with the
next catalogue update."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.ui import EN, unique


def test_search_and_open_a_result(checks):
    """Ann posts, types a word of her post (accented differently) into the
    header's search box, finds the post under Posts and opens its page."""
    assert checks.lang == EN
    ann = checks.person()
    ann.sign_up(unique("ann"))
    word = unique("Crème")
    ann.page.goto("/")
    ann.publish(f"A {word} brûlée for dessert")
    ann.wait_for(ann.post(word))

    banner = ann.page.get_by_role("banner")
    box = banner.get_by_role("searchbox", name="Search")
    box.fill(word.upper().replace("È", "E"))
    ann.submit(banner.get_by_role("button", name="Search"))
    expect(ann.page.get_by_role("heading", level=1)).to_have_text("Search")
    posts = ann.page.get_by_role("region", name="Posts")
    result = posts.locator("article.status").filter(has_text=word)
    expect(result).to_have_count(1)
    checks.visit(ann.page, "search-results")

    result.locator(".meta a").first.click()  # the post's date links its page
    ann.page.wait_for_url(re.compile(rf"/@{ann.username}/\d+$"))
    expect(ann.post(word)).to_be_visible()
    checks.visit(ann.page, "search-opened-result")
    checks.done()
