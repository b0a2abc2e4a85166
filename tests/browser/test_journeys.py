"""People using the web interface in a real browser against the real server, in
English and in French (the interface follows Accept-Language). Every page a journey
reaches is checked (language, axe-core) and saved as a full-page screenshot."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.ui import EN, FR, reveal, unique

LANGS = pytest.mark.parametrize("lang", [EN, FR], ids=["en", "fr"])


@LANGS
def test_sign_up_publish_and_see_the_post_on_the_profile(checks, lang):
    """A visitor joins from the landing page, posts with a hashtag and a content
    warning, finds the post on their profile and under the hashtag, then signs out
    and in again."""
    eve = checks.person()
    page = eve.page
    page.goto("/")
    checks.visit(page, "landing", signed_in=False)
    page.get_by_role("main").get_by_role("link", name=eve.t("Create an account")).click()
    eve.fill_sign_up(unique("eve"), visit=True)
    expect(page.get_by_role("heading", level=1)).to_have_text(eve.t("Home"))
    checks.visit(page, "home-empty")

    tag, warning = unique("garden"), unique("Plot twist ")
    eve.publish(f"The tomatoes are ripe #{tag}", content_warning=warning)
    eve.wait_for(eve.post(warning))
    checks.visit(page, "home-with-post")

    page.goto(f"/@{eve.username}")
    status = eve.post(warning)
    expect(status).to_be_visible()
    content = status.get_by_text("The tomatoes are ripe")
    expect(content).to_be_hidden()
    reveal(status)
    expect(content).to_be_visible()
    checks.visit(page, "profile")

    status.get_by_role("link", name=f"#{tag}").click()
    page.wait_for_url(f"**/tags/{tag}")
    expect(eve.post(warning)).to_be_visible()
    checks.visit(page, "tag")

    banner = page.get_by_role("banner")
    eve.submit(banner.get_by_role("button", name=eve.t("Sign out")))
    banner.get_by_role("link", name=eve.t("Sign in")).click()
    eve.fill_sign_in(eve.username, visit=True)
    eve.signed_in()
    expect(page.get_by_role("heading", level=1)).to_have_text(eve.t("Home"))
    checks.done()


@LANGS
def test_follow_favourite_and_reply(checks, lang):
    """Ben follows Ann, sees her post (hashtag, content warning) in his home
    timeline, favourites it and replies; Ann sees both in her notifications and the
    reply in the thread."""
    ann, ben = checks.person(), checks.person()
    ann.sign_up(unique("ann"))
    ben.sign_up(unique("ben"))

    ben.page.goto(f"/@{ann.username}")
    ben.submit(ben.button("Follow"))
    expect(ben.button("Follow")).to_have_count(0)
    checks.visit(ben.page, "ben-follows-ann")

    tag, warning = unique("garden"), unique("Plot twist ")
    ann.page.goto("/")
    ann.publish(f"The tomatoes are ripe #{tag}", content_warning=warning)

    ben.page.goto("/")
    status = ben.post(warning)
    ben.wait_for(status)
    reveal(status)
    expect(status.get_by_role("link", name=f"#{tag}")).to_be_visible()
    favourite = ben.button("Favourite", scope=status)
    expect(favourite).to_have_attribute("aria-pressed", "false")
    favourite.click()
    expect(favourite).to_have_attribute("aria-pressed", "true")
    expect(favourite).to_have_accessible_name(ben.lang.name("Favourite"))
    expect(favourite).to_contain_text("1")
    checks.visit(ben.page, "ben-home")

    status.get_by_role("link", name=ben.lang.name("Reply")).click()
    ben.page.wait_for_url(f"**/@{ann.username}/*#compose")
    reply_text = unique("Save me a few ")
    expect(ben.field("text")).to_have_value(f"@{ann.username} ")
    ben.publish(f"@{ann.username} {reply_text}")
    expect(ben.post(reply_text)).to_be_visible()
    checks.visit(ben.page, "ben-thread")

    ann.page.goto("/notifications")
    notifications = ann.page.locator(".notification")
    favourited = notifications.filter(has_text=ann.t("favourited your post"))
    ann.wait_for(favourited)
    ann.wait_for(notifications.filter(has_text=reply_text))
    expect(favourited).to_contain_text(ben.username)
    expect(notifications.filter(has_text=ann.t("followed you"))).to_contain_text(ben.username)
    checks.visit(ann.page, "ann-notifications")

    ann.page.goto(f"/@{ann.username}")
    ann.post(warning).locator(".meta a").first.click()  # the post's date links its thread
    ann.page.wait_for_url(f"**/@{ann.username}/*")
    reveal(ann.post(warning))
    expect(ann.post(reply_text)).to_be_visible()
    checks.visit(ann.page, "ann-thread")
    checks.done()


@LANGS
def test_locked_account_accepts_a_follow_request(server, checks, lang):
    """Cleo locks her account in her settings; Dan asks to follow, Cleo accepts."""
    cleo, dan = checks.person(), checks.person()
    cleo.sign_up(unique("cleo"))
    dan.sign_up(unique("dan"))

    cleo.page.goto("/settings/profile")
    checks.visit(cleo.page, "cleo-settings-profile")
    cleo.field("locked", "Require follow requests").check()
    cleo.submit(cleo.page.get_by_role("main").locator("button[type=submit]"))
    expect(cleo.page).to_have_url(f"{server.base_url}/settings/profile")
    expect(cleo.field("locked")).to_be_checked()

    dan.page.goto(f"/@{cleo.username}")
    ask = dan.button("Request to follow")
    expect(dan.button("Follow")).to_have_count(0)
    dan.submit(ask)
    expect(ask).to_have_count(0)
    checks.visit(dan.page, "dan-asked")

    cleo.page.goto("/follow_requests")
    request = cleo.page.locator("main article").filter(has_text=f"@{dan.username}")
    cleo.wait_for(request)
    expect(cleo.page.get_by_role("heading", level=1)).to_have_text(cleo.t("Follow requests"))
    checks.visit(cleo.page, "cleo-follow-requests")
    cleo.button("Accept", scope=request).click()
    expect(request).to_have_count(0)
    cleo.page.reload()
    expect(request).to_have_count(0)

    dan.page.goto(f"/@{cleo.username}/followers")
    expect(dan.page.get_by_role("main").get_by_text(f"@{dan.username}")).to_be_visible()
    expect(dan.button("Request to follow")).to_have_count(0)
    checks.visit(dan.page, "dan-follows-cleo")
    checks.done()
