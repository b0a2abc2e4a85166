"""Scheduled posts: Mastodon's rules (five minutes ahead, 25 a day, 300 in all),
reserved attachments, publication exactly once through the task queue, a failed
publication kept with its reason, and the client API (validated against
Mastodon's schema)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.media import images
from tribune.core.errors import NotFound, ValidationFailed
from tribune.media.models import MediaAttachment
from tribune.media.services import (
    media_cleanup_orphans,
    media_create,
    media_delete,
)
from tribune.scheduling.models import ScheduledStatus
from tribune.scheduling.services import (
    scheduled_status_create,
    scheduled_status_delete,
    scheduled_status_publish,
    scheduled_status_update,
    scheduled_statuses_publish_due,
)
from tribune.statuses.models import Status
from tribune.statuses.services import status_create, status_delete

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def schedule(account, minutes: float = 60, text: str = "later", **extra):
    return scheduled_status_create(account=account, text=text, now=NOW,
                                   scheduled_at=NOW + timedelta(minutes=minutes), **extra)


def picture(account):
    upload = SimpleUploadedFile("p.jpg", images.jpeg(), content_type="image/jpeg")
    return media_create(account=account, upload=upload, process_now=True)


def test_at_least_five_minutes_ahead(alice):
    for minutes in (-10, 0, 4.9):
        with pytest.raises(ValidationFailed,
                           match="Scheduled at must be at least 5 minutes from now"):
            schedule(alice, minutes)
    row = schedule(alice, 5)
    assert row.scheduled_at == NOW + timedelta(minutes=5)
    for nonsense in ("next tuesday", "", "2026-13-45T10:00:00Z", "9999-12-31T23:00:00Z",
                     "0001-01-01T00:00:00+14:00"):
        with pytest.raises(ValidationFailed, match="not a valid date"):
            scheduled_status_create(account=alice, text="x", scheduled_at=nonsense, now=NOW)


def test_iso_8601_with_offsets_and_without(alice):
    row = scheduled_status_create(account=alice, text="x", now=NOW,
                                  scheduled_at="2026-12-01T12:30:00+02:00")
    assert row.scheduled_at == datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    row = scheduled_status_create(account=alice, text="x", now=NOW,
                                  scheduled_at="2026-12-01T10:00:00")  # no offset: UTC
    assert row.scheduled_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    row = scheduled_status_create(account=alice, text="x", now=NOW,
                                  scheduled_at="2026-12-01T10:00:00.000Z")
    assert row.scheduled_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_the_parameters_are_checked_now(alice, bob, settings):
    with pytest.raises(ValidationFailed, match="Text can't be blank"):
        schedule(alice, text="  ")
    with pytest.raises(ValidationFailed, match="Visibility is not included"):
        schedule(alice, visibility="everyone")
    with pytest.raises(ValidationFailed, match="character limit"):
        schedule(alice, text="x" * (settings.TRIBUNE_MAX_CHARACTERS + 1))
    hidden = status_create(account=bob, text="for bob alone", visibility="direct")
    with pytest.raises(NotFound):
        schedule(alice, in_reply_to_id=hidden.pk)
    assert not ScheduledStatus.objects.exists()


def test_twenty_five_a_day_and_three_hundred_in_all(alice):
    # 25 on the first day (UTC), the 26th that day refused, the next day free.
    for i in range(25):
        schedule(alice, 10 + i)
    with pytest.raises(ValidationFailed, match="limit of 25 scheduled posts for today"):
        schedule(alice, 60)
    next_day = schedule(alice, 24 * 60)
    # Moving a post within its own day does not count it twice.
    first = ScheduledStatus.objects.filter(account=alice).order_by("scheduled_at").first()
    scheduled_status_update(account=alice, scheduled_status_id=first.pk, now=NOW,
                            scheduled_at=NOW + timedelta(hours=3))
    with pytest.raises(ValidationFailed, match="for today"):
        scheduled_status_update(account=alice, scheduled_status_id=next_day.pk, now=NOW,
                                scheduled_at=NOW + timedelta(hours=4))
    rows = [ScheduledStatus(account=alice, text="x", visibility="public",
                            scheduled_at=NOW + timedelta(days=2 + i // 20))
            for i in range(300 - 26)]
    ScheduledStatus.objects.bulk_create(rows)
    with pytest.raises(ValidationFailed, match=r"limit of 300 scheduled posts$"):
        schedule(alice, 60 * 24 * 60)


def test_update_and_delete_are_the_owners_only(alice, bob):
    row = schedule(alice)
    for call in (lambda: scheduled_status_update(account=bob, scheduled_status_id=row.pk,
                                                 scheduled_at=NOW + timedelta(hours=2), now=NOW),
                 lambda: scheduled_status_delete(account=bob, scheduled_status_id=row.pk),
                 lambda: scheduled_status_delete(account=alice, scheduled_status_id="nope")):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(ValidationFailed, match="at least 5 minutes"):
        scheduled_status_update(account=alice, scheduled_status_id=row.pk, now=NOW,
                                scheduled_at=NOW + timedelta(minutes=1))
    moved = scheduled_status_update(account=alice, scheduled_status_id=row.pk, now=NOW,
                                    scheduled_at="2026-12-02T08:00:00Z")
    assert moved.scheduled_at == datetime(2026, 12, 2, 8, tzinfo=UTC)
    scheduled_status_delete(account=alice, scheduled_status_id=row.pk)
    assert not ScheduledStatus.objects.exists()


def test_attachments_are_reserved_until_published(alice):
    kept, spare = picture(alice), picture(alice)
    row = schedule(alice, text="", media_ids=[str(kept.pk)])
    assert row.media_ids == [str(kept.pk)]
    with pytest.raises(ValidationFailed, match="currently used"):
        media_delete(account=alice, media_id=kept.pk)
    with pytest.raises(ValidationFailed, match="already attached"):
        status_create(account=alice, text="elsewhere", media_ids=[kept.pk])
    with pytest.raises(ValidationFailed, match="already attached"):
        schedule(alice, 90, media_ids=[kept.pk])
    MediaAttachment.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert media_cleanup_orphans() == 1  # the spare upload only
    assert list(MediaAttachment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not MediaAttachment.objects.filter(pk=spare.pk).exists()

    status = scheduled_status_publish(scheduled_status_id=row.pk,
                                      now=NOW + timedelta(minutes=60))
    assert list(status.media_attachments.values_list("pk", flat=True)) == [kept.pk]
    assert MediaAttachment.objects.get(pk=kept.pk).scheduled_status_id is None


def test_cancelling_frees_the_attachments(alice):
    media = picture(alice)
    row = schedule(alice, media_ids=[media.pk])
    scheduled_status_delete(account=alice, scheduled_status_id=row.pk)
    status = status_create(account=alice, text="now then", media_ids=[media.pk])
    assert MediaAttachment.objects.get(pk=media.pk).status_id == status.pk


def test_publication_uses_the_stored_parameters_once(alice, bob):
    parent = status_create(account=bob, text="a question")
    row = schedule(alice, text="@bob the answer", visibility="unlisted", spoiler_text="cw",
                   language="fr", in_reply_to_id=parent.pk)
    assert scheduled_status_publish(scheduled_status_id=row.pk,
                                    now=NOW + timedelta(minutes=59)) is None  # not yet
    status = scheduled_status_publish(scheduled_status_id=row.pk,
                                      now=NOW + timedelta(minutes=60))
    assert (status.text, status.visibility, status.spoiler_text, status.sensitive,
            status.language, status.in_reply_to_id, status.account_id) == (
        "@bob the answer", "unlisted", "cw", True, "fr", parent.pk, alice.pk)
    assert not ScheduledStatus.objects.exists()
    # A second run (a task run twice, another worker) finds nothing to publish.
    assert scheduled_status_publish(scheduled_status_id=row.pk,
                                    now=NOW + timedelta(minutes=61)) is None
    assert Status.objects.filter(account=alice).count() == 1


def test_a_refused_publication_is_kept_as_failed(alice, bob):
    parent = status_create(account=bob, text="soon gone")
    row = schedule(alice, text="a reply", in_reply_to_id=parent.pk)
    status_delete(account=bob, status=parent)
    assert scheduled_statuses_publish_due(now=NOW + timedelta(hours=2)) == 0
    row.refresh_from_db()
    assert row.failed_at == NOW + timedelta(hours=2)
    assert row.error == "Record not found"
    assert not Status.objects.filter(account=alice).exists()
    # A failed post is not tried again until it is moved.
    assert scheduled_statuses_publish_due(now=NOW + timedelta(hours=3)) == 0
    moved = scheduled_status_update(account=alice, scheduled_status_id=row.pk, now=NOW,
                                    scheduled_at=NOW + timedelta(hours=5))
    assert (moved.failed_at, moved.error) == (None, "")


def test_a_restricted_account_cannot_schedule_nor_publish(alice):
    from tribune.accounts.models import Account
    from tribune.core.errors import Forbidden

    row = schedule(alice)
    # Stands for a freezing decision (tested in tests/moderation): the field it sets.
    Account.objects.filter(pk=alice.pk).update(frozen_at=timezone.now())
    alice.refresh_from_db()
    with pytest.raises(Forbidden):
        schedule(alice, 30)
    assert scheduled_status_publish(scheduled_status_id=row.pk,
                                    now=NOW + timedelta(hours=1)) is None
    row.refresh_from_db()
    assert row.failed_at is not None and "restricted" in row.error


def test_the_sweep_publishes_what_is_due_oldest_first(alice):
    late, early = schedule(alice, 30, text="second"), schedule(alice, 10, text="first")
    schedule(alice, 120, text="not yet")
    assert scheduled_statuses_publish_due(now=NOW + timedelta(minutes=45)) == 2
    assert list(Status.objects.order_by("id").values_list("text", flat=True)) == [
        "first", "second"]
    assert set(ScheduledStatus.objects.values_list("text", flat=True)) == {"not yet"}
    assert not ScheduledStatus.objects.filter(pk__in=[late.pk, early.pk]).exists()


def test_idempotency_key_returns_the_scheduled_post(alice):
    first = schedule(alice, idempotency_key="k1")
    assert schedule(alice, 90, idempotency_key="k1").pk == first.pk
    assert ScheduledStatus.objects.count() == 1


# --- through the task queue -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_database_backend_runs_the_task_at_its_time(alice, settings):
    """The embedded default's path: the task is a row with ``run_after`` at the
    post's time, which django-tasks-db's worker runs only once it is due."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": settings.TASKS["default"]["QUEUES"]}}
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    when = timezone.now() + timedelta(minutes=10)
    row = scheduled_status_create(account=alice, text="on time", scheduled_at=when)
    [task] = DBTaskResult.objects.filter(task_path__endswith="publish_scheduled_status")
    assert task.run_after == when and task.args_kwargs["args"] == [str(row.pk)]

    def work() -> None:
        Worker(queue_names=["default"], interval=0, batch=True, backend_name="default",
               startup_delay=False, max_tasks=None, excluded_queue_names=[],
               worker_id="test-worker").run()

    work()  # not due: the worker leaves it
    assert ScheduledStatus.objects.filter(pk=row.pk).exists()
    # Time passes: the post and its task are due.
    past = timezone.now() - timedelta(seconds=1)
    ScheduledStatus.objects.filter(pk=row.pk).update(scheduled_at=past)
    DBTaskResult.objects.filter(pk=task.pk).update(run_after=past)
    work()
    assert not ScheduledStatus.objects.exists()
    assert list(Status.objects.values_list("text", flat=True)) == ["on time"]
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_rq_schedules_the_job_at_its_time(alice, settings):
    """With Redis: the job waits in RQ's scheduled registry for the post's time
    (the worker's scheduler moves it to the queue then)."""
    if not settings.TRIBUNE_REDIS_URL:
        pytest.skip("needs TRIBUNE_REDIS_URL")
    import django_rq
    from django_tasks_rq import Job

    when = (timezone.now() + timedelta(minutes=10)).replace(microsecond=0)
    row = scheduled_status_create(account=alice, text="on time", scheduled_at=when)
    queue = django_rq.get_queue("default", job_class=Job)
    registry = queue.scheduled_job_registry
    [job_id] = registry.get_job_ids()
    assert registry.get_scheduled_time(job_id) == when
    job = queue.fetch_job(job_id)
    assert job.args == (str(row.pk),)
    job.perform()  # the worker at its time, early here: the post is not due yet
    assert ScheduledStatus.objects.filter(pk=row.pk).exists()
    ScheduledStatus.objects.filter(pk=row.pk).update(
        scheduled_at=timezone.now() - timedelta(seconds=1))
    job.perform()
    assert list(Status.objects.values_list("text", flat=True)) == ["on time"]


