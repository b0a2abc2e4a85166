"""A post with a poll as ActivityStreams has it (a ``Question``, as Mastodon's
NoteSerializer writes it), in the account archive, and back from an archive:
closed, with its counts, notifying no one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.portability import files
from tests.portability.files import note_item
from tribune.federation import serializers
from tribune.notifications.models import Notification
from tribune.portability.exports import archive_write
from tribune.portability.imports import import_create, import_run
from tribune.portability.models import ImportRow, JobState
from tribune.statuses.models import Poll, Status
from tribune.statuses.polls import poll_spec, poll_vote
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_poll_is_a_question(alice, bob, carol):
    single = status_create(account=alice, text="Which?",
                           poll=poll_spec(options=["Tea", "Coffee"], expires_in=600))
    poll_vote(account=bob, poll=single.poll, choices=[1])
    poll_vote(account=carol, poll=single.poll, choices=[1])
    document = serializers.note(Status.objects.get(pk=single.pk))
    end = Poll.objects.get(pk=single.poll.pk).expires_at
    assert document["type"] == "Question"
    assert document["oneOf"] == [
        {"type": "Note", "name": "Tea", "replies": {"type": "Collection", "totalItems": 0}},
        {"type": "Note", "name": "Coffee", "replies": {"type": "Collection", "totalItems": 2}}]
    assert "anyOf" not in document and "closed" not in document
    assert (document["endTime"], document["votersCount"]) == (_iso(end), 2)
    assert "votersCount" in serializers.CONTEXT[2]

    several = status_create(account=alice, text="Which ones?",
                            poll=poll_spec(options=["a", "b"], expires_in=600, multiple=True))
    Poll.objects.filter(pk=several.poll.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    document = serializers.note(Status.objects.get(pk=several.pk))
    assert [o["name"] for o in document["anyOf"]] == ["a", "b"]
    assert "oneOf" not in document
    assert document["closed"] == document["endTime"]
    plain = serializers.note(status_create(account=alice, text="no poll"))
    assert plain["type"] == "Note" and "oneOf" not in plain


def _import(account, data: bytes):
    batch = import_create(account=account, kind="mastodon-archive", mode="merge",
                          upload=SimpleUploadedFile("archive.zip", data), enqueue=False)
    return import_run(import_id=batch.pk)


def test_an_archive_brings_the_poll_back_closed(alice, bob, carol, make_account, tmp_path):
    status = status_create(account=alice, text="Which?",
                           poll=poll_spec(options=["Tea", "Coffee", "Water"], expires_in=600))
    poll_vote(account=bob, poll=status.poll, choices=[1])
    poll_vote(account=carol, poll=status.poll, choices=[2])
    path = tmp_path / "archive.zip"
    archive_write(account=alice, path=path)
    newcomer = make_account("alice2")
    batch = _import(newcomer, path.read_bytes())
    assert batch.state == JobState.FINISHED, batch.error
    copy = Poll.objects.get(status__account=newcomer)
    assert (copy.options, copy.tallies, copy.multiple) == (["Tea", "Coffee", "Water"], [0, 1, 1], False)
    assert (copy.votes_count, copy.voters_count) == (2, 2)
    # Still running in the archive: it ends now, here, and its end notifies no one.
    assert copy.expires_at <= timezone.now() and copy.ended_notified_at is not None
    assert not Notification.objects.filter(type="poll").exists()


def test_a_mastodon_question_with_several_choices(alice):
    question = note_item(1, text="Best bird?", published="2024-03-07T09:00:00Z",
                         note_type="Question")
    question["object"].update(
        anyOf=[{"type": "Note", "name": "Kite", "replies": {"type": "Collection", "totalItems": 4}},
               {"type": "Note", "name": "Heron", "replies": {"type": "Collection", "totalItems": 3}}],
        endTime="2024-03-08T09:00:00Z", closed="2024-03-08T09:00:00Z", votersCount=5)
    broken = note_item(2, text="Broken?", published="2024-03-07T10:00:00Z", note_type="Question")
    broken["object"]["oneOf"] = [{"type": "Note", "name": "Only one"}]
    batch = _import(alice, files.zip_bytes(files.mastodon_members(outbox_items=[question, broken])))
    assert batch.state == JobState.FINISHED, batch.error
    results = {r.item: (r.result, r.reason) for r in ImportRow.objects.filter(batch=batch)}
    assert [v for k, v in results.items() if "statuses/2" in k] == [
        ("failed", "The poll's choices cannot be read.")]
    poll = Poll.objects.get(status__account=alice)
    assert (poll.options, poll.tallies, poll.multiple) == (["Kite", "Heron"], [4, 3], True)
    assert (poll.votes_count, poll.voters_count) == (7, 5)
    assert poll.expires_at == datetime(2024, 3, 8, 9, tzinfo=UTC)
    assert poll.status.text == "Best bird?"
