"""Polls across servers (docs/adr/0036): a remote ``Question`` stored with its
poll and refreshed by its author's ``Update``; a local vote in a remote poll sent
as Mastodon's vote Notes; a remote vote in a local poll counted through the
same ``poll_vote`` as the API's, and the local poll's new counts sent back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.federation.test_delivery import posted
from tests.federation.test_inbound_statuses import YAN, create, note, send
from tests.federation.test_inbox import ZED
from tribune.effects import poll_ended
from tribune.federation.serializers import PUBLIC
from tribune.notifications.models import Notification
from tribune.statuses.models import Poll, PollVote, Status
from tribune.statuses.polls import MAX_IMPORTED_OPTIONS, poll_spec
from tribune.statuses.services import status_create

ALICE = f"{settings.TRIBUNE_BASE_URL}/users/alice"
FUTURE = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def question(number: int, options, *, kind: str = "oneOf", voters=None, author: str = ZED,
             **extra) -> dict:
    """zed's post ``number`` as a Question, ``options`` as ``(name, votes)`` pairs."""
    items = [{"type": "Note", "name": name, "replies": {"type": "Collection", "totalItems": n}}
             for name, n in options]
    document = note(number, "<p>Which one?</p>", author=author, type="Question",
                    endTime=stamp(FUTURE), **{kind: items}, **extra)
    if voters is not None:
        document["votersCount"] = voters
    return document


def update(obj, *, actor: str = ZED, suffix: str = "1") -> dict:
    return {"id": f"{obj['id']}#updates/{suffix}", "type": "Update", "actor": actor,
            "to": [PUBLIC], "object": obj}


def vote_note(number: int, name: str, status: Status, *, author: str = ZED) -> dict:
    """A vote as Mastodon's VoteSerializer writes it: no content, a ``name``."""
    return {"id": f"{author}#votes/{number}", "type": "Note", "name": name,
            "attributedTo": author, "inReplyTo": f"{ALICE}/statuses/{status.pk}",
            "to": [ALICE]}


@pytest.fixture
def zed_inboxes(zed):
    zed.routes["/inbox"] = (202, {}, b"")
    return zed


