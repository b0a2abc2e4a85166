"""Due process end to end in a real browser: a user reports a post, a moderator
removes it with reasons, the author reads the notice and appeals, a different
moderator reverses the decision, and the post is back for everyone."""

from __future__ import annotations

import re
import subprocess

from playwright.sync_api import expect

from tests.browser.ui import PASSWORD, unique
from tests.e2e.conftest import TRIBUNE


def make_moderator(server, name: str) -> None:
    done = subprocess.run(
        [*TRIBUNE, "createuser", name, "--email", f"{name}@example.test", "--password",
         PASSWORD, "--admin"], env=server.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_report_decide_notice_appeal_reverse(server, checks):
    ann, ben, first, second = (checks.person() for _ in range(4))
    ann.sign_up(unique("ann"))
    ben.sign_up(unique("ben"))
    first_name, second_name = unique("modone"), unique("modtwo")
    make_moderator(server, first_name)
    make_moderator(server, second_name)

    words = unique("You are all fools ")
    ann.page.goto("/")
    ann.publish(words)
    ann.page.goto(f"/@{ann.username}")
    ann.post(words).locator(".meta a").first.click()
    ann.page.wait_for_url(f"**/@{ann.username}/*")
    post_url = ann.page.url

    # Ben reports the post.
    ben.page.goto(post_url)
    ben.post(words).get_by_role("link", name="Report").click()
    ben.page.get_by_role("radio", name="It is illegal").check()
    ben.field("comment").fill("Insults aimed at everyone here.")
    ben.submit(ben.page.get_by_role("main").locator("button[type=submit]"))
    expect(ben.page.get_by_role("heading", level=1)).to_have_text("Report received")

    # The first moderator takes the case and cannot record it without reasons.
    first.sign_in(first_name)
    first.page.goto("/moderation")
    checks.visit(first.page, "queue")
    first.page.get_by_role("link", name=re.compile(f"@{ann.username}")).first.click()
    first.page.wait_for_url("**/moderation/cases/*")
    form = first.page.locator("form#decision-form")
    form.get_by_role("radio", name="Remove the post").check()
    form.get_by_role("button", name="Record the decision").click()
    expect(first.page.get_by_role("heading", name="Decisions")).to_have_count(0)
    form.get_by_role("radio", name="It is illegal").check()
    form.get_by_label("Law relied on").fill("Criminal code, insult provisions")
    form.get_by_label("Category of illegal content").select_option(
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH")
    form.get_by_label("Why the content breaks the rule or the law").fill(
        "Calling every member a fool is an insult.")
    form.get_by_label("Facts and circumstances").fill("A public post insults all members.")
    checks.visit(first.page, "case")
    first.submit(form.get_by_role("button", name="Record the decision"))
    expect(first.page.get_by_role("heading", name="Decisions")).to_be_visible()

    # The post is gone for others.
    response = ben.page.goto(post_url)
    assert response.status == 404

    # The author sees the notice, reads the reasons and appeals.
    ann.page.goto("/notifications")
    notice = ann.page.get_by_role("link", name="Read the reasons and how to appeal")
    ann.wait_for(notice)
    notice.click()
    ann.page.wait_for_url("**/moderation/decisions/*")
    main = ann.page.get_by_role("main")
    expect(main).to_contain_text("Calling every member a fool is an insult.")
    expect(main).to_contain_text("Criminal code, insult provisions")
    checks.visit(ann.page, "statement")
    ann.field("text").fill("It was a joke between friends, not an insult.")
    ann.submit(ann.page.get_by_role("button", name="Send the appeal"))
    expect(main).to_contain_text("being reviewed by someone who was not involved")

    # The first moderator was involved: the appeal goes to the second.
    first.page.goto("/moderation")
    expect(first.page.get_by_role("heading", name="Appeals for you to review")).to_have_count(0)
    second.sign_in(second_name)
    second.page.goto("/moderation")
    second.page.get_by_role("link", name=f"Appeal about @{ann.username}").click()
    second.page.wait_for_url("**/moderation/appeals/*")
    checks.visit(second.page, "appeal")
    second.page.get_by_role("radio", name="Reverse the decision").check()
    second.field("response").fill("Read in its thread, this was banter, not an insult.")
    second.submit(second.page.get_by_role("button", name="Send the answer"))
    expect(second.page.get_by_role("main")).to_contain_text("banter")

    # The post is back, and the author is told.
    response = ben.page.goto(post_url)
    assert response.status == 200
    expect(ben.post(words)).to_be_visible()
    ann.page.reload()
    expect(ann.page.get_by_role("main")).to_contain_text("accepted: the decision is reversed")
    checks.done()
