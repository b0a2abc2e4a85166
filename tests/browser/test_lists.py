"""Lists in a real browser against the real server: make a list, put a followed
account in it, and read its timeline (the members' posts, not one's own).
English only: the French words of lists come with the next catalogue update."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.ui import EN, unique


def test_create_a_list_and_read_its_timeline(checks):
    assert checks.lang == EN
    ann = checks.person()
    ann.sign_up(unique("ann"))
    ann.page.goto("/")
    ann.publish("Kites over the harbour this morning")

    ben = checks.person()
    ben.sign_up(unique("ben"))
    ben.page.goto("/")
    ben.publish("My own note, not for the list")
    ben.page.goto(f"/@{ann.username}")
    ben.submit(ben.button("Follow"))

    ben.page.goto("/lists")
    checks.visit(ben.page, "lists")
    ben.field("list-title", "Title").fill("Harbour people")
    ben.submit(ben.button("Create list"))
    expect(ben.page.get_by_role("heading", level=1)).to_have_text("Harbour people")
    ben.submit(ben.button(f"Add @{ann.username}"))
    expect(ben.button(f"Remove @{ann.username}")).to_be_visible()
    expect(ben.post("Kites over the harbour this morning")).to_be_visible()
    expect(
        ben.page.locator("article.status").filter(has_text="My own note")
    ).to_have_count(0)
    checks.visit(ben.page, "list-timeline")
    checks.done()
