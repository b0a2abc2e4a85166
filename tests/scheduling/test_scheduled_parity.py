"""A scheduled post carries everything a post may: a poll (Mastodon's
``params.poll``, its time counted from publication), a quote and its policy,
local-only and reply controls; each checked when scheduled and applied when
published (responses validated against Mastodon's schema)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.media import images
from tribune.core.errors import Forbidden, NotFound, ValidationFailed
from tribune.media.models import MediaAttachment
from tribune.media.services import media_create
from tribune.scheduling.models import ScheduledStatus
from tribune.scheduling.services import (
    scheduled_status_create,
    scheduled_status_publish,
)
from tribune.statuses.models import Poll, Quote, Status
from tribune.statuses.polls import PollSpec
from tribune.statuses.services import status_create, status_quote_policy_update

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLL = {"options": ["tea", "coffee", "water"], "expires_in": 3600, "multiple": True,
        "hide_totals": True}


def ahead(minutes: int = 60) -> str:
    return (timezone.now() + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def picture(account):
    upload = SimpleUploadedFile("p.jpg", images.jpeg(), content_type="image/jpeg")
    return media_create(account=account, upload=upload, process_now=True)


def schedule(account, **extra):
    return scheduled_status_create(account=account, text=extra.pop("text", "later"),
                                   now=NOW, scheduled_at=NOW + timedelta(minutes=60), **extra)


# --- polls ------------------------------------------------------------------------------


def test_api_schedules_a_poll_and_shows_it_in_params(alice, api_as):
    api = api_as(alice)
    r = api.post("/api/v1/statuses", json={"status": "which?", "scheduled_at": ahead(),
                                           "poll": POLL})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["params"]["poll"] == POLL
    assert ScheduledStatus.objects.get(pk=body["id"]).poll == POLL
    assert api.get(f"/api/v1/scheduled_statuses/{body['id']}").json() == body
    assert not Status.objects.exists()

    # As a form, the way many apps send it: expires_in as digits, flags as words.
    r = api.post("/api/v1/statuses", data={
        "status": "as a form", "scheduled_at": ahead(90), "poll[options][]": ["yes", "no"],
        "poll[expires_in]": "86400", "poll[multiple]": "false", "poll[hide_totals]": "true"})
    assert r.status_code == 200, r.content
    assert r.json()["params"]["poll"] == {"options": ["yes", "no"], "expires_in": 86400,
                                          "multiple": False, "hide_totals": True}


def test_publication_makes_the_poll_counting_its_time_from_then(alice, api_as):
    row = schedule(alice, text="which one?", poll=PollSpec(
        options=("red", "blue"), expires_in=7200, multiple=False, hide_totals=True))
    before = timezone.now()
    status = scheduled_status_publish(scheduled_status_id=row.pk,
                                      now=NOW + timedelta(minutes=60))
    after = timezone.now()
    poll = Poll.objects.get(status=status)
    assert (poll.options, poll.multiple, poll.hide_totals) == (["red", "blue"], False, True)
    # From publication (the clock at that moment), not from the scheduled time.
    assert before <= status.created_at <= after
    assert poll.expires_at == status.created_at + timedelta(seconds=7200)
    entity = api_as(alice).get(f"/api/v1/statuses/{status.pk}").json()
    assert [o["title"] for o in entity["poll"]["options"]] == ["red", "blue"]
    assert not ScheduledStatus.objects.exists()


def test_a_poll_with_media_is_refused_when_scheduled(alice, api_as):
    media = picture(alice)
    r = api_as(alice).post("/api/v1/statuses", json={
        "status": "both", "scheduled_at": ahead(), "poll": POLL, "media_ids": [str(media.pk)]})
    assert r.status_code == 422
    assert r.json()["error"] == ("Validation failed: A post with a poll cannot have media "
                                 "attachments")
    assert not ScheduledStatus.objects.exists()
    assert MediaAttachment.objects.get(pk=media.pk).scheduled_status_id is None


@pytest.mark.parametrize("poll, message", [
    ({"options": ["alone"], "expires_in": 3600}, "at least 2 options"),
    ({"options": ["a", "b"], "expires_in": 60}, "too short"),
    ({"options": ["same", "Same"], "expires_in": 3600}, "duplicate"),
    ({"options": ["a", "b", "c", "d", "e"], "expires_in": 3600}, "more than 4 options"),
])
def test_a_bad_poll_is_refused_with_nothing_written(alice, api_as, poll, message):
    media = picture(alice)  # an upload that must stay unreserved
    r = api_as(alice).post("/api/v1/statuses", json={"status": "x", "scheduled_at": ahead(),
                                                     "poll": poll})
    assert r.status_code == 422 and message in r.json()["error"]
    assert not ScheduledStatus.objects.exists()
    assert MediaAttachment.objects.get(pk=media.pk).scheduled_status_id is None


def test_an_unchecked_poll_spec_is_checked_by_the_service(alice):
    with pytest.raises(ValidationFailed, match="duplicate"):
        schedule(alice, poll=PollSpec(options=("a", "A"), expires_in=3600))
    with pytest.raises(ValidationFailed, match="too long"):
        schedule(alice, poll=PollSpec(options=("a", "b"), expires_in=10**9))
    assert not ScheduledStatus.objects.exists()


# --- quotes, local-only, reply controls -----------------------------------------------


def test_quote_and_local_only_are_kept_and_applied_at_publication(alice, bob, api_as):
    original = status_create(account=bob, text="worth quoting")
    r = api_as(alice).post("/api/v1/statuses", json={
        "status": "@bob look", "scheduled_at": ahead(), "quoted_status_id": str(original.pk),
        "quote_approval_policy": "nobody", "local_only": True,
        "interaction_policy": {"can_reply": {"always": ["mentioned", "author"]}}})
    assert r.status_code == 200, r.content
    params = r.json()["params"]
    assert (params["quoted_status_id"], params["quote_approval_policy"]) == (
        str(original.pk), "nobody")
    row = ScheduledStatus.objects.get()
    assert (row.local_only, row.reply_policy, row.quoted_status_id) == (
        True, "mentioned", original.pk)
    assert not Quote.objects.exists()

    status = scheduled_status_publish(scheduled_status_id=row.pk,
                                      now=timezone.now() + timedelta(hours=2))
    assert (status.local_only, status.reply_policy, status.quote_approval_policy) == (
        True, "mentioned", "nobody")
    quote = Quote.objects.get(status=status)
    assert quote.quoted_status_id == original.pk and quote.state == "accepted"
    original.refresh_from_db()
    assert original.quotes_count == 1


def test_the_author_default_quote_policy_is_kept_when_none_is_given(alice, api_as):
    alice.default_quote_policy = "followers"
    alice.save(update_fields=["default_quote_policy"])
    body = api_as(alice).post("/api/v1/statuses", json={"status": "x",
                                                        "scheduled_at": ahead()}).json()
    assert body["params"]["quote_approval_policy"] == "followers"
    assert body["params"]["quoted_status_id"] is None


def test_a_quote_is_checked_when_scheduled(alice, bob, api_as):
    closed = status_create(account=bob, text="no quotes", quote_approval_policy="nobody")
    hidden = status_create(account=bob, text="for bob alone", visibility="direct")
    api = api_as(alice)
    r = api.post("/api/v1/statuses", json={"status": "q", "scheduled_at": ahead(),
                                           "quoted_status_id": str(closed.pk)})
    assert r.status_code == 403
    r = api.post("/api/v1/statuses", json={"status": "q", "scheduled_at": ahead(),
                                           "quoted_status_id": str(hidden.pk)})
    assert r.status_code == 404
    with pytest.raises(ValidationFailed, match="Quote approval policy"):
        schedule(alice, quote_approval_policy="friends")
    with pytest.raises(ValidationFailed, match="Reply policy"):
        schedule(alice, reply_policy="nobody")
    with pytest.raises(Forbidden):
        schedule(alice, quoted_status_id=closed.pk)
    with pytest.raises(NotFound):
        schedule(alice, quoted_status_id="12345")
    assert not ScheduledStatus.objects.exists()


def test_a_quote_its_author_closed_meanwhile_fails_at_publication(alice, bob):
    original = status_create(account=bob, text="open for now")
    row = schedule(alice, quoted_status_id=original.pk)
    status_quote_policy_update(account=bob, status=original, quote_approval_policy="nobody")
    assert scheduled_status_publish(scheduled_status_id=row.pk,
                                    now=NOW + timedelta(hours=1)) is None
    row.refresh_from_db()
    assert row.failed_at == NOW + timedelta(hours=1) and row.error
    assert not Status.objects.filter(account=alice).exists()
    original.refresh_from_db()
    assert original.quotes_count == 0
