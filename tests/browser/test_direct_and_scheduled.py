"""Direct messages and scheduled posts in a real browser against the real server.
English only: their French words come with the next catalogue update."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.browser.ui import EN, unique


def test_a_direct_message_shows_unread_in_the_recipients_conversations(checks):
    """Ann writes to Ben for his eyes only; the compose form tells her the message
    is not end-to-end encrypted. Ben finds it unread under Direct messages, opens
    it on its thread, and it is read."""
    assert checks.lang == EN
    ben = checks.person()
    ben.sign_up(unique("ben"))
    ann = checks.person()
    ann.sign_up(unique("ann"))
    words = unique("Picnic")
    ann.page.goto("/")
    compose = ann.page.locator("form#compose")
    expect(compose.get_by_role("note")).to_contain_text("not end-to-end encrypted")
    ann.field("text", scope=compose).fill(f"@{ben.username} {words} on Sunday?")
    compose.locator("[name=visibility]").select_option("direct")
    ann.submit(ann.button("Publish", scope=compose))

    ben.page.goto("/")
    ben.submit(ben.page.get_by_role("banner").get_by_role("link", name="Direct messages"))
    expect(ben.page.get_by_role("heading", level=1)).to_have_text("Direct messages")
    expect(ben.page.get_by_role("note")).to_contain_text("operators and moderators")
    row = ben.page.locator("article.conversation").filter(has_text=words)
    ben.wait_for(row)
    expect(row.locator(".unread-marker")).to_have_text("Unread")
    expect(row).to_contain_text(f"@{ann.username}")
    checks.visit(ben.page, "conversations-unread")

    ben.submit(row.get_by_role("link"))
    ben.page.wait_for_url(re.compile(rf"/@{ann.username}/\d+#status-\d+$"))
    expect(ben.post(words)).to_be_visible()
    ben.page.goto("/conversations")
    expect(ben.page.locator("article.conversation").filter(has_text=words)).to_be_visible()
    expect(ben.page.locator(".unread-marker")).to_have_count(0)
    checks.done()


def test_schedule_a_post_and_see_it_in_the_scheduled_list(checks):
    """Ann writes a post, picks a time tomorrow under "Schedule for later", finds
    it under Scheduled posts at that time (UTC), and cancels it."""
    ann = checks.person()
    ann.sign_up(unique("ann"))
    words = unique("Tomorrow")
    when = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    ann.page.goto("/")
    compose = ann.page.locator("form#compose")
    ann.field("text", scope=compose).fill(f"{words} at noon")
    compose.get_by_text("Schedule for later").click()
    ann.field("scheduled_at", "Schedule for (UTC)", scope=compose).fill(
        when.strftime("%Y-%m-%dT%H:%M"))
    ann.submit(ann.button("Publish", scope=compose))

    ann.page.wait_for_url(re.compile(r"/scheduled_statuses$"))
    expect(ann.page.get_by_role("heading", level=1)).to_have_text("Scheduled posts")
    item = ann.page.locator("article.scheduled-status").filter(has_text=words)
    expect(item).to_have_count(1)
    expect(item.locator("input[type=datetime-local]")).to_have_value(
        when.strftime("%Y-%m-%dT%H:%M"))
    checks.visit(ann.page, "scheduled-posts")

    ann.submit(item.get_by_role("button", name="Cancel this post"))
    expect(ann.page.locator("article.scheduled-status")).to_have_count(0)
    expect(ann.page.get_by_text("No scheduled posts.")).to_be_visible()
    checks.done()
