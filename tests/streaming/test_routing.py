"""Who hears of what: the channels the effects publish to, and what the streaming
process renders for each viewer (followers-only posts, blocks, mutes, local and
remote public streams, lists, notifications, direct messages, deletions)."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from tribune.accounts.models import Account
from tribune.api.auth import Viewer, viewer_for_token
from tribune.api.streaming.render import NO_PAYLOAD, render
from tribune.api.streaming.streams import StreamError, subscription_for
from tribune.core.ids import new_id
from tribune.filters.services import filter_create
from tribune.graph.services import block_create, follow_create, mute_create
from tribune.lists.services import list_accounts_add, list_create
from tribune.oauth.services import cli_application_get_or_create, token_create
from tribune.statuses.remote import status_remote_create
from tribune.statuses.services import (
    favourite_create,
    status_create,
    status_delete,
    status_update,
)

pytestmark = pytest.mark.django_db(transaction=True)


def rendered(event: str, ref: str, viewers: set, context: str | None = "public") -> dict:
    """``render`` for ``viewers`` all listening in one filter context, by viewer."""
    return {viewer: payload for (viewer, _context), payload in
            render(event, ref, {(v, context) for v in viewers}).items()}


def user(account) -> str:
    return f"timeline:{account.pk}"


def viewer(account, scopes: str = "read") -> Viewer:
    raw = token_create(user=account.user, application=cli_application_get_or_create(),
                       scopes=scopes.split())
    return viewer_for_token(raw)


def test_a_public_post_reaches_followers_public_local_and_hashtag_streams(published, alice, bob, carol):
    follow_create(account=bob, target=alice)
    status = status_create(account=alice, text="hello #Gardening")
    assert published.channels("update", status.pk) == {
        user(alice), user(bob), "timeline:public", "timeline:public:local",
        "timeline:hashtag:gardening", "timeline:hashtag:gardening:local"}
    payloads = rendered("update", str(status.pk), {bob.pk, carol.pk, None})
    assert set(payloads) == {bob.pk, carol.pk, None}
    entity = json.loads(payloads[bob.pk])
    assert (entity["id"], entity["account"]["acct"]) == (str(status.pk), "alice")
    assert entity["tags"][0]["name"] == "gardening"


def test_a_local_only_post_reaches_signed_in_people_but_never_visitors(
        published, alice, bob, carol):
    status = status_create(account=alice, text="Just among us #Gardening", local_only=True)
    assert "timeline:public" in published.channels("update", status.pk)
    assert set(rendered("update", str(status.pk), {bob.pk, carol.pk, None})) == {
        bob.pk, carol.pk}  # a visitor's public or hashtag stream gets nothing
    status_update(account=alice, status=status, text="Just among us, edited")
    assert set(rendered("status.update", str(status.pk), {bob.pk, None})) == {bob.pk}


def test_a_followers_only_post_never_reaches_a_non_follower(published, alice, bob, carol):
    follow_create(account=bob, target=alice)
    status = status_create(account=alice, text="for my followers", visibility="private")
    channels = published.channels("update", status.pk)
    assert channels == {user(alice), user(bob)}
    assert user(carol) not in channels
    # Even were carol subscribed to a channel that carried it, the render leaves her out.
    assert set(rendered("update", str(status.pk), {alice.pk, bob.pk, carol.pk, None})) == {
        alice.pk, bob.pk}


def test_a_blocked_or_muted_authors_post_is_not_delivered(published, alice, bob, carol, make_account):
    dave = make_account("dave")
    follow_create(account=carol, target=alice)
    block_create(account=bob, target=alice)
    mute_create(account=dave, target=alice)
    status = status_create(account=alice, text="in public")
    assert user(bob) not in published.channels("update", status.pk)
    assert user(dave) not in published.channels("update", status.pk)
    payloads = rendered("update", str(status.pk), {bob.pk, carol.pk, dave.pk, None})
    assert set(payloads) == {carol.pk, None}


def test_the_viewers_own_state_is_in_its_payload(published, alice, bob, carol):
    status = status_create(account=alice, text="like me")
    favourite_create(account=bob, status=status)
    payloads = rendered("update", str(status.pk), {bob.pk, carol.pk})
    assert json.loads(payloads[bob.pk])["favourited"] is True
    assert json.loads(payloads[carol.pk])["favourited"] is False


def test_public_local_excludes_remote_posts(published, bob):
    remote = Account.objects.create(id=new_id(), username="far", domain="remote.example",
                                    uri="https://remote.example/users/far",
                                    created_at=timezone.now())
    status = status_remote_create(account=remote, uri="https://remote.example/notes/1",
                                  content_html="<p>from afar #news</p>", tag_names=["news"])
    channels = published.channels("update", status.pk)
    assert {"timeline:public", "timeline:public:remote", "timeline:hashtag:news"} <= channels
    assert "timeline:public:local" not in channels
    assert "timeline:hashtag:news:local" not in channels


def test_unlisted_and_reblogs_stay_off_public_streams(published, alice, bob):
    follow_create(account=bob, target=alice)
    status = status_create(account=alice, text="quietly #news", visibility="unlisted")
    assert published.channels("update", status.pk) == {user(alice), user(bob)}


def test_a_list_stream_gets_its_members_posts(published, alice, bob):
    follow_create(account=bob, target=alice)
    friends = list_create(account=bob, title="Friends")
    list_accounts_add(account=bob, list_id=friends.pk, members=[alice])
    status = status_create(account=alice, text="to the list")
    assert f"timeline:list:{friends.pk}" in published.channels("update", status.pk)


def test_an_edit_and_a_deletion_are_published(published, alice, bob):
    follow_create(account=bob, target=alice)
    status = status_create(account=alice, text="first")
    status_update(account=alice, status=status, text="second")
    assert {user(alice), user(bob), "timeline:public"} <= published.channels(
        "status.update", status.pk)
    assert json.loads(rendered("status.update", str(status.pk), {bob.pk})[bob.pk])[
        "content"].find("second") >= 0
    status_delete(account=alice, status=status)
    assert {user(alice), user(bob), "timeline:public"} <= published.channels("delete", status.pk)
    assert rendered("delete", str(status.pk), {bob.pk, None}) == {bob.pk: str(status.pk),
                                                               None: str(status.pk)}
    assert rendered("update", str(status.pk), {bob.pk}) == {}


def test_a_notification_is_published_to_its_recipient_only(published, alice, bob):
    status = status_create(account=alice, text="favourite me")
    favourite_create(account=bob, status=status)
    # Only this test's accounts: a notification an earlier test's task published
    # late may still be in the capture.
    mine = {user(alice), user(bob)}
    [message] = [m for m in published.messages()
                 if m["event"] == "notification" and set(m["streams"]) & mine]
    assert message["streams"] == [user(alice)]
    payloads = rendered("notification", message["ref"], {alice.pk, bob.pk})
    assert set(payloads) == {alice.pk}
    entity = json.loads(payloads[alice.pk])
    assert (entity["type"], entity["account"]["acct"]) == ("favourite", "bob")
    assert entity["status"]["id"] == str(status.pk)


def test_a_direct_message_reaches_the_direct_streams(published, alice, bob, carol):
    status = status_create(account=alice, text="@bob between us", visibility="direct")
    messages = [m for m in published.messages() if m["event"] == "conversation"]
    assert {c for m in messages for c in m["streams"]} == {
        f"timeline:direct:{alice.pk}", f"timeline:direct:{bob.pk}"}
    for_bob = next(m for m in messages if m["streams"] == [f"timeline:direct:{bob.pk}"])
    payloads = rendered("conversation", for_bob["ref"], {bob.pk, carol.pk})
    assert set(payloads) == {bob.pk}
    assert json.loads(payloads[bob.pk])["last_status"]["id"] == str(status.pk)
    assert "timeline:public" not in published.channels("update", status.pk)
    assert user(carol) not in published.channels("update", status.pk)


def test_stream_names_parameters_and_scopes(alice, bob):
    assert subscription_for(viewer(alice), "user").channel == user(alice)
    assert subscription_for(viewer(alice), "hashtag:local", tag="#Cats").channel == (
        "timeline:hashtag:cats:local")
    assert subscription_for(Viewer(), "public:local").channel == "timeline:public:local"
    notifications = subscription_for(viewer(alice, "read:notifications"), "user:notification")
    assert notifications.passes("notification") and not notifications.passes("update")
    # A user stream without the notifications scope carries no notifications.
    statuses_only = subscription_for(viewer(alice, "read:statuses"), "user")
    assert statuses_only.passes("update") and not statuses_only.passes("notification")
    bobs = list_create(account=bob, title="Bob's")
    cases = [
        (Viewer(), "user", {}, 401),
        (viewer(alice, "write"), "user", {}, 403),
        (viewer(alice, "read:statuses"), "user:notification", {}, 403),
        (viewer(alice), "list", {"list_id": str(bobs.pk)}, 404),
        (viewer(alice), "hashtag", {}, 400),
        (viewer(alice), "nonsense", {}, 400),
    ]
    for who, name, params, status in cases:
        with pytest.raises(StreamError) as refused:
            subscription_for(who, name, **params)
        assert refused.value.status == status, (name, params)
    assert subscription_for(viewer(bob), "list", list_id=str(bobs.pk)).stream == (
        "list", str(bobs.pk))


def test_filters_mark_or_hide_a_status_by_the_streams_context(published, alice, bob, carol):
    follow_create(account=bob, target=alice)
    filter_create(account=bob, title="Spoilers", context=["home"], filter_action="hide",
                  keywords_attributes=[{"keyword": "finale"}])
    filter_create(account=carol, title="Weather", context=["public"],
                  keywords_attributes=[{"keyword": "rain"}])
    assert published.channels("filters_changed", bob.pk) == {user(bob)}
    assert rendered("filters_changed", str(bob.pk), {bob.pk, carol.pk}, "home") == {
        bob.pk: NO_PAYLOAD}
    spoiler = status_create(account=alice, text="the finale, in rain")
    targets = {(bob.pk, "home"), (bob.pk, "public"), (carol.pk, "public"), (carol.pk, "home")}
    payloads = render("update", str(spoiler.pk), targets)
    assert (bob.pk, "home") not in payloads  # hidden in the home feed's context only
    assert json.loads(payloads[bob.pk, "public"])["filtered"] == []
    [result] = json.loads(payloads[carol.pk, "public"])["filtered"]
    assert (result["filter"]["title"], result["keyword_matches"]) == ("Weather", ["rain"])
    assert json.loads(payloads[carol.pk, "home"])["filtered"] == []