def test_a_question_is_stored_with_its_poll_and_shown_by_the_api(
        zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    send(create(question(1, [("Tea", 3), ("Coffee", 1), ("Water", 0)], voters=4)), zed_keys,
         django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    entity = api_as(alice).get(f"/api/v1/statuses/{status.pk}").json()
    poll = entity["poll"]
    assert [(o["title"], o["votes_count"]) for o in poll["options"]] == [
        ("Tea", 3), ("Coffee", 1), ("Water", 0)]
    assert poll["votes_count"] == 4 and poll["voters_count"] == 4
    assert poll["multiple"] is False and poll["expired"] is False
    assert poll["expires_at"].startswith(stamp(FUTURE)[:19])
    assert poll["voted"] is False and poll["own_votes"] == []
    assert entity["content"] == "<p>Which one?</p>"


def test_any_of_makes_a_multiple_choice_poll(zed_keys, zed_account,
                                            django_capture_on_commit_callbacks):
    send(create(question(1, [("Red", 2), ("Blue", 2)], kind="anyOf", voters=3)), zed_keys,
         django_capture_on_commit_callbacks)
    poll = Poll.objects.get(status__uri=f"{ZED}/statuses/1")
    assert poll.multiple is True
    assert (poll.tallies, poll.votes_count, poll.voters_count) == ([2, 2], 4, 3)


def test_a_closed_question_is_an_ended_poll(zed_keys, zed_account,
                                            django_capture_on_commit_callbacks):
    closed = stamp(datetime.now(UTC) - timedelta(hours=1))
    send(create(question(1, [("Yes", 1), ("No", 0)], closed=closed)), zed_keys,
         django_capture_on_commit_callbacks)
    poll = Poll.objects.get(status__uri=f"{ZED}/statuses/1")
    assert stamp(poll.expires_at) == closed


@pytest.mark.parametrize("options", [
    {"oneOf": []},
    {"oneOf": [{"type": "Note", "name": f"option {i}"}
               for i in range(MAX_IMPORTED_OPTIONS + 1)]},
    {"oneOf": [{"type": "Note", "name": f"option {i}"} for i in range(500)]},
    {"oneOf": [{"type": "Note", "name": 5}, {"type": "Note", "name": "five"}]},
    {"oneOf": [{"type": "Note", "name": ["a"]}, {"type": "Note", "name": "b"}]},
    {"oneOf": [{"type": "Note", "name": ""}, {"type": "Note", "name": "b"}]},
    {"oneOf": [{"type": "Note", "name": "x" * 501}, {"type": "Note", "name": "b"}]},
    {"oneOf": ["just a string", "another"]},
    {"oneOf": [{"name": "a", "replies": {"totalItems": "many"}}, {"name": "b"}]},
    {"oneOf": [{"name": "a", "replies": {"totalItems": -1}}, {"name": "b"}]},
    {"oneOf": "not a list"},
    {},
])
def test_a_malformed_question_is_refused_whole(zed_keys, zed_account, options,
                                               django_capture_on_commit_callbacks):
    document = note(1, type="Question", **options)
    send(create(document), zed_keys, django_capture_on_commit_callbacks)  # 202, no 500
    assert not Status.objects.exists() and not Poll.objects.exists()
    zed_account.refresh_from_db()
    assert zed_account.statuses_count == 0


def test_huge_counts_are_bounded(zed_keys, zed_account, django_capture_on_commit_callbacks):
    from tribune.statuses.polls import MAX_REMOTE_TALLY

    send(create(question(1, [(f"o{i}", 10**30) for i in range(MAX_IMPORTED_OPTIONS)],
                         voters=10**30)), zed_keys, django_capture_on_commit_callbacks)
    poll = Poll.objects.get(status__uri=f"{ZED}/statuses/1")
    assert poll.tallies == [MAX_REMOTE_TALLY] * MAX_IMPORTED_OPTIONS
    assert poll.votes_count == MAX_REMOTE_TALLY * MAX_IMPORTED_OPTIONS
    assert poll.voters_count == MAX_REMOTE_TALLY


def test_a_question_fetched_as_a_parent_keeps_its_poll(
        zed, zed_keys, zed_account, yan, django_capture_on_commit_callbacks):
    zed.json("/users/yan/statuses/1", {"@context": "https://www.w3.org/ns/activitystreams",
                                       **question(1, [("A", 1), ("B", 5)], author=YAN,
                                                  kind="anyOf")})
    send(create(note(2, inReplyTo=f"{YAN}/statuses/1")), zed_keys,
         django_capture_on_commit_callbacks)
    parent = Poll.objects.get(status__uri=f"{YAN}/statuses/1")
    assert parent.status.account == yan
    assert (parent.options, parent.tallies, parent.multiple) == (["A", "B"], [1, 5], True)


def test_a_question_found_by_its_address_keeps_its_poll(zed, zed_account, alice, db):
    from tribune.federation.lookup import url_resolve

    zed.json("/users/zed/statuses/7", {"@context": "https://www.w3.org/ns/activitystreams",
                                       **question(7, [("Up", 0), ("Down", 2)])})
    found = url_resolve(f"{ZED}/statuses/7", viewer=alice)
    assert isinstance(found, Status) and found.uri == f"{ZED}/statuses/7"
    assert Poll.objects.get(status=found).tallies == [0, 2]


def test_a_local_vote_in_a_remote_poll_is_sent_to_its_author(
        zed_inboxes, zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    send(create(question(1, [("Red", 2), ("Green", 0), ("Blue", 5)], kind="anyOf",
                         voters=6)), zed_keys, django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    zed_inboxes.received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(alice).post(f"/api/v1/polls/{status.poll.pk}/votes",
                                      json={"choices": [2, 0]})
    assert response.status_code == 200, response.content
    shown = response.json()
    # the local vote shows at once, added to the remote server's counts
    assert [o["votes_count"] for o in shown["options"]] == [3, 0, 6]
    assert shown["votes_count"] == 9 and shown["voters_count"] == 7
    assert shown["voted"] is True and shown["own_votes"] == [0, 2]
    sent = posted(zed_inboxes)
    assert [path for path, _doc in sent] == ["/users/zed/inbox"] * 2
    votes = {v.choice: v.pk for v in PollVote.objects.filter(account=alice)}
    for (_path, activity), choice, name in zip(sent, (0, 2), ("Red", "Blue"), strict=True):
        note_id = f"{ALICE}#votes/{votes[choice]}"
        assert activity["type"] == "Create" and activity["actor"] == ALICE
        assert activity["id"] == f"{note_id}/activity" and activity["to"] == [ZED]
        assert activity["object"] == {"id": note_id, "type": "Note", "name": name,
                                      "attributedTo": ALICE,
                                      "inReplyTo": f"{ZED}/statuses/1", "to": [ZED]}
    # a second vote is refused and sends nothing
    with django_capture_on_commit_callbacks(execute=True):
        again = api_as(alice).post(f"/api/v1/polls/{status.poll.pk}/votes",
                                   json={"choices": [1]})
    assert again.status_code == 422 and len(posted(zed_inboxes)) == 2


def test_the_web_form_votes_in_a_remote_poll_too(
        zed_inboxes, zed_keys, zed_account, alice, django_capture_on_commit_callbacks):
    from django.test import Client

    from tests.federation.test_inbox import HOST

    send(create(question(1, [("Yes", 0), ("No", 0)])), zed_keys,
         django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    zed_inboxes.received.clear()
    client = Client(HTTP_HOST=HOST)
    client.force_login(alice.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/statuses/{status.pk}/vote", {"choice": ["1"]})
    ((_path, activity),) = posted(zed_inboxes)
    assert activity["object"]["name"] == "No"
    assert Poll.objects.get(pk=status.poll.pk).tallies == [0, 1]


def test_an_update_of_the_question_replaces_the_counts(
        zed_inboxes, zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    send(create(question(1, [("Tea", 1), ("Coffee", 0)], voters=1)), zed_keys,
         django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    with django_capture_on_commit_callbacks(execute=True):
        api_as(alice).post(f"/api/v1/polls/{status.poll.pk}/votes", json={"choices": [1]})
    assert Poll.objects.get(pk=status.poll.pk).tallies == [1, 1]
    # zed's server counted alice's vote and another one
    send(update(question(1, [("Tea", 2), ("Coffee", 1)], voters=3)), zed_keys,
         django_capture_on_commit_callbacks)
    poll = Poll.objects.get(pk=status.poll.pk)
    assert (poll.tallies, poll.votes_count, poll.voters_count) == ([2, 1], 3, 3)
    entity = api_as(alice).get(f"/api/v1/statuses/{status.pk}").json()
    assert [o["votes_count"] for o in entity["poll"]["options"]] == [2, 1]
    assert entity["poll"]["own_votes"] == [1]  # alice's vote is kept
    assert entity["edited_at"] is None  # counts are not an edit
    assert not status.edits.exists()


def test_an_update_of_the_question_by_another_actor_is_ignored(
        zed_keys, yan_keys, zed_account, yan, django_capture_on_commit_callbacks):
    send(create(question(1, [("Tea", 1), ("Coffee", 0)], voters=1)), zed_keys,
         django_capture_on_commit_callbacks)
    forged = question(1, [("Tea", 0), ("Coffee", 999)], voters=999)
    send(update(forged, actor=YAN), yan_keys, django_capture_on_commit_callbacks)
    send(update(forged | {"attributedTo": YAN}, actor=YAN), yan_keys,
         django_capture_on_commit_callbacks)
    poll = Poll.objects.get(status__uri=f"{ZED}/statuses/1")
    assert (poll.tallies, poll.voters_count) == ([1, 0], 1)


def test_a_malformed_update_changes_nothing(zed_keys, zed_account,
                                            django_capture_on_commit_callbacks):
    send(create(question(1, [("Tea", 1), ("Coffee", 0)], voters=1)), zed_keys,
         django_capture_on_commit_callbacks)
    send(update(note(1, type="Question", oneOf=[{"name": 1}])), zed_keys,
         django_capture_on_commit_callbacks)
    poll = Poll.objects.get(status__uri=f"{ZED}/statuses/1")
    assert (poll.options, poll.tallies) == (["Tea", "Coffee"], [1, 0])


def test_the_end_of_a_remote_poll_notifies_its_local_voters(
        zed_inboxes, zed_keys, zed_account, alice, bob, api_as,
        django_capture_on_commit_callbacks):
    send(create(question(1, [("Tea", 0), ("Coffee", 0)])), zed_keys,
         django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    with django_capture_on_commit_callbacks(execute=True):
        api_as(alice).post(f"/api/v1/polls/{status.poll.pk}/votes", json={"choices": [0]})
    assert not Notification.objects.filter(type="poll").exists()
    # zed's server closes the poll early: the end is handled at once
    closed = stamp(datetime.now(UTC) - timedelta(seconds=1))
    send(update(question(1, [("Tea", 4), ("Coffee", 2)], closed=closed) | {"endTime": closed}),
         zed_keys, django_capture_on_commit_callbacks)
    (notification,) = Notification.objects.filter(type="poll")
    assert (notification.account, notification.status_id) == (alice, status.pk)
    assert poll_ended(poll_id=status.poll.pk) == 0  # once


def test_a_remote_vote_in_a_local_poll_is_counted_once(
        zed_inboxes, zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    status = status_create(account=alice, text="Tea or coffee?",
                           poll=poll_spec(options=["Tea", "Coffee"], expires_in=600))
    send(create(vote_note(1, "Coffee", status)), zed_keys, django_capture_on_commit_callbacks)
    poll = Poll.objects.get(pk=status.poll.pk)
    assert (poll.tallies, poll.votes_count, poll.voters_count) == ([0, 1], 1, 1)
    assert list(PollVote.objects.values_list("account", "choice")) == [(zed_account.pk, 1)]
    assert Status.objects.count() == 1  # a vote is not a reply
    status.refresh_from_db()
    assert status.replies_count == 0
    # the same vote again, and another choice in a single-choice poll: refused
    send(create(vote_note(1, "Coffee", status)), zed_keys, django_capture_on_commit_callbacks)
    send(create(vote_note(2, "Tea", status)), zed_keys, django_capture_on_commit_callbacks)
    poll.refresh_from_db()
    assert (poll.tallies, poll.votes_count, poll.voters_count) == ([0, 1], 1, 1)
    entity = api_as(alice).get(f"/api/v1/statuses/{status.pk}").json()
    assert [o["votes_count"] for o in entity["poll"]["options"]] == [0, 1]


def test_a_local_poll_sends_its_new_counts_once_per_window(
        zed_inboxes, zed_keys, yan_keys, zed_account, yan, alice, settings,
        django_capture_on_commit_callbacks):
    # A backend that cannot defer sends the Update at once (RQ defers it to the
    # window's end: the test below).
    from tests.conftest import IMMEDIATE_TASKS

    settings.TASKS = IMMEDIATE_TASKS
    status = status_create(account=alice, text="Tea or coffee?",
                           poll=poll_spec(options=["Tea", "Coffee"], expires_in=600))
    zed_inboxes.received.clear()
    send(create(vote_note(1, "Tea", status)), zed_keys, django_capture_on_commit_callbacks)
    ((path, update_doc),) = posted(zed_inboxes)
    assert path == "/inbox"  # the voters' server, by its shared inbox
    assert update_doc["type"] == "Update" and update_doc["actor"] == ALICE
    obj = update_doc["object"]
    assert obj["id"] == f"{ALICE}/statuses/{status.pk}" and obj["type"] == "Question"
    assert [(o["name"], o["replies"]["totalItems"]) for o in obj["oneOf"]] == [
        ("Tea", 1), ("Coffee", 0)]
    assert obj["votersCount"] == 1
    # yan's vote comes within the window: no second Update now...
    send(create(vote_note(1, "Coffee", status, author=YAN), actor=YAN), yan_keys,
         django_capture_on_commit_callbacks)
    assert len(posted(zed_inboxes)) == 1
    assert Poll.objects.get(pk=status.poll.pk).tallies == [1, 1]
    # ...and the end sends the final counts, closed
    Poll.objects.filter(pk=status.poll.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        poll_ended(poll_id=status.poll.pk)
    (_p1, _first), (_p2, final) = posted(zed_inboxes)
    assert final["type"] == "Update" and final["id"] != update_doc["id"]
    assert [o["replies"]["totalItems"] for o in final["object"]["oneOf"]] == [1, 1]
    assert final["object"]["votersCount"] == 2 and "closed" in final["object"]


def test_a_remote_voter_adds_choices_one_by_one_in_a_multiple_choice_poll(
        zed_inboxes, zed_keys, zed_account, alice, django_capture_on_commit_callbacks):
    status = status_create(account=alice, text="Which?",
                           poll=poll_spec(options=["A", "B", "C"], expires_in=600,
                                          multiple=True))
    for number, name in ((1, "A"), (2, "C"), (3, "C")):
        send(create(vote_note(number, name, status)), zed_keys,
             django_capture_on_commit_callbacks)
    poll = Poll.objects.get(pk=status.poll.pk)
    assert (poll.tallies, poll.votes_count, poll.voters_count) == ([1, 0, 1], 2, 1)


def test_votes_that_break_the_rules_are_not_counted(
        zed_inboxes, zed_keys, yan_keys, zed_account, yan, alice,
        django_capture_on_commit_callbacks):
    status = status_create(account=alice, text="Tea or coffee?",
                           poll=poll_spec(options=["Tea", "Coffee"], expires_in=600))
    # an option that does not exist; a vote in zed's name sent by yan; a vote
    # whose id is on another host
    send(create(vote_note(1, "Juice", status)), zed_keys, django_capture_on_commit_callbacks)
    send(create(vote_note(2, "Tea", status), actor=YAN), yan_keys,
         django_capture_on_commit_callbacks)
    send(create(vote_note(3, "Tea", status) | {"id": "https://elsewhere.test/v/3"}),
         zed_keys, django_capture_on_commit_callbacks)
    assert not PollVote.objects.exists()
    # after the end
    Poll.objects.filter(pk=status.poll.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    send(create(vote_note(4, "Tea", status)), zed_keys, django_capture_on_commit_callbacks)
    assert not PollVote.objects.exists()
    assert Status.objects.count() == 1
    assert Poll.objects.get(pk=status.poll.pk).tallies == [0, 0]


def test_a_reply_with_content_to_a_poll_is_a_reply(
        zed_keys, zed_account, alice, django_capture_on_commit_callbacks):
    status = status_create(account=alice, text="Tea or coffee?",
                           poll=poll_spec(options=["Tea", "Coffee"], expires_in=600))
    reply = note(5, "<p>Tea, obviously</p>", inReplyTo=f"{ALICE}/statuses/{status.pk}",
                 name="Tea")
    send(create(reply), zed_keys, django_capture_on_commit_callbacks)
    assert Status.objects.get(uri=f"{ZED}/statuses/5").in_reply_to_id == status.pk
    assert not PollVote.objects.exists()


def test_the_question_we_serve_reads_back_as_the_same_poll():
    """Our own Question shape (serializers.question) is what the inbound parser
    reads: one format, both ways."""
    from tribune.federation.notes import question_poll

    document = json.loads(json.dumps(question(1, [("x", 2), ("y", 3)], kind="anyOf", voters=4)))
    poll = question_poll(document)
    assert poll is not None
    assert (poll.options, poll.tallies, poll.multiple, poll.voters_count) == (
        ("x", "y"), (2, 3), True, 4)
    assert stamp(poll.expires_at) == stamp(FUTURE)


def test_where_work_can_wait_the_update_goes_at_the_windows_end(
        zed_inboxes, zed_account, alice, bob, settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from tribune.federation.outbox import POLL_UPDATE_DELAY, poll_update_soon
    from tribune.federation.tasks import poll_update
    from tribune.statuses.polls import poll_vote

    status = status_create(account=alice, text="Tea or coffee?",
                           poll=poll_spec(options=["Tea", "Coffee"], expires_in=600))
    poll_vote(account=zed_account, poll=status.poll, choices=[0], adding=True)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default", "federation"]}}
    zed_inboxes.received.clear()
    before = timezone.now()
    assert poll_update_soon(poll_id=status.poll.pk) is True
    assert poll_update_soon(poll_id=status.poll.pk) is False  # the window is claimed
    (queued,) = DBTaskResult.objects.all()
    assert queued.queue_name == "federation"
    assert queued.args_kwargs["kwargs"] == {"poll_id": status.poll.pk}
    assert queued.run_after >= before + timedelta(seconds=POLL_UPDATE_DELAY)
    assert posted(zed_inboxes) == []  # nothing before the window's end
    poll_vote(account=bob, poll=status.poll, choices=[1])
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default", "federation"]}}
    with django_capture_on_commit_callbacks(execute=True):
        poll_update.call(poll_id=status.poll.pk)  # the window's end: both votes
    ((_path, sent),) = posted(zed_inboxes)
    assert [o["replies"]["totalItems"] for o in sent["object"]["oneOf"]] == [1, 1]


def _stored_question(zed_keys, capture, tallies) -> Poll:
    send(create(question(7, [("Tea", tallies[0]), ("Coffee", tallies[1])])), zed_keys, capture)
    return Poll.objects.get(status__uri=f"{ZED}/statuses/7")


def _fetches(peer) -> int:
    return sum(1 for r in peer.received if r.method == "GET" and r.path == "/users/zed/statuses/7")


def test_reading_a_stale_remote_poll_fetches_its_counts_again(
        zed, zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    poll = _stored_question(zed_keys, django_capture_on_commit_callbacks, (3, 1))
    assert poll.last_fetched_at is not None
    zed.json("/users/zed/statuses/7", question(7, [("Tea", 5), ("Coffee", 2)], voters=7))
    url = f"/api/v1/polls/{poll.pk}"

    # Read a moment ago: not stale, nothing fetched.
    with django_capture_on_commit_callbacks(execute=True):
        assert api_as(alice).get(url).json()["votes_count"] == 4
    assert _fetches(zed) == 0

    # Read two minutes ago: a signed-in reader has it fetched (visitors do not).
    Poll.objects.filter(pk=poll.pk).update(last_fetched_at=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        api_as(None).get(url)
    assert _fetches(zed) == 0
    with django_capture_on_commit_callbacks(execute=True):
        first = api_as(alice).get(url).json()
    assert first["votes_count"] == 4  # this answer has what was known
    assert _fetches(zed) == 1
    fresh = api_as(alice).get(url).json()
    assert [(o["title"], o["votes_count"]) for o in fresh["options"]] == [("Tea", 5), ("Coffee", 2)]
    assert fresh["voters_count"] == 7
    with django_capture_on_commit_callbacks(execute=True):
        api_as(alice).get(url)
    assert _fetches(zed) == 1  # read just now: not again


def test_a_poll_read_after_its_end_is_not_fetched_again(
        zed, zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    poll = _stored_question(zed_keys, django_capture_on_commit_callbacks, (3, 1))
    ended = timezone.now() - timedelta(hours=1)
    Poll.objects.filter(pk=poll.pk).update(expires_at=ended,
                                           last_fetched_at=ended + timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        api_as(alice).get(f"/api/v1/polls/{poll.pk}")
    assert _fetches(zed) == 0


def test_a_refetch_answered_with_another_object_changes_nothing(
        zed, zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    poll = _stored_question(zed_keys, django_capture_on_commit_callbacks, (3, 1))
    Poll.objects.filter(pk=poll.pk).update(last_fetched_at=timezone.now() - timedelta(minutes=2))
    zed.json("/users/zed/statuses/7", question(8, [("Tea", 99), ("Coffee", 99)]))
    with django_capture_on_commit_callbacks(execute=True):
        api_as(alice).get(f"/api/v1/polls/{poll.pk}")
    assert _fetches(zed) == 1
    poll.refresh_from_db()
    assert poll.tallies == [3, 1]
