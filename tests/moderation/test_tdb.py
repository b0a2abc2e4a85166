"""Statements of reasons for the EU Transparency Database: every restrictive
decision serialises to a statement that passes a local copy of the database's
validation rules (moderation reference §1.6; §8.12, behaviour 14)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.moderation.transparency_data import build
from tribune.moderation import tdb
from tribune.moderation.models import Decision

pytestmark = pytest.mark.django_db(transaction=True)

GOOD = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"],
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "decision_ground_reference_url": "https://tribune.example/about#rule-1",
    "incompatible_content_ground": "Rule 1 (version 1): No harassment",
    "incompatible_content_explanation": "Insulting a member is harassment.",
    "content_type": ["CONTENT_TYPE_TEXT"],
    "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "territorial_scope": ["DE", "FR"],
    "content_language": "EN",
    "content_date": "2025-03-01",
    "application_date": "2025-03-02",
    "end_date_visibility_restriction": "2025-04-01",
    "decision_facts": "The post insults another member by name.",
    "source_type": "SOURCE_TYPE_OTHER_NOTIFICATION",
    "automated_detection": "No",
    "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
    "puid": "tribune-decision-1",
}


def changed(**fields):
    statement = copy.deepcopy(GOOD)
    for key, value in fields.items():
        if value is ...:
            statement.pop(key, None)
        else:
            statement[key] = value
    return statement


def test_a_good_statement_is_valid():
    assert tdb.validate_statement(GOOD) == []


def test_every_restrictive_decision_gives_a_valid_statement(make_account):
    data = build(make_account)
    restrictive = list(Decision.objects.exclude(restriction="none"))
    assert len(restrictive) == 5
    puids = set()
    for decision in restrictive:
        statement = tdb.statement_for(decision)
        assert tdb.validate_statement(statement) == [], (decision.restriction, statement)
        puids.add(statement["puid"])
    assert len(puids) == len(restrictive)
    law = tdb.statement_for(data.decisions["remove_law"])
    assert law["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert not any(k.startswith("incompatible_") for k in law)
    assert law["territorial_scope"] == ["DE"]
    assert law["category_specification"] == ["KEYWORD_HATE_SPEECH"]
    terms = tdb.statement_for(data.decisions["remove_tc"])
    assert not any(k.startswith("illegal_") for k in terms)
    assert terms["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    freeze = tdb.statement_for(data.decisions["freeze"])
    assert freeze["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"
    assert freeze["end_date_service_restriction"] == (
        data.decisions["freeze"].created_at + timedelta(days=7)).date().isoformat()
    assert "decision_visibility" not in freeze
    assert tdb.statement_for(data.decisions["reduce_flag"])["source_type"] == "SOURCE_VOLUNTARY"
    assert tdb.statement_for(data.decisions["reduce_flag"])["automated_detection"] == "Yes"
    with pytest.raises(ValueError):
        tdb.statement_for(data.decisions["none"])
    today = timezone.now().date()
    valid, invalid = tdb.period_statements(start=today, end=today + timedelta(days=1))
    assert len(valid) == 5 and invalid == {}


BAD = [
    ("unknown key", changed(platform_name="x"), "platform_name: unknown field"),
    ("required", changed(decision_facts=...), "decision_facts: is required"),
    ("required territorial scope", changed(territorial_scope=...), "territorial_scope: is required"),
    ("required_without_all", changed(decision_visibility=...), "decision_visibility: is required"),
    ("required_if other", changed(decision_visibility=["DECISION_VISIBILITY_OTHER"]),
     "decision_visibility_other: is required"),
    ("excluded other", changed(decision_visibility_other="shadow"),
     "decision_visibility_other: is only allowed"),
    ("required_if content type other", changed(content_type=["CONTENT_TYPE_OTHER"]),
     "content_type_other: is required"),
    ("illegal fields only with ILLEGAL", changed(illegal_content_legal_ground="Code"),
     "illegal_content_legal_ground: is only allowed"),
    ("ILLEGAL needs its fields",
     changed(decision_ground="DECISION_GROUND_ILLEGAL_CONTENT"),
     "illegal_content_legal_ground: is required"),
    ("incompatible_content_illegal only with INCOMPATIBLE",
     changed(decision_ground="DECISION_GROUND_ILLEGAL_CONTENT", incompatible_content_ground=...,
             incompatible_content_explanation=..., illegal_content_legal_ground="Code",
             illegal_content_explanation="Why", incompatible_content_illegal="Yes"),
     "incompatible_content_illegal: is only allowed"),
    ("Yes/No literal", changed(automated_detection="yes"), "automated_detection: 'yes'"),
    ("Yes/No literal of incompatible_content_illegal", changed(incompatible_content_illegal=True),
     "incompatible_content_illegal: True"),
    ("enum", changed(category="STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"),
     "category: 'STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT'"),
    ("array enum", changed(content_type=["CONTENT_TYPE_TEXT", "CONTENT_TYPE_LIVESTREAM"]),
     "content_type: 'CONTENT_TYPE_LIVESTREAM'"),
    ("array", changed(content_type="CONTENT_TYPE_TEXT"), "content_type: must be an array"),
    ("keyword", changed(category_specification=["KEYWORD_NOPE"]), "category_specification:"),
    ("length", changed(decision_facts="x" * 5001), "decision_facts: is longer than 5000"),
    ("length of explanation", changed(incompatible_content_explanation="x" * 2001),
     "incompatible_content_explanation: is longer than 2000"),
    ("date format", changed(content_date="01/03/2025"), "content_date: must be a date"),
    ("date format with time", changed(application_date="2025-03-02-10"),
     "application_date: must be a date"),
    ("content date range", changed(content_date="1999-12-31"), "content_date: must be between"),
    ("content date range end", changed(content_date="2038-01-02"), "content_date: must be between"),
    ("application date range", changed(application_date="2019-12-31",
                                       end_date_visibility_restriction=...),
     "application_date: must be 2020-01-01 or later"),
    ("end before application", changed(end_date_visibility_restriction="2025-03-01"),
     "end_date_visibility_restriction: must not be before"),
    ("puid regex", changed(puid="tribune decision/1"), "puid: may only contain"),
    ("puid length", changed(puid="a" * 501), "puid: is longer than 500"),
    ("territory", changed(territorial_scope=["DE", "US"]), "territorial_scope: 'US'"),
    ("language case", changed(content_language="en"), "content_language:"),
    ("language code", changed(content_language="XX"), "content_language:"),
    ("fully automated", changed(automated_decision="AUTOMATED_DECISION_FULLY"),
     "automated_decision: no decision here is fully automated"),
    ("reference url", changed(decision_ground_reference_url="not a url"),
     "decision_ground_reference_url: must be a URL"),
    ("content id", changed(content_id={"EAN-13": "123"}), "content_id:"),
    ("e-mail in facts", changed(decision_facts="Reported by jane.doe@example.org today."),
     "decision_facts: contains an e-mail address"),
    ("handle in facts", changed(decision_facts="The post targets @bob repeatedly."),
     "decision_facts: contains an @handle"),
    ("remote handle in facts", changed(decision_facts="Replying to @bob@social.example."),
     "decision_facts: contains an @handle"),
    ("profile URL in facts", changed(decision_facts="See https://tribune.example/@bob now."),
     "decision_facts: contains a link to a user's profile"),
]


@pytest.mark.parametrize(("rule", "statement", "expected"), BAD, ids=[b[0] for b in BAD])
def test_each_rule_rejects_a_bad_statement(rule, statement, expected):
    errors = tdb.validate_statement(statement)
    assert any(e.startswith(expected) for e in errors), errors


def test_the_lint_leaves_plain_facts_alone():
    assert tdb.personal_data("The post links to https://news.example/article about a@b.") == []
    assert tdb.personal_data("An e-mail: someone@mail.example") == ["contains an e-mail address"]


def test_batches_hold_at_most_one_hundred():
    statements = [changed(puid=f"p-{i}") for i in range(250)]
    sizes = [len(b) for b in tdb.batches(statements)]
    assert sizes == [100, 100, 50]
    assert [s["puid"] for b in tdb.batches(statements) for s in b] == [
        f"p-{i}" for i in range(250)]
    assert tdb.batches([]) == []
    with pytest.raises(ValueError):
        tdb.batches(statements, size=101)
