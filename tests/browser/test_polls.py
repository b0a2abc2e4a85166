"""Voting in a poll, in a real browser against the real server: one person asks
with a poll from the compose box, another votes and sees the results. English
only: the French words of polls come with the next catalogue update."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.ui import EN, unique


def test_vote_in_a_poll(checks):
    assert checks.lang == EN
    ann = checks.person()
    ann.sign_up(unique("ann"))
    question = unique("Picnic or museum")
    ann.page.goto("/")
    compose = ann.page.locator("form#compose")
    compose.locator("details.compose-poll > summary").click()
    ann.field("poll_option_1", "Choice 1", scope=compose).fill("Picnic")
    ann.field("poll_option_2", "Choice 2", scope=compose).fill("Museum")
    ann.field("poll_duration", "Poll duration", scope=compose).select_option("3600")
    checks.visit(ann.page, "compose-poll")
    ann.publish(f"{question}?")
    ann.wait_for(ann.post(question))

    ben = checks.person()
    ben.sign_up(unique("ben"))
    ben.page.goto(f"/@{ann.username}")
    post = ben.post(question)
    poll = post.get_by_role("region", name="Poll")
    expect(poll.get_by_role("radio")).to_have_count(2)
    expect(poll).to_contain_text("Closes in")
    poll.get_by_role("button", name="Vote").click()  # nothing chosen: refused, and why
    expect(post.get_by_role("alert")).to_have_text("Choices can't be blank")
    poll = post.get_by_role("region", name="Poll")
    poll.get_by_role("radio", name="Museum").check()
    checks.visit(ben.page, "poll-before-voting")
    poll.get_by_role("button", name="Vote").click()  # htmx swaps the results in

    results = post.get_by_role("region", name="Poll")
    expect(results.get_by_role("radio")).to_have_count(0)
    expect(results.locator(".poll-result").filter(has_text="Museum")).to_contain_text("100%")
    expect(results.locator(".poll-result").filter(has_text="Picnic")).to_contain_text("0%")
    expect(results.locator(".poll-result.chosen")).to_contain_text("Museum")
    expect(results).to_contain_text(re.compile(r"\b1 person\b"))
    checks.visit(ben.page, "poll-results")

    ben.page.reload()  # the results stay after a reload
    expect(ben.post(question).locator(".poll-result.chosen")).to_contain_text("Museum")
    checks.done()
