"""The PDQ matcher on real attachments: pictures that people removed go to the
bank, and a re-upload of one (altered) is flagged for review, never hidden
(moderation reference §7.4, §8.12 behaviour 1)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.moderation.test_hashing import _require_pdq, altered, drawing, encoded
from tribune.media.services import media_create
from tribune.moderation.decisions import Reasons, decision_create
from tribune.moderation.models import AutomatedFlag, Case, Decision, HashBankEntry
from tribune.moderation.services import report_create, rule_create
from tribune.statuses.selectors import status_get_visible
from tribune.statuses.services import status_create

# The bank is filled after the removal commits.
pytestmark = pytest.mark.django_db(transaction=True)


def post_picture(account, data: bytes, name: str, text: str):
    media = media_create(account=account, upload=SimpleUploadedFile(name, data),
                         description="a picture", process_now=True)
    return status_create(account=account, text=text, media_ids=[media.pk])


def test_a_removed_picture_is_banked_and_its_reupload_only_flagged(alice, bob, carol,
                                                                   moderator):
    _require_pdq()
    picture = drawing(7)
    first = post_picture(alice, encoded(picture), "a.png", "look at this")
    rule = rule_create(text="No gore", severity_tier=1)
    case = report_create(reporter=bob, target=alice, status_ids=[first.pk],
                         rule_ids=[rule.pk]).case
    decision = decision_create(case_id=case.pk, moderator=moderator, restriction="remove",
                               reasons=Reasons(facts="A graphic picture.", rule_id=rule.pk,
                                               explanation="Gore is not allowed here."))
    [entry] = HashBankEntry.objects.all()
    assert entry.decision_id == decision.pk

    again = post_picture(carol, altered(picture), "b.jpg", "found this")
    flagged = Case.objects.get(subject_key=f"status:{again.pk}")
    assert flagged.automated_detection and flagged.severity_tier == 1
    flag = AutomatedFlag.objects.get(case=flagged)
    assert flag.detector_name == "pdq" and flag.score > 0.85
    # A flag never restricts: no decision, the post is visible to everyone.
    assert not Decision.objects.filter(case=flagged).exists()
    assert status_get_visible(status_id=again.pk, viewer=None).pk == again.pk

    unrelated = post_picture(carol, encoded(drawing(99)), "c.png", "my garden")
    assert not Case.objects.filter(subject_key=f"status:{unrelated.pk}").exists()
