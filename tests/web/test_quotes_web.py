"""Quote posts in the server-rendered interface: the Quote action, the compose
page with the quoted post, the embedded post or its placeholder, detaching one's
post from a quote, and a page of quotes at a constant number of queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tribune.graph.services import follow_create
from tribune.statuses.models import Quote, QuotePolicy, QuoteState, Status
from tribune.statuses.services import status_create, status_delete

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(account) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(account.user)
    return client


def test_quote_action_compose_page_and_embedded_post(alice, bob):
    original = status_create(account=bob, text="words worth quoting")
    alice_client = client_for(alice)
    thread = alice_client.get(f"/@bob/{original.pk}").content.decode()
    assert f'href="/statuses/{original.pk}/quote"' in thread
    page = alice_client.get(f"/statuses/{original.pk}/quote")
    assert page.status_code == 200
    html = page.content.decode()
    assert "words worth quoting" in html
    assert re.search(rf'name="quoted_status_id" value="{original.pk}"', html)
    assert "Who can quote" in html
    response = alice_client.post(
        "/statuses",
        {
            "text": "my take",
            "visibility": "public",
            "quoted_status_id": str(original.pk),
            "quote_approval_policy": "followers",
        },
    )
    assert response.status_code in (302, 303), response.content[:500]
    made = Status.objects.get(account=alice)
    assert made.quote_approval_policy == QuotePolicy.FOLLOWERS
    assert made.quote.quoted_status_id == original.pk
    # Published from the quote page, one lands on the new post (not the empty form).
    assert response["Location"] == f"/@alice/{made.pk}"
    shown = client_for(bob).get(f"/@alice/{made.pk}").content.decode()
    assert 'class="quote"' in shown and "words worth quoting" in shown
    # Bob does not follow Alice: her followers-only quote policy leaves him out.
    assert f'href="/statuses/{made.pk}/quote"' not in shown
    assert client_for(bob).get(f"/statuses/{made.pk}/quote").status_code == 403


def test_nobody_policy_hides_the_action_and_refuses_the_form(alice, bob):
    original = status_create(
        account=bob, text="mine alone", quote_approval_policy=QuotePolicy.NOBODY
    )
    alice_client = client_for(alice)
    assert (
        f"/statuses/{original.pk}/quote"
        not in alice_client.get(f"/@bob/{original.pk}").content.decode()
    )
    response = alice_client.post(
        "/statuses",
        {
            "text": "sneaky",
            "visibility": "public",
            "quoted_status_id": str(original.pk),
        },
    )
    assert response.status_code == 422
    assert "does not allow quotes" in response.content.decode()
    assert not Status.objects.filter(account=alice).exists()


def test_detach_and_deleted_placeholders(alice, bob):
    original = status_create(account=bob, text="take it back later")
    quoting = status_create(account=alice, text="quoting", quoted_status_id=original.pk)
    bob_client = client_for(bob)
    html = bob_client.get(f"/@alice/{quoting.pk}").content.decode()
    assert "Remove my post from this quote" in html
    # Only the quoted author gets the button, and only they may use it.
    assert (
        "Remove my post from this quote"
        not in client_for(alice).get(f"/@alice/{quoting.pk}").content.decode()
    )
    assert client_for(alice).post(f"/statuses/{quoting.pk}/detach").status_code == 404
    response = bob_client.post(f"/statuses/{quoting.pk}/detach")
    assert response.status_code in (302, 303)
    assert Quote.objects.get(status=quoting).state == QuoteState.REVOKED
    html = client_for(alice).get(f"/@alice/{quoting.pk}").content.decode()
    assert "Post removed by its author" in html and "take it back later" not in html

    other = status_create(account=bob, text="soon deleted")
    second = status_create(account=alice, text="again", quoted_status_id=other.pk)
    status_delete(account=bob, status=other)
    html = client_for(alice).get(f"/@alice/{second.pk}").content.decode()
    assert "Post removed by its author" in html


def test_home_with_quotes_costs_the_same_queries(alice, bob):
    follow_create(account=alice, target=bob)
    client = client_for(alice)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        return len(queries)

    originals = [status_create(account=bob, text=f"original {i}") for i in range(5)]
    status_create(account=bob, text="quote 0", quoted_status_id=originals[0].pk)
    count()
    few = count()
    for i in range(1, 5):
        status_create(account=bob, text=f"quote {i}", quoted_status_id=originals[i].pk)
    count()
    assert count() == few
    html = client.get("/").content.decode()
    assert html.count('<blockquote class="quote"') == 5


def test_the_default_quote_policy_is_a_preference_and_fills_the_form(alice):
    client = client_for(alice)
    response = client.post(
        "/settings/preferences",
        {
            "default_visibility": "public",
            "default_language": "",
            "locale": "",
            "default_quote_policy": "nobody",
        },
    )
    assert response.status_code == 303
    alice.refresh_from_db()
    assert alice.default_quote_policy == QuotePolicy.NOBODY
    html = client.get("/").content.decode()
    assert re.search(r'<option value="nobody" selected>', html)
    made = status_create(account=alice, text="closed by default")
    assert made.quote_approval_policy == QuotePolicy.NOBODY


def test_quote_notifications_read_as_sentences(
    alice, bob, django_capture_on_commit_callbacks
):
    from tribune.statuses.services import status_update

    with django_capture_on_commit_callbacks(execute=True):
        original = status_create(account=bob, text="notify me")
        quoting = status_create(
            account=alice, text="quoted", quoted_status_id=original.pk
        )
    html = client_for(bob).get("/notifications").content.decode()
    assert "quoted your post" in html
    assert str(quoting.pk) in html
    with django_capture_on_commit_callbacks(execute=True):
        status_update(account=bob, status=original, text="notify me, edited")
    html = client_for(alice).get("/notifications").content.decode()
    assert "edited a post you quoted" in html
