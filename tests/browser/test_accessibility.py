"""axe-core on every page of the interface, each with something on it: no serious or
critical violations. (The journeys check the pages they pass through as well, in
English and French; this test makes sure none is left out.)"""

from __future__ import annotations

from urllib.parse import urlencode

import requests
from playwright.sync_api import expect

from tests.browser.ui import reveal, unique


def test_every_page_passes_axe(server, checks):
    ivy, jon = checks.person(), checks.person()
    visitor = checks.person().page
    visitor.goto("/")
    checks.visit(visitor, "landing", signed_in=False)
    visitor.goto("/auth/sign_in")
    checks.visit(visitor, "sign-in", signed_in=False)
    visitor.goto("/auth/sign_up")
    checks.visit(visitor, "sign-up", signed_in=False)

    ivy.sign_up(unique("ivy"))
    jon.sign_up(unique("jon"))
    tag, warning = unique("pages"), unique("Spoiler ")
    ivy.page.goto("/")
    ivy.publish(f"Checking every page #{tag}", content_warning=warning)
    ivy.publish(f"A second post, no warning #{tag}")
    jon.page.goto(f"/@{ivy.username}")
    jon.submit(jon.button("Follow"))
    jon.page.goto(f"/tags/{tag}")
    status = jon.post(warning)
    jon.button("Favourite", scope=status).click()
    expect(jon.button("Favourite", scope=status)).to_have_attribute("aria-pressed", "true")
    jon.button("Bookmark", scope=status).click()
    expect(jon.button("Bookmark", scope=status)).to_have_attribute("aria-pressed", "true")
    jon.button("Boost", scope=status).click()
    expect(jon.button("Boost", scope=status)).to_have_attribute("aria-pressed", "true")
    status.get_by_role("link", name=jon.lang.name("Reply")).click()
    jon.page.wait_for_url("**#compose")
    jon.publish(f"@{ivy.username} A reply to check the thread page")

    page = jon.page
    page.goto("/")
    jon.wait_for(jon.post(warning))  # home: ivy's posts and jon's boost, once fanned out
    reveal(jon.post(warning))
    for path, name in [
        ("/", "home"), ("/public/local", "local"), (f"/tags/{tag}", "tag"),
        (f"/@{ivy.username}", "profile"), (f"/@{ivy.username}/with_replies", "profile-replies"),
        (f"/@{ivy.username}/followers", "profile-followers"),
        (f"/@{jon.username}/following", "profile-following"),
        ("/bookmarks", "bookmarks"), ("/favourites", "favourites"),
        ("/settings/profile", "settings-profile"),
        ("/settings/preferences", "settings-preferences"),
        ("/settings/account", "settings-account"),
    ]:
        page.goto(path)
        checks.visit(page, name)

    page = ivy.page
    page.goto("/notifications")
    ivy.wait_for(page.locator(".notification").filter(has_text=ivy.t("favourited your post")))
    checks.visit(page, "notifications")
    page.goto(f"/@{ivy.username}")
    ivy.post(warning).locator(".meta a").first.click()
    page.wait_for_url(f"**/@{ivy.username}/*")
    reveal(ivy.post(warning))
    checks.visit(page, "thread")
    thread_url = page.url
    for tail, name in [("/favourites", "favourited-by"), ("/reblogs", "boosted-by")]:
        page.goto(thread_url + tail)
        expect(page.get_by_role("main")).to_contain_text(f"@{jon.username}")
        checks.visit(page, name)
    page.goto(thread_url)
    ivy.post(warning).get_by_role("link", name=ivy.lang.name("Edit")).click()
    page.wait_for_url("**/edit")
    checks.visit(page, "edit")
    ivy.field("text", "Text").fill(f"Checking every page, edited #{tag}")
    ivy.submit(page.get_by_role("main").locator("button[type=submit]"))
    page.get_by_role("main").get_by_role("link", name="edited").first.click()
    page.wait_for_url("**/history")
    checks.visit(page, "history")

    # A locked account, for a follow-requests page with a request on it.
    page.goto("/settings/profile")
    ivy.field("locked", "Require follow requests").check()
    ivy.submit(page.get_by_role("main").locator("button[type=submit]"))
    kim = checks.person()
    kim.sign_up(unique("kim"))
    kim.page.goto(f"/@{ivy.username}")
    kim.submit(kim.button("Request to follow"))
    page.goto("/follow_requests")
    ivy.wait_for(page.locator("main article").filter(has_text=kim.username))
    checks.visit(page, "follow-requests")

    kim.page.goto(f"/@{jon.username}")
    kim.submit(kim.button("Mute"))
    kim.submit(kim.button("Block"))
    for path in ("/mutes", "/blocks"):
        kim.page.goto(path)
        expect(kim.page.get_by_role("main")).to_contain_text(f"@{jon.username}")
        checks.visit(kim.page, path.strip("/"))

    kim.page.goto(f"/@{jon.username}/report")
    checks.visit(kim.page, "report")
    kim.page.get_by_role("radio", name=kim.t("It is spam")).check()
    kim.submit(kim.page.get_by_role("main").locator("button[type=submit]"))
    expect(kim.page.get_by_role("heading", level=1)).to_have_text(kim.t("Report received"))
    checks.visit(kim.page, "report-received")

    app = requests.post(f"{server.base_url}/api/v1/apps", timeout=30, data={
        "client_name": "Axe", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": "read"}).json()
    page.goto("/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": app["client_id"],
        "redirect_uri": "urn:ietf:wg:oauth:2.0:oob", "scope": "read"}))
    checks.visit(page, "oauth-consent")
    ivy.submit(ivy.button("Authorize"))
    expect(page.get_by_role("textbox", name="Authorization code")).to_have_value(
        page.url.split("code=")[-1])
    checks.visit(page, "oauth-code")
    checks.done()
