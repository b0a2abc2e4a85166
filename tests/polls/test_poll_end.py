"""The end of a poll: ``poll`` notifications to its author and every local voter,
sent by the end-of-poll task once, however many times it runs; the task is queued
to run at the poll's end on a backend that can defer (the database backend)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tribune.effects.tasks import poll_end
from tribune.notifications.models import Notification
from tribune.statuses.models import Poll
from tribune.statuses.polls import poll_spec, poll_vote
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db


def _poll_notifications() -> set[tuple[str, str, int]]:
    return set(Notification.objects.filter(type="poll").values_list(
        "account__username", "from_account__username", "status_id"))


def _end_now(poll: Poll) -> None:
    """The poll's time runs out (its row as the clock would leave it)."""
    Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_the_end_notifies_author_and_voters_once(alice, bob, carol, make_account,
                                                 django_capture_on_commit_callbacks):
    make_account("dave")  # neither author nor voter
    status = status_create(account=alice, text="?",
                           poll=poll_spec(options=["a", "b"], expires_in=600, multiple=True))
    poll_vote(account=bob, poll=status.poll, choices=[0, 1])
    poll_vote(account=carol, poll=status.poll, choices=[1])
    with django_capture_on_commit_callbacks(execute=True):
        poll_end.enqueue(poll_id=status.poll.pk)  # before the end: nothing yet
    assert _poll_notifications() == set()

    _end_now(status.poll)
    with django_capture_on_commit_callbacks(execute=True):
        poll_end.enqueue(poll_id=status.poll.pk)
    expected = {("alice", "alice", status.pk), ("bob", "alice", status.pk),
                ("carol", "alice", status.pk)}
    assert _poll_notifications() == expected
    assert "dave" not in {n[0] for n in _poll_notifications()}
    assert Poll.objects.get(pk=status.poll.pk).ended_notified_at is not None

    # A second run (a retried job) sends nothing again, even after a dismissal.
    Notification.objects.filter(account__username="bob", type="poll").delete()
    with django_capture_on_commit_callbacks(execute=True):
        poll_end.enqueue(poll_id=status.poll.pk)
    assert _poll_notifications() == expected - {("bob", "alice", status.pk)}


def test_a_deleted_poll_ends_quietly(alice, bob):
    status = status_create(account=alice, text="?", poll=poll_spec(options=["a", "b"], expires_in=600))
    poll_id = status.poll.pk
    status.delete()
    poll_end.enqueue(poll_id=poll_id)
    assert _poll_notifications() == set()


def test_the_end_is_queued_for_the_polls_end_on_the_database_backend(
        alice, settings, django_capture_on_commit_callbacks):
    """django-tasks-db stores a deferred task with its ``run_after``; its worker runs
    it then (the RQ backend schedules it the same way, docs/adr/0026)."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default", "timelines", "federation", "media",
                                             "portability"]}}
    with django_capture_on_commit_callbacks(execute=True):
        status = status_create(account=alice, text="?",
                               poll=poll_spec(options=["a", "b"], expires_in=900))
    # The StatusCreated event is queued too; run it as a worker would.
    from tribune.effects.tasks import handle_event

    event = DBTaskResult.objects.get(task_path=handle_event.module_path)
    handle_event.call(*event.args_kwargs["args"], **event.args_kwargs["kwargs"])
    queued = DBTaskResult.objects.get(task_path=poll_end.module_path)
    assert queued.args_kwargs["kwargs"] == {"poll_id": status.poll.pk}
    assert queued.run_after == Poll.objects.get(pk=status.poll.pk).expires_at


def test_the_api_lists_the_poll_notification(alice, bob, api_as,
                                             django_capture_on_commit_callbacks):
    status = status_create(account=alice, text="?", poll=poll_spec(options=["a", "b"], expires_in=600))
    poll_vote(account=bob, poll=status.poll, choices=[0])
    _end_now(status.poll)
    with django_capture_on_commit_callbacks(execute=True):
        poll_end.enqueue(poll_id=status.poll.pk)
    body = api_as(bob).get("/api/v1/notifications", {"types[]": "poll"}).json()
    assert [(n["type"], n["account"]["username"], n["status"]["id"]) for n in body] == [
        ("poll", "alice", str(status.pk))]
    poll = body[0]["status"]["poll"]
    assert poll["expired"] is True
    assert (poll["voted"], poll["own_votes"]) == (True, [0])
    assert [o["votes_count"] for o in poll["options"]] == [1, 0]
