"""Direct messages and scheduled posts in the server-rendered interface: the
conversations page with its unread marker and notice, opening one, the compose
form's time field (no script needed), and the scheduled posts page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tribune.conversations.models import AccountConversation
from tribune.scheduling.models import ScheduledStatus
from tribune.scheduling.services import scheduled_status_create
from tribune.statuses.models import Status
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db(transaction=True)

NOTICE = "Direct messages are not end-to-end encrypted."


def client_for(account) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(account.user)
    return client


def local_time(when: datetime) -> str:
    """What a browser's date-and-time field sends (no seconds, no zone)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def test_conversations_page_lists_with_unread_marker_and_opens_the_thread(alice, bob):
    first = status_create(account=alice, text="@bob a secret plan", visibility="direct")
    client = client_for(bob)
    html = client.get("/conversations").content.decode()
    assert NOTICE in html
    assert "a secret plan" in html and "@alice" in html
    assert 'class="conversation is-unread"' in html and "Unread" in html
    row = AccountConversation.objects.get(account=bob)

    opened = client.get(f"/conversations/{row.pk}")
    assert opened.status_code == 303
    assert opened["Location"] == f"/@alice/{first.pk}#status-{first.pk}"
    assert client.get(opened["Location"]).status_code == 200
    row.refresh_from_db()
    assert row.unread is False
    html = client.get("/conversations").content.decode()
    assert "is-unread" not in html

    assert client_for(alice).get(f"/conversations/{row.pk}").status_code == 404
    assert client.post(f"/conversations/{row.pk}/remove").status_code == 303
    assert not AccountConversation.objects.filter(account=bob).exists()


def test_conversations_page_costs_the_same_queries_whatever_its_size(alice, bob, carol):
    client = client_for(bob)
    status_create(account=alice, text="@bob one", visibility="direct")
    client.get("/conversations")
    with CaptureQueriesContext(connection) as small:
        client.get("/conversations")
    for i in range(4):
        status_create(account=carol, text=f"@bob @alice n{i}", visibility="direct")
    with CaptureQueriesContext(connection) as large:
        html = client.get("/conversations").content.decode()
    assert html.count('<article class="conversation') == 5
    assert len(large) == len(small)


def test_compose_shows_the_notice_and_schedules_without_script(alice):
    client = client_for(alice)
    home = client.get("/").content.decode()
    assert NOTICE in home and 'type="datetime-local"' in home
    when = timezone.now() + timedelta(hours=2)
    response = client.post("/statuses", {"text": "see you later", "visibility": "unlisted",
                                         "spoiler_text": "", "scheduled_at": local_time(when)})
    assert response.status_code == 303 and response["Location"] == "/scheduled_statuses"
    row = ScheduledStatus.objects.get()
    assert (row.text, row.visibility) == ("see you later", "unlisted")
    assert row.scheduled_at == when.replace(second=0, microsecond=0)
    assert not Status.objects.exists()

    too_soon = client.post("/statuses", {"text": "soon", "visibility": "public",
                                         "scheduled_at": local_time(timezone.now())})
    assert too_soon.status_code == 422
    assert "at least 5 minutes from now" in too_soon.content.decode()
    assert ScheduledStatus.objects.count() == 1


def test_scheduled_page_moves_and_cancels(alice, bob):
    when = timezone.now() + timedelta(days=1)
    row = scheduled_status_create(account=alice, text="tomorrow's news", scheduled_at=when)
    client = client_for(alice)
    html = client.get("/scheduled_statuses").content.decode()
    assert "tomorrow&#x27;s news" in html or "tomorrow's news" in html
    assert f'value="{local_time(when)}"' in html

    later = timezone.now() + timedelta(days=2)
    field = f"{row.pk}-scheduled_at"
    moved = client.post(f"/scheduled_statuses/{row.pk}/reschedule", {field: local_time(later)})
    assert moved.status_code == 303
    row.refresh_from_db()
    assert row.scheduled_at == later.replace(second=0, microsecond=0)
    refused = client.post(f"/scheduled_statuses/{row.pk}/reschedule",
                          {field: local_time(timezone.now())})
    assert refused.status_code == 422 and "at least 5 minutes" in refused.content.decode()

    assert client_for(bob).post(f"/scheduled_statuses/{row.pk}/cancel").status_code == 404
    assert client.post(f"/scheduled_statuses/{row.pk}/cancel").status_code == 303
    assert not ScheduledStatus.objects.exists()
    assert "No scheduled posts" in client.get("/scheduled_statuses").content.decode()


def test_compose_schedules_a_poll_with_hidden_totals_and_the_page_lists_it(alice):
    client = client_for(alice)
    assert "Hide vote counts until the poll ends" in client.get("/").content.decode()
    when = timezone.now() + timedelta(hours=3)
    response = client.post("/statuses", {
        "text": "lunch?", "visibility": "public", "scheduled_at": local_time(when),
        "poll_option_1": "soup", "poll_option_2": "salad", "poll_option_3": "",
        "poll_option_4": "noodles", "poll_duration": "3600", "poll_hide_totals": "on"})
    assert response.status_code == 303 and response["Location"] == "/scheduled_statuses"
    row = ScheduledStatus.objects.get()
    assert row.poll == {"options": ["soup", "salad", "noodles"], "expires_in": 3600,
                        "multiple": False, "hide_totals": True}
    assert not Status.objects.exists()
    html = client.get("/scheduled_statuses").content.decode()
    assert "<li>soup</li><li>salad</li><li>noodles</li>" in html
    assert "Vote counts hidden until the poll ends." in html


def test_compose_hides_the_totals_of_a_poll_published_now(alice):
    from tribune.statuses.models import Poll

    response = client_for(alice).post("/statuses", {
        "text": "now", "visibility": "public", "poll_option_1": "a", "poll_option_2": "b",
        "poll_duration": "300", "poll_hide_totals": "on"})
    assert response.status_code == 303
    assert Poll.objects.get().hide_totals is True


def test_compose_schedules_a_local_only_quote_with_reply_controls(alice, bob):
    original = status_create(account=bob, text="quote me")
    when = timezone.now() + timedelta(hours=3)
    response = client_for(alice).post("/statuses", {
        "text": "well said", "visibility": "public", "scheduled_at": local_time(when),
        "quoted_status_id": str(original.pk), "local_only": "on",
        "reply_policy": "mentioned", "quote_approval_policy": "followers"})
    assert response.status_code == 303 and response["Location"] == "/scheduled_statuses"
    row = ScheduledStatus.objects.get()
    assert (row.quoted_status_id, row.local_only, row.reply_policy,
            row.quote_approval_policy) == (original.pk, True, "mentioned", "followers")
    html = client_for(alice).get("/scheduled_statuses").content.decode()
    assert "Quotes a post." in html and "Only on this server." in html
    assert "Who can reply: Only the people you mention." in html
    html = client_for(alice).get("/scheduled_statuses",
                                 HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Qui peut répondre\u00a0: Seulement les personnes que vous mentionnez." in html
