"""People using the web interface in a real browser against the real server, in
English and in French (the interface follows Accept-Language). Every page visited is
checked with axe-core and saved as a full-page screenshot."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.ui import (
    EN,
    FR,
    make_users,
    post,
    publish,
    reveal,
    sign_in,
    status_button,
    unique,
    wait_for,
)

LANGS = pytest.mark.parametrize("lang", [EN, FR], ids=["en", "fr"])


@LANGS
def test_follow_favourite_and_reply(pages, server, visit, lang):
    """Ben follows Ann, sees her post (hashtag, content warning) in his home
    timeline, favourites it and replies; Ann sees both in her notifications and the
    reply in the thread."""
    author, reader = unique("ann"), unique("ben")
    make_users(server, author, reader)
    ann, ben = pages.new(lang=lang.code), pages.new(lang=lang.code)
    sign_in(ann, lang, author)
    sign_in(ben, lang, reader, check=visit.axe.check)

    ben.goto(f"/@{author}")
    ben.get_by_role("button", name=lang.t("Follow"), exact=True).click()
    expect(ben.get_by_role("button", name=lang.t("Follow"), exact=True)).to_have_count(0)
    visit(ben, "ben-profile-of-ann")

    tag, warning = unique("garden"), unique("Plot twist ")
    ann.goto("/")
    publish(ann, lang, f"The tomatoes are ripe #{tag}", content_warning=warning)

    ben.goto("/")
    status = post(ben, warning)
    wait_for(ben, status)
    reveal(status)
    expect(status.get_by_role("link", name=f"#{tag}")).to_be_visible()
    favourite = status_button(status, lang, "Favourite")
    expect(favourite).to_have_attribute("aria-pressed", "false")
    favourite.click()
    expect(favourite).to_have_attribute("aria-pressed", "true")
    expect(favourite).to_contain_text("1")
    visit(ben, "ben-home")

    status.get_by_role("link", name=lang.exact("Reply")).click()
    ben.wait_for_url(f"**/@{author}/*#compose")
    reply_text = unique("Save me a few ")
    text = ben.locator("form#compose [name=text]")
    expect(text).to_have_value(f"@{author} ")
    publish(ben, lang, f"@{author} {reply_text}")
    expect(post(ben, reply_text)).to_be_visible()
    visit(ben, "ben-thread")

    ann.goto("/notifications")
    favourited = ann.locator(".notification").filter(
        has_text=lang.t("favourited your post"))
    wait_for(ann, favourited)
    expect(favourited).to_contain_text(reader)
    expect(ann.locator(".notification").filter(has_text=lang.t("followed you"))
           ).to_contain_text(reader)
    expect(ann.locator(".notification").filter(has_text=reply_text)).to_have_count(1)
    visit(ann, "ann-notifications")

    ann.goto(f"/@{author}")
    mine = post(ann, warning)
    mine.locator(".meta a").first.click()
    ann.wait_for_url(f"**/@{author}/*")
    reveal(post(ann, warning))
    expect(post(ann, reply_text)).to_be_visible()
    visit(ann, "ann-thread")
    visit.done()


@LANGS
def test_locked_account_accepts_a_follow_request(pages, server, visit, lang):
    """Cleo's account is locked: Dan asks to follow, Cleo accepts, Dan follows her."""
    owner, asker = unique("cleo"), unique("dan")
    make_users(server, owner, asker)
    cleo, dan = pages.new(lang=lang.code), pages.new(lang=lang.code)
    sign_in(cleo, lang, owner)
    lock_account(server, owner)
    sign_in(dan, lang, asker)

    dan.goto(f"/@{owner}")
    ask = dan.get_by_role("button", name=lang.t("Request to follow"), exact=True)
    expect(dan.get_by_role("button", name=lang.t("Follow"), exact=True)).to_have_count(0)
    ask.click()
    expect(ask).to_have_count(0)
    visit(dan, "dan-requested")

    cleo.goto("/follow_requests")
    request = cleo.locator("article").filter(has_text=f"@{asker}")
    wait_for(cleo, request)
    expect(cleo.get_by_role("heading", name=lang.t("Follow requests"))).to_be_visible()
    visit(cleo, "cleo-follow-requests")
    request.get_by_role("button", name=lang.t("Accept"), exact=True).click()
    expect(request).to_have_count(0)
    cleo.reload()
    expect(request).to_have_count(0)

    dan.goto(f"/@{owner}/followers")
    expect(dan.get_by_role("main").get_by_text(f"@{asker}")).to_be_visible()
    expect(dan.get_by_role("button", name=lang.t("Request to follow"), exact=True)
           ).to_have_count(0)
    visit(dan, "dan-following-cleo")
    visit.done()


def lock_account(server, username: str) -> None:
    """Require follow requests for ``username`` (update_credentials through the API)."""
    import requests

    token = server.cli("token", username, "--scopes", "read write").stdout.split()[-1]
    response = requests.patch(f"{server.base_url}/api/v1/accounts/update_credentials",
                              headers={"Authorization": f"Bearer {token}"},
                              data={"locked": "true"}, timeout=30)
    assert response.status_code == 200 and response.json()["locked"], response.text
