"""A realistic mix of moderation made through the services, for the transparency
report and the Transparency Database export: reports of every category, decisions
on both grounds with several restrictions, a flag-only case, an upheld and a
reversed appeal, notices found manifestly unfounded, and one case left open."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from tribune.moderation.appeals import appeal_create, appeal_decide
from tribune.moderation.decisions import Reasons, decision_create
from tribune.moderation.models import Case, Decision
from tribune.moderation.services import flag_create, report_create, rule_create
from tribune.statuses.services import status_create

FACTS = "The post was reported and reviewed against the published rules."


@dataclass
class Dataset:
    rules: dict = field(default_factory=dict)
    decisions: dict = field(default_factory=dict)
    appeals: dict = field(default_factory=dict)
    open_case: Case | None = None


def tc(rule, explanation="It breaks the rule as published."):
    return Reasons(facts=FACTS, ground="tc", rule_id=rule.pk, explanation=explanation)


def build(make_account) -> Dataset:
    moderator = make_account("mod", admin=True)
    make_account("rev", admin=True)  # the uninvolved appeal reviewer
    alice, bob, carol, dave, erin, troll = (
        make_account(n) for n in ("alice", "bob", "carol", "dave", "erin", "troll"))
    data = Dataset()
    harassment = rule_create(text="No harassment", severity_tier=3)
    spam_links = rule_create(text="No spam links", severity_tier=4)
    data.rules = {"harassment": harassment, "spam_links": spam_links}

    rude = status_create(account=alice, text="a rude post")
    report_create(reporter=bob, target=alice, status_ids=[rude.pk], rule_ids=[harassment.pk])
    second = report_create(reporter=carol, target=alice, status_ids=[rude.pk],
                           rule_ids=[harassment.pk, spam_links.pk])
    advert = status_create(account=alice, text="buy now at the shop")
    spam = report_create(reporter=bob, target=alice, status_ids=[advert.pk], category="spam")
    hateful = status_create(account=dave, text="an unlawful post")
    legal = report_create(reporter=carol, target=dave, status_ids=[hateful.pk],
                          category="legal")
    whole = report_create(reporter=bob, target=dave, category="other")
    flagged = status_create(account=alice, text="a post a detector dislikes")
    flag = flag_create(status=flagged, detector_name="keywords", detector_version="1",
                       label="keyword", score=0.9)
    both = status_create(account=erin, text="flagged and reported")
    flag_create(status=both, detector_name="keywords", detector_version="1",
                label="keyword", score=0.5)
    both_report = report_create(reporter=carol, target=erin, status_ids=[both.pk],
                                rule_ids=[harassment.pk])
    # Three notices by one reporter that a moderator finds manifestly unfounded.
    unfounded = []
    for n in range(3):
        post = status_create(account=erin, text=f"an ordinary post {n}")
        unfounded.append(report_create(reporter=troll, target=erin, status_ids=[post.pk],
                                       category="spam"))
    left_open = status_create(account=erin, text="still waiting")
    data.open_case = report_create(reporter=bob, target=erin, status_ids=[left_open.pk],
                                   category="spam").case

    d = data.decisions
    d["remove_tc"] = decision_create(case_id=second.case_id, moderator=moderator,
                                     restriction="remove", reasons=tc(harassment))
    d["label"] = decision_create(case_id=spam.case_id, moderator=moderator,
                                 restriction="label", label_text="Advertising",
                                 reasons=tc(spam_links))
    d["remove_law"] = decision_create(
        case_id=legal.case_id, moderator=moderator, restriction="remove",
        reasons=Reasons(facts=FACTS, ground="law", legal_ground="Criminal code, section 130",
                        explanation="Incites hatred against a group.",
                        category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
                        keywords=["KEYWORD_HATE_SPEECH"], territorial_scope=["DE"]))
    d["none"] = decision_create(case_id=whole.case_id, moderator=moderator, restriction="none",
                                reasons=Reasons(facts="Nothing breaks the rules."))
    d["reduce_flag"] = decision_create(case_id=flag.case_id, moderator=moderator,
                                       restriction="reduce", reasons=tc(harassment))
    d["freeze"] = decision_create(case_id=both_report.case_id, moderator=moderator,
                                  restriction="freeze", reasons=tc(harassment),
                                  duration=timedelta(days=7))
    for report in unfounded:
        decision_create(case_id=report.case_id, moderator=moderator, restriction="none",
                        reasons=Reasons(facts="An ordinary post."),
                        unfounded_report_ids=[report.pk])

    upheld = appeal_create(account=alice, decision_id=d["remove_tc"].pk, text="It was a joke.")
    data.appeals["upheld"] = appeal_decide(reviewer=upheld.reviewer, appeal_id=upheld.pk,
                                           reverse=False, response="It breaks the rule.")
    reversed_ = appeal_create(account=alice, decision_id=d["reduce_flag"].pk,
                              text="The detector was wrong.")
    assert reversed_.reviewer.username == "rev"
    data.appeals["reversed"] = appeal_decide(reviewer=reversed_.reviewer,
                                             appeal_id=reversed_.pk, reverse=True,
                                             response="The post breaks no rule.")
    assert Decision.objects.filter(supersedes=d["reduce_flag"]).count() == 1
    return data
