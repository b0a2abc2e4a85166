"""Notices of illegal content (DSA Art. 16; moderation reference §8.12, behaviour 10):
the required elements, the exact address on this instance, anonymous notices of
child sexual abuse material at P0, and the acknowledgement sent at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from tribune.core.errors import ValidationFailed
from tribune.moderation.decisions import Reasons, decision_create
from tribune.moderation.log import verify_log
from tribune.moderation.models import Case, LogEntry, Report
from tribune.moderation.notices import notice_create
from tribune.moderation.services import report_create
from tribune.statuses.services import status_create

# The acknowledgement is e-mailed after commit, so these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)

HOST = "https://social.example"
SPEECH = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"


@pytest.fixture(autouse=True)
def _instance(settings):
    settings.TRIBUNE_DOMAIN = "social.example"
    settings.TRIBUNE_BASE_URL = HOST


@pytest.fixture
def post(alice):
    return status_create(account=alice, text="an unlawful threat")


def notice(url, **overrides):
    fields = {"url": url, "explanation": "This threatens a named person with violence.",
              "legal_category": SPEECH, "good_faith": True, "name": "Dana Reader",
              "email": "dana@example.test"}
    return notice_create(**{**fields, **overrides})


def nothing_written():
    return not Report.objects.exists() and not Case.objects.exists() \
        and not LogEntry.objects.exists() and not mail.outbox


def test_a_notice_files_a_legal_report_at_p2_and_is_acknowledged_at_once(post):
    url = f"{HOST}/@alice/{post.pk}"
    report = notice(url)
    report.refresh_from_db()
    assert report.reporter is None
    assert report.category == "legal"
    assert (report.subject_url, report.legal_category) == (url, SPEECH)
    assert (report.reporter_name, report.reporter_email) == ("Dana Reader", "dana@example.test")
    assert report.good_faith_confirmed is True
    assert [s.pk for s in report.statuses.all()] == [post.pk]
    assert report.acknowledged_at == report.created_at
    case = report.case
    assert case.subject_key == f"status:{post.pk}"
    assert case.alleges_illegal is True
    assert case.severity_tier == 2
    assert case.deadline_at == report.created_at + timedelta(hours=72)
    # Art. 16(4): the confirmation of receipt went out once the notice was stored.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["dana@example.test"]
    assert str(report.pk) in mail.outbox[0].subject
    assert url in mail.outbox[0].body
    actions = list(LogEntry.objects.values_list("action", flat=True))
    assert actions == ["case.opened", "report.created", "report.acknowledged"]
    created = LogEntry.objects.get(action="report.created")
    assert created.payload["source"] == "article_16"
    assert "dana" not in str(created.payload)  # no personal data in the permanent log
    assert verify_log().intact


@pytest.mark.parametrize(("field", "value"), [
    ("explanation", "   "),
    ("url", ""),
    ("name", ""),
    ("email", ""),
    ("email", "not-an-address"),
    ("good_faith", False),
    ("legal_category", ""),
    ("legal_category", "STATEMENT_CATEGORY_MADE_UP"),
    ("explanation", "x" * 5001),
])
def test_every_element_of_the_notice_is_required(post, field, value):
    fields = {"url": f"{HOST}/@alice/{post.pk}", field: value}
    with pytest.raises(ValidationFailed):
        notice(**fields)
    assert nothing_written()


def test_an_explanation_of_exactly_5000_characters_is_accepted(post):
    assert notice(f"{HOST}/@alice/{post.pk}", explanation="x" * 5000).explanation == "x" * 5000


@pytest.mark.parametrize("path", ["/@alice/{id}", "/users/alice/statuses/{id}", "/@alice/{id}/"])
def test_the_addresses_of_a_post(post, path):
    report = notice(HOST + path.format(id=post.pk))
    assert report.case.subject_key == f"status:{post.pk}"


@pytest.mark.parametrize("path", ["/@alice", "/users/alice", "/@ALICE"])
def test_the_addresses_of_a_profile(alice, path):
    report = notice(HOST + path)
    assert report.case.subject_key == f"account:{alice.pk}"
    assert not report.statuses.exists()


@pytest.mark.parametrize("url", [
    "https://elsewhere.example/@alice/{id}",  # another server
    "/@alice/{id}",  # not the exact, full address
    "ftp://social.example/@alice/{id}",
    "https://social.example/@bob/{id}",  # the post is not bob's
    "https://social.example/@nobody",
    "https://social.example/@alice/99999999",
    "https://social.example/@alice/with_replies",
    "https://social.example/tags/fools",
    "https://social.example/@alice/{id}" + "9" * 500,
])
def test_an_address_that_is_not_a_post_or_profile_here_is_refused(post, bob, url):
    with pytest.raises(ValidationFailed):
        notice(url.format(id=post.pk))
    assert nothing_written()


def test_a_post_the_notifier_cannot_see_is_refused_as_if_it_did_not_exist(alice, bob):
    secret = status_create(account=alice, text="followers only", visibility="private")
    with pytest.raises(ValidationFailed) as hidden:
        notice(f"{HOST}/@alice/{secret.pk}")
    with pytest.raises(ValidationFailed) as missing:
        notice(f"{HOST}/@alice/1")
    assert str(hidden.value) == str(missing.value)
    assert nothing_written()


def test_a_child_sexual_abuse_notice_may_be_anonymous_and_is_p0(post):
    report = notice(f"{HOST}/@alice/{post.pk}", legal_category=MINORS, csam=True,
                    name="", email="")
    report.refresh_from_db()
    assert (report.reporter, report.reporter_name, report.reporter_email) == (None, "", "")
    assert report.case.severity_tier == 0
    assert report.case.deadline_at == report.created_at + timedelta(hours=1)
    assert report.acknowledged_at == report.created_at
    assert mail.outbox == []  # no address, nothing to send to


def test_csam_defaults_to_the_protection_of_minors_category_and_only_that(post):
    url = f"{HOST}/@alice/{post.pk}"
    assert notice(url, legal_category="", csam=True, name="", email="").legal_category == MINORS
    with pytest.raises(ValidationFailed):
        notice(url, legal_category=SPEECH, csam=True, name="", email="")


def test_protection_of_minors_without_the_csam_flag_still_needs_name_and_email(post):
    with pytest.raises(ValidationFailed):
        notice(f"{HOST}/@alice/{post.pk}", legal_category=MINORS, name="", email="")
    assert nothing_written()


def test_a_notice_joins_the_subjects_open_case_and_raises_its_tier(post, alice, bob):
    earlier = report_create(reporter=bob, target=alice, status_ids=[post.pk], category="spam")
    assert earlier.case.severity_tier == 4
    report = notice(f"{HOST}/@alice/{post.pk}")
    case = Case.objects.get()
    assert report.case_id == earlier.case_id == case.pk
    assert (case.severity_tier, case.alleges_illegal) == (2, True)
    assert (case.report_count, case.reporter_count, case.priority) == (2, 2, 2)
    assert LogEntry.objects.filter(action="case.tier_raised").count() == 1


def test_anonymous_notifiers_are_told_apart_by_their_address(post):
    url = f"{HOST}/@alice/{post.pk}"
    notice(url)
    notice(url, email="DANA@example.test")  # the same person again
    notice(url, name="Eli", email="eli@example.test")
    case = Case.objects.get()
    assert (case.report_count, case.reporter_count, case.priority) == (3, 2, 2)


def test_a_signed_in_notifier_is_the_reporter_and_cannot_report_themselves(post, alice, bob):
    report = notice(f"{HOST}/@alice/{post.pk}", reporter=bob)
    assert report.reporter == bob
    with pytest.raises(ValidationFailed):
        notice(f"{HOST}/@alice/{post.pk}", reporter=alice)


def test_a_decision_on_a_notice_cites_article_16_and_tells_the_notifier(post, make_account):
    moderator = make_account("mod", admin=True)
    report = notice(f"{HOST}/@alice/{post.pk}")
    mail.outbox.clear()
    decision = decision_create(
        case_id=report.case_id, moderator=moderator, restriction="remove",
        reasons=Reasons(facts="A threat of violence against a named person.", ground="law",
                        legal_ground="Criminal code, threats", category=SPEECH,
                        explanation="Threatening violence is an offence."))
    assert decision.source_type == "SOURCE_ARTICLE_16"
    outcome = [m for m in mail.outbox if m.to == ["dana@example.test"]]
    assert len(outcome) == 1
    assert Report.objects.get(pk=report.pk).outcome_notified_at is not None
