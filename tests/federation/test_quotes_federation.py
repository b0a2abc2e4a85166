"""A local quote post as other servers read it: FEP-044f's ``quote`` with the
Misskey and Fedibird names, and Mastodon's "RE:" fallback paragraph."""

from __future__ import annotations

import pytest

from tests.federation.conftest import AS
from tests.federation.test_inbound_statuses import ALICE, create, note, send
from tests.federation.test_inbox import ZED
from tribune.core.urls import absolute
from tribune.federation.serializers import CONTEXT
from tribune.statuses.models import Quote
from tribune.statuses.services import quote_revoke, status_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def zed_account(zed, db):
    from tribune.federation.actors import remote_actor_fetch

    return remote_actor_fetch(ZED).account


def test_a_quote_post_names_the_quoted_note_and_falls_back_to_a_link(peer, alice, bob):
    original = status_create(account=bob, text="first")
    quoting = status_create(
        account=alice, text="second", quoted_status_id=original.pk, language="en"
    )
    body = peer.get(f"/users/alice/statuses/{quoting.pk}", HTTP_ACCEPT=AS).json()
    quoted_id = absolute(f"/users/bob/statuses/{original.pk}")
    assert body["quote"] == body["_misskey_quote"] == body["quoteUri"] == quoted_id
    link = absolute(f"/@bob/{original.pk}")
    fallback = f'<p class="quote-inline">RE: <a href="{link}">{link}</a></p>'
    assert body["content"] == "<p>second</p>" + fallback
    assert body["contentMap"] == {"en": body["content"]}
    terms = CONTEXT[2]
    assert terms["quote"]["@id"] == "https://w3id.org/fep/044f#quote"

    # A revoked quote no longer points at the post.
    quote_revoke(account=bob, status=original, quoting_status_id=quoting.pk)
    assert Quote.objects.get(status=quoting).state == "revoked"
    body = peer.get(f"/users/alice/statuses/{quoting.pk}", HTTP_ACCEPT=AS).json()
    assert "quote" not in body and body["content"] == "<p>second</p>"


def test_incoming_quotes_are_kept_only_when_no_approval_is_needed(
    zed_keys, zed_account, alice, django_capture_on_commit_callbacks
):
    from tribune.notifications.models import Notification
    from tribune.statuses.models import QuotePolicy, Status

    open_post = status_create(account=alice, text="anyone may quote")
    closed = status_create(
        account=alice, text="nobody may", quote_approval_policy=QuotePolicy.NOBODY
    )
    fallback = f'<p class="quote-inline">RE: <a href="{ALICE}/statuses/{open_post.pk}">link</a></p>'
    send(
        create(
            note(
                7, "<p>quoting</p>" + fallback, quote=f"{ALICE}/statuses/{open_post.pk}"
            )
        ),
        zed_keys,
        django_capture_on_commit_callbacks,
    )
    send(
        create(
            note(
                8, "<p>quoting too</p>", _misskey_quote=f"{ALICE}/statuses/{closed.pk}"
            )
        ),
        zed_keys,
        django_capture_on_commit_callbacks,
    )
    first = Status.objects.get(uri=f"{zed_account.uri}/statuses/7")
    second = Status.objects.get(uri=f"{zed_account.uri}/statuses/8")
    assert Quote.objects.get(status=first).quoted_status == open_post
    assert not Quote.objects.filter(status=second).exists()
    open_post.refresh_from_db()
    closed.refresh_from_db()
    assert (open_post.quotes_count, closed.quotes_count) == (1, 0)
    assert Notification.objects.filter(
        account=alice, type="quote", status=first
    ).exists()
    # The fallback link is kept, and hidden where the quote itself is shown.
    assert 'class="quote-inline"' in first.content
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(alice.user)
    html = client.get(
        f"/@{zed_account.username}/{first.pk}", follow=True
    ).content.decode()
    assert "has-quote" in html and "anyone may quote" in html
