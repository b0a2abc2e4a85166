"""Without JavaScript every action is a plain form post answered with a redirect
back, so posting, favouriting and replying still work."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.ui import make_users, unique


def test_post_favourite_and_reply_without_javascript(server, checks):
    username = unique("gus")
    make_users(server, username)
    gus = checks.person(javascript=False)
    gus.sign_in(username)
    page = gus.page
    checks.visit(page, "home", axe=False)  # axe-core itself needs JavaScript

    text = unique("Plain HTML still works ")
    gus.publish(text)
    expect(page).to_have_url(f"{server.base_url}/")
    page.goto(f"/@{username}")
    status = gus.post(text)
    favourite = gus.button("Favourite", scope=status)
    expect(favourite).to_have_attribute("aria-pressed", "false")
    gus.submit(favourite)  # a whole page load, not an htmx swap
    expect(page).to_have_url(f"{server.base_url}/@{username}")
    expect(favourite).to_have_attribute("aria-pressed", "true")
    expect(favourite).to_contain_text("1")
    checks.visit(page, "profile-favourited", axe=False)

    status.get_by_role("link", name=gus.lang.name("Reply")).click()
    page.wait_for_url("**#compose")
    reply = unique("And a reply ")
    gus.publish(reply)
    page.wait_for_url(f"**/@{username}/*")
    expect(gus.post(reply)).to_be_visible()
    expect(gus.post(text)).to_be_visible()
    checks.visit(page, "thread-with-reply", axe=False)

    page.goto("/favourites")
    expect(gus.post(text)).to_be_visible()
    checks.done()
