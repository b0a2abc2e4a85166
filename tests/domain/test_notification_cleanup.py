"""A notification goes when the action behind it is undone, as in Mastodon: unreblog,
unfavourite, unfollow, a withdrawn follow request, and the follows and requests a
block ends. Effects run after commit, so these tests commit."""

from __future__ import annotations

import json

import pytest

from tribune.core.events import (
    Event,
    FavouriteRemoved,
    FollowRequestWithdrawn,
    StatusDeleted,
    Unfollowed,
)
from tribune.effects import handle
from tribune.graph.services import block_create, follow_create, follow_delete
from tribune.notifications.models import Notification
from tribune.notifications.services import notifications_retract
from tribune.statuses.services import (
    favourite_create,
    favourite_delete,
    reblog_create,
    reblog_delete,
    status_create,
    status_delete,
)

pytestmark = pytest.mark.django_db(transaction=True)


def kinds(account, type: str) -> list[tuple[int, int | None]]:
    """(sender, status) of ``account``'s notifications of one type, in sender order."""
    return sorted(Notification.objects.filter(account=account, type=type)
                  .values_list("from_account_id", "status_id"))


def test_unreblog_takes_back_only_that_reblog_notification(alice, bob, carol):
    status = status_create(account=alice, text="boost me")
    other = status_create(account=alice, text="boost me too")
    reblog_create(account=bob, status=status)
    reblog_create(account=bob, status=other)
    reblog_create(account=carol, status=status)
    assert kinds(alice, "reblog") == sorted(
        [(bob.pk, status.pk), (bob.pk, other.pk), (carol.pk, status.pk)])

    reblog_delete(account=bob, status=status)

    assert kinds(alice, "reblog") == sorted([(bob.pk, other.pk), (carol.pk, status.pk)])


def test_reblogging_again_notifies_again(alice, bob):
    status = status_create(account=alice, text="boost me")
    reblog_create(account=bob, status=status)
    reblog_delete(account=bob, status=status)
    assert kinds(alice, "reblog") == []

    reblog_create(account=bob, status=status)

    assert kinds(alice, "reblog") == [(bob.pk, status.pk)]


def test_deleting_a_reblog_by_its_id_takes_its_notification_back(alice, bob):
    status = status_create(account=alice, text="boost me")
    reblog = reblog_create(account=bob, status=status)

    status_delete(account=bob, status=reblog)

    assert kinds(alice, "reblog") == []


def test_unfavourite_takes_back_only_that_favourite_notification(alice, bob, carol):
    status = status_create(account=alice, text="like me")
    favourite_create(account=bob, status=status)
    favourite_create(account=carol, status=status)

    favourite_delete(account=bob, status=status)
    favourite_delete(account=bob, status=status)  # nothing left to take back

    assert kinds(alice, "favourite") == [(carol.pk, status.pk)]


def test_unfollow_takes_back_the_follow_notification(alice, bob, carol):
    follow_create(account=bob, target=alice)
    follow_create(account=carol, target=alice)

    follow_delete(account=bob, target=alice)

    assert kinds(alice, "follow") == [(carol.pk, None)]


def test_withdrawing_a_follow_request_takes_its_notification_back(make_account, alice, bob):
    locked = make_account("locked", locked=True)
    follow_create(account=alice, target=locked)
    follow_create(account=bob, target=locked)
    assert kinds(locked, "follow_request") == sorted([(alice.pk, None), (bob.pk, None)])

    follow_delete(account=alice, target=locked)

    assert kinds(locked, "follow_request") == [(bob.pk, None)]


def test_a_block_takes_back_the_follow_and_request_notifications(make_account, alice, bob):
    locked = make_account("locked", locked=True)
    follow_create(account=bob, target=alice)
    follow_create(account=bob, target=locked)

    block_create(account=alice, target=bob)
    block_create(account=locked, target=bob)

    assert kinds(alice, "follow") == []
    assert kinds(locked, "follow_request") == []


def test_unreblog_through_the_api_leaves_no_reblog_notification(alice, bob, api_as):
    status = status_create(account=alice, text="boost me")
    as_bob = api_as(bob)
    assert as_bob.post(f"/api/v1/statuses/{status.pk}/reblog").status_code == 200
    assert as_bob.post(f"/api/v1/statuses/{status.pk}/unreblog").status_code == 200

    listed = api_as(alice).get("/api/v1/notifications").json()

    assert [n["type"] for n in listed] == []


# --- the events behind it ---------------------------------------------------------------


def test_a_late_undo_keeps_the_notification_of_a_redone_action(make_account, alice, bob):
    """Tasks may run out of order: an undo handled after the action was done again
    leaves the new notification alone."""
    locked = make_account("locked", locked=True)
    status = status_create(account=alice, text="boost and like me")
    first = reblog_create(account=bob, status=status)
    reblog_delete(account=bob, status=status)
    reblog_create(account=bob, status=status)
    favourite_create(account=bob, status=status)
    follow_create(account=bob, target=alice)
    follow_create(account=bob, target=locked)

    handle(StatusDeleted(status_id=first.pk, account_id=bob.pk, reblog_of_id=status.pk))
    handle(FavouriteRemoved(account_id=bob.pk, status_id=status.pk))
    handle(Unfollowed(follower_id=bob.pk, target_id=alice.pk))
    handle(FollowRequestWithdrawn(account_id=bob.pk, target_id=locked.pk))

    assert kinds(alice, "reblog") == [(bob.pk, status.pk)]
    assert kinds(alice, "favourite") == [(bob.pk, status.pk)]
    assert kinds(alice, "follow") == [(bob.pk, None)]
    assert kinds(locked, "follow_request") == [(bob.pk, None)]


def test_events_stay_json_safe_and_old_payloads_load():
    events = [
        StatusDeleted(status_id=1, account_id=2, reblog_of_id=3),
        FavouriteRemoved(account_id=2, status_id=1),
        FollowRequestWithdrawn(account_id=2, target_id=4),
    ]
    for event in events:
        payload = json.loads(json.dumps(event.payload()))
        assert Event.load(type(event).__name__, payload) == event

    # Queued before reblog_of_id existed.
    old = Event.load("StatusDeleted", {"status_id": 1, "account_id": 2})
    assert old == StatusDeleted(status_id=1, account_id=2, reblog_of_id=None)
    handle(old)  # a status long gone: nothing to do, no error


def test_retract_removes_only_the_matching_notification(alice, bob):
    status = status_create(account=alice, text="like me")
    favourite_create(account=bob, status=status)
    follow_create(account=bob, target=alice)

    assert notifications_retract(account_id=alice.pk, from_account_id=bob.pk,
                                 type="favourite") == 0  # no status given: not this one
    assert notifications_retract(account_id=alice.pk, from_account_id=bob.pk,
                                 type="favourite", status_id=status.pk) == 1
    assert notifications_retract(account_id=alice.pk, from_account_id=bob.pk,
                                 type="favourite", status_id=status.pk) == 0
    assert kinds(alice, "follow") == [(bob.pk, None)]


def test_accepting_a_request_answers_its_notification_without_a_follow_one(make_account):
    from tribune.graph.services import follow_request_authorize

    owner = make_account("lockedowner", locked=True)
    fan = make_account("eagerfan")
    follow_create(account=fan, target=owner)
    assert list(Notification.objects.filter(account=owner).values_list("type", flat=True)) == [
        "follow_request"]
    follow_request_authorize(account=owner, requester=fan)
    assert list(Notification.objects.filter(account=owner).values_list("type", flat=True)) == []
    assert owner.followers_rel.filter(account=fan).exists()
