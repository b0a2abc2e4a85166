"""Activities about accounts from another server: Block and its Undo, Update and
Delete of the sender's own actor, Flag (a forwarded report); each accepted
through the domain services, and refused when the sender acts on what is not
its own."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.federation.peers import actor_document, key_pair
from tests.federation.test_inbound_statuses import YAN, create, note, send
from tests.federation.test_inbox import ZED
from tribune.accounts.models import Account
from tribune.federation.models import RemoteActor
from tribune.graph.models import Block, Follow
from tribune.graph.services import follow_create, follow_request_authorize
from tribune.moderation.models import Report
from tribune.notifications.models import Notification
from tribune.statuses.models import Favourite, Status
from tribune.statuses.services import favourite_create, status_create

ALICE = f"{settings.TRIBUNE_BASE_URL}/users/alice"


@pytest.fixture
def mutual(alice, zed_account, django_capture_on_commit_callbacks):
    """alice follows zed and zed follows alice."""
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=alice, target=zed_account)
        follow_request_authorize(account=zed_account, requester=alice)
        follow_create(account=zed_account, target=alice)
    assert Follow.objects.count() == 2
    return zed_account


def block(target: str = ALICE, *, actor: str = ZED) -> dict:
    return {
        "id": f"{actor}#blocks/1",
        "type": "Block",
        "actor": actor,
        "object": target,
    }


# --- Block ----------------------------------------------------------------------------


def test_a_block_ends_follows_both_ways_without_notifying(
    zed_keys, alice, mutual, django_capture_on_commit_callbacks
):
    before = set(
        Notification.objects.filter(account=alice).values_list("pk", flat=True)
    )
    send(block(), zed_keys, django_capture_on_commit_callbacks)
    assert Block.objects.filter(account=mutual, target=alice).exists()
    assert not Follow.objects.exists()
    alice.refresh_from_db()
    assert (alice.followers_count, alice.following_count) == (0, 0)
    # Nothing new tells alice (the follow's own notification went with the follow).
    assert (
        set(Notification.objects.filter(account=alice).values_list("pk", flat=True))
        <= before
    )


def test_undo_block_ends_the_block_only_for_its_own_block(
    zed_keys, yan_keys, alice, zed_account, yan, django_capture_on_commit_callbacks
):
    send(block(), zed_keys, django_capture_on_commit_callbacks)
    # yan cannot undo zed's block, even restating it.
    send(
        {"id": f"{YAN}#u", "type": "Undo", "actor": YAN, "object": block()},
        yan_keys,
        django_capture_on_commit_callbacks,
    )
    assert Block.objects.filter(account=zed_account, target=alice).exists()
    send(
        {"id": f"{ZED}#blocks/1/undo", "type": "Undo", "actor": ZED, "object": block()},
        zed_keys,
        django_capture_on_commit_callbacks,
    )
    assert not Block.objects.exists()


def test_a_block_of_a_remote_or_unknown_account_does_nothing(
    zed_keys, zed_account, yan, django_capture_on_commit_callbacks
):
    send(block(YAN), zed_keys, django_capture_on_commit_callbacks)
    send(
        block(f"{settings.TRIBUNE_BASE_URL}/users/nobody"),
        zed_keys,
        django_capture_on_commit_callbacks,
    )
    send(
        {"id": f"{ZED}#b", "type": "Block", "actor": ZED, "object": {"no": "id"}},
        zed_keys,
        django_capture_on_commit_callbacks,
    )
    assert not Block.objects.exists()


# --- Update of the actor ----------------------------------------------------------------


def test_an_update_refetches_the_actor_and_ignores_the_inline_copy(
    zed, zed_keys, zed_account, django_capture_on_commit_callbacks
):
    new_keys = key_pair()
    served = actor_document(
        "zed",
        new_keys[1],
        name="Zed Again",
        summary='<p onmouseover="alert(1)">new bio</p><a href="javascript:alert(2)">y</a>',
        alsoKnownAs=["https://elsewhere.test/users/z"],
        movedTo="https://elsewhere.test/users/z",
        manuallyApprovesFollowers=True,
    )
    inline = actor_document(
        "zed", key_pair()[1], name="Inline Lies", summary="<p>lies</p>"
    )
    send(
        {"id": f"{ZED}#updates/1", "type": "Update", "actor": ZED, "object": inline},
        zed_keys,
        django_capture_on_commit_callbacks,
    )
    # Before the served document changes, the refetch keeps what was served.
    zed_account.refresh_from_db()
    assert zed_account.display_name == "Zed"
    zed.json("/users/zed", served)
    send(
        {"id": f"{ZED}#updates/2", "type": "Update", "actor": ZED, "object": inline},
        zed_keys,
        django_capture_on_commit_callbacks,
    )
    zed_account.refresh_from_db()
    assert zed_account.display_name == "Zed Again" and zed_account.locked
    assert (
        zed_account.note_html
        == '<p>new bio</p><a rel="nofollow noopener noreferrer">y</a>'
    )
    assert zed_account.also_known_as == ["https://elsewhere.test/users/z"]
    assert zed_account.moved_to_uri == "https://elsewhere.test/users/z"
    assert RemoteActor.objects.get(account=zed_account).public_key_pem == new_keys[1]


def test_an_update_of_another_actor_is_refused(
    zed, zed_keys, zed_account, yan, django_capture_on_commit_callbacks
):
    served_yan = actor_document("yan", key_pair()[1], name="Yan Renamed")
    zed.json("/users/yan", served_yan)
    fetches = len(zed.received)
    send(
        {
            "id": f"{ZED}#updates/3",
            "type": "Update",
            "actor": ZED,
            "object": served_yan,
        },
        zed_keys,
        django_capture_on_commit_callbacks,
    )
    yan.refresh_from_db()
    assert yan.display_name == "Yan"
    assert len(zed.received) == fetches  # nothing was fetched for it


# --- Delete of the actor -----------------------------------------------------------------


def delete_actor(actor: str = ZED, obj: str | None = None) -> dict:
    return {
        "id": f"{actor}#delete",
        "type": "Delete",
        "actor": actor,
        "object": obj or actor,
    }


def test_a_delete_of_a_gone_actor_removes_what_it_left(
    zed, zed_keys, alice, mutual, api_as, django_capture_on_commit_callbacks
):
    send(create(note(1)), zed_keys, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        mine = status_create(account=alice, text="liked by zed")
        favourite_create(account=mutual, status=mine)
    assert len(api_as(alice).get("/api/v1/timelines/home").json()) == 2
    zed.routes["/users/zed"] = (
        410,
        {"Content-Type": "application/activity+json"},
        b"{}",
    )
    send(delete_actor(), zed_keys, django_capture_on_commit_callbacks)
    assert not Status.objects.filter(account=mutual).exists()
    assert not Favourite.objects.exists() and not Follow.objects.exists()
    mine.refresh_from_db()
    alice.refresh_from_db()
    assert mine.favourites_count == 0
    assert (alice.followers_count, alice.following_count) == (0, 0)
    assert [s["id"] for s in api_as(alice).get("/api/v1/timelines/home").json()] == [
        str(mine.pk)
    ]
    assert not RemoteActor.objects.filter(account=mutual).exists()
    mutual.refresh_from_db()
    assert mutual.display_name == "" and mutual.note_html == ""


def test_a_delete_of_an_actor_that_still_resolves_is_refused(
    zed, zed_keys, alice, mutual, django_capture_on_commit_callbacks
):
    send(create(note(1)), zed_keys, django_capture_on_commit_callbacks)
    send(delete_actor(), zed_keys, django_capture_on_commit_callbacks)
    assert Status.objects.filter(account=mutual).count() == 1
    assert Follow.objects.count() == 2
    assert RemoteActor.objects.filter(account=mutual).exists()


def test_a_delete_of_another_actor_is_refused(
    zed, zed_keys, yan_keys, zed_account, yan, django_capture_on_commit_callbacks
):
    send(create(note(1)), zed_keys, django_capture_on_commit_callbacks)
    zed.routes["/users/zed"] = (404, {"Content-Type": "application/json"}, b"{}")
    send(delete_actor(YAN, ZED), yan_keys, django_capture_on_commit_callbacks)
    assert Status.objects.filter(account=zed_account).count() == 1
    assert RemoteActor.objects.filter(account=zed_account).exists()


# --- Flag -------------------------------------------------------------------------------


def flag(*objects: str, content="Spam, from our side", actor: str = ZED) -> dict:
    return {
        "id": f"{actor}#flags/1",
        "type": "Flag",
        "actor": actor,
        "content": content,
        "object": list(objects),
    }


def test_a_flag_becomes_a_report_on_the_local_account_and_its_posts(
    zed_keys, zed_account, alice, bob, django_capture_on_commit_callbacks
):
    reported = status_create(account=alice, text="reported")
    of_bob = status_create(account=bob, text="not alice's")
    send(
        flag(
            ALICE,
            f"{ALICE}/statuses/{reported.pk}",
            f"{settings.TRIBUNE_BASE_URL}/users/bob/statuses/{of_bob.pk}",
            "https://remote.test/users/zed/statuses/404",
            content="x" * 1500,
        ),
        zed_keys,
        django_capture_on_commit_callbacks,
    )
    (report,) = Report.objects.all()
    assert report.reporter == zed_account and report.target_account == alice
    assert list(report.statuses.values_list("pk", flat=True)) == [reported.pk]
    assert report.comment == "x" * 1000
    assert report.case is not None


def test_a_flag_naming_no_local_account_or_from_a_domain_rejecting_reports_is_dropped(
    zed_keys, zed_account, yan, alice, django_capture_on_commit_callbacks
):
    from tribune.accounts.services import domain_block_upsert

    send(flag(YAN), zed_keys, django_capture_on_commit_callbacks)
    send(
        {"id": f"{ZED}#f", "type": "Flag", "actor": ZED, "object": {"id": 7}},
        zed_keys,
        django_capture_on_commit_callbacks,
    )
    assert not Report.objects.exists()
    domain_block_upsert(domain="remote.test", severity="noop", reject_reports=True)
    send(flag(ALICE), zed_keys, django_capture_on_commit_callbacks)
    assert not Report.objects.exists()
    assert Account.objects.filter(uri=ZED).exists()