# --- the client API -----------------------------------------------------------------


def links(response) -> dict[str, dict[str, list[str]]]:
    return {rel: parse_qs(urlparse(url).query)
            for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.get("Link", ""))}


def ahead(minutes: int = 60) -> str:
    return (timezone.now() + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_api_scheduled_at_returns_a_scheduled_status(alice, api_as):
    api = api_as(alice)
    media = picture(alice)
    when = ahead()
    r = api.post("/api/v1/statuses", json={"status": "later on", "scheduled_at": when,
                                           "visibility": "private", "media_ids": [str(media.pk)],
                                           "sensitive": True, "language": "en"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["scheduled_at"] == when
    assert body["params"]["text"] == "later on"
    assert body["params"]["visibility"] == "private"
    assert body["params"]["media_ids"] == [str(media.pk)]
    assert [m["id"] for m in body["media_attachments"]] == [str(media.pk)]
    assert not Status.objects.exists()

    assert api.get(f"/api/v1/scheduled_statuses/{body['id']}").json() == body
    assert api.get("/api/v1/scheduled_statuses").json() == [body]


def test_api_errors(alice, bob, api_as):
    api = api_as(alice)
    r = api.post("/api/v1/statuses", json={"status": "x", "scheduled_at": ahead(2)})
    assert r.status_code == 422
    assert "Scheduled at must be at least 5 minutes from now" in r.json()["error"]
    r = api.post("/api/v1/statuses", json={"status": "x", "scheduled_at": "soon"})
    assert r.status_code == 422
    row = schedule(bob, 60 * 24 * 3)
    assert api.get(f"/api/v1/scheduled_statuses/{row.pk}").status_code == 404
    assert api.put(f"/api/v1/scheduled_statuses/{row.pk}",
                   json={"scheduled_at": ahead(90)}).status_code == 404
    assert api.delete(f"/api/v1/scheduled_statuses/{row.pk}").status_code == 404
    assert api.get("/api/v1/scheduled_statuses/x").json() == {"error": "Record not found"}
    assert ScheduledStatus.objects.filter(pk=row.pk).exists()


def test_api_update_and_delete(alice, api_as):
    api = api_as(alice)
    created = api.post("/api/v1/statuses", json={"status": "x", "scheduled_at": ahead()}).json()
    path = f"/api/v1/scheduled_statuses/{created['id']}"
    r = api.put(path, json={"scheduled_at": ahead(3)})
    assert r.status_code == 422 and "5 minutes" in r.json()["error"]
    later = ahead(300)
    r = api.put(path, json={"scheduled_at": later})
    assert r.status_code == 200 and r.json()["scheduled_at"] == later
    assert api.delete(path).json() == {}
    assert api.get(path).status_code == 404


def test_api_pages_with_link_headers(alice, api_as):
    rows = [schedule(alice, 60 * 24 * 2 + i) for i in range(5)]
    api = api_as(alice)
    r = api.get("/api/v1/scheduled_statuses", {"limit": 2})
    assert [s["id"] for s in r.json()] == [str(rows[4].pk), str(rows[3].pk)]
    assert links(r)["next"]["max_id"] == [str(rows[3].pk)]
    r = api.get("/api/v1/scheduled_statuses", {"limit": 2, "max_id": rows[3].pk})
    assert [s["id"] for s in r.json()] == [str(rows[2].pk), str(rows[1].pk)]
    assert api_as(alice, scopes="write:statuses").get(
        "/api/v1/scheduled_statuses").status_code == 403


def test_api_a_page_costs_the_same_queries_whatever_its_size(alice, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = api_as(alice)
    schedule(alice, 60 * 24 * 2, media_ids=[picture(alice).pk])
    api.get("/api/v1/scheduled_statuses")
    with CaptureQueriesContext(connection) as small:
        assert len(api.get("/api/v1/scheduled_statuses").json()) == 1
    for i in range(6):
        schedule(alice, 60 * 24 * 2 + i + 1, media_ids=[picture(alice).pk])
    with CaptureQueriesContext(connection) as large:
        assert len(api.get("/api/v1/scheduled_statuses").json()) == 7
    assert len(large) == len(small)


def test_the_catch_up_command(alice, capsys):
    from tribune.cli import main

    row = scheduled_status_create(account=alice, text="overdue", now=NOW,
                                  scheduled_at=NOW + timedelta(minutes=10))
    scheduled_status_create(account=alice, text="later", scheduled_at=timezone.now()
                            + timedelta(hours=1))
    assert main(["scheduled", "publish-due"]) == 0
    assert "scheduled posts published: 1" in capsys.readouterr().out
    assert not ScheduledStatus.objects.filter(pk=row.pk).exists()
    assert list(Status.objects.values_list("text", flat=True)) == ["overdue"]
