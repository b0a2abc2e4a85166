"""A direct message from another server lands in the mentioned local account's
conversations, unread, as a local one does (tribune.conversations)."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.federation.test_inbound_statuses import create, note, send
from tests.federation.test_inbox import ZED
from tribune.conversations.models import AccountConversation
from tribune.federation.actors import remote_actor_fetch
from tribune.statuses.models import Status

pytestmark = pytest.mark.django_db

ALICE = f"{settings.TRIBUNE_BASE_URL}/users/alice"


def test_a_remote_direct_message_is_an_unread_conversation(zed, zed_keys, alice, api_as,
                                                           django_capture_on_commit_callbacks):
    zed_account = remote_actor_fetch(ZED).account
    message = note(40, "<p>@alice for you only</p>", to=[ALICE], cc=[],
                   tag=[{"type": "Mention", "href": ALICE, "name": "@alice"}])
    activity = {**create(message), "to": [ALICE]}
    send(activity, zed_keys, django_capture_on_commit_callbacks)
    stored = Status.objects.get(uri=f"{ZED}/statuses/40")
    assert stored.visibility == "direct"
    [row] = AccountConversation.objects.all()  # the remote author's is on its server
    assert (row.account_id, row.participant_ids, row.unread, row.last_status_id) == (
        alice.pk, [zed_account.pk], True, stored.pk)
    [entity] = api_as(alice).get("/api/v1/conversations").json()
    assert [a["acct"] for a in entity["accounts"]] == ["zed@remote.test"]
