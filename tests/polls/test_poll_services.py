"""Polls through their services: Mastodon's rules for making one with a status,
voting once, the counts, and an edit that changes the options."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tribune.core.errors import NotFound, ValidationFailed
from tribune.graph.services import follow_create
from tribune.statuses.models import Poll, PollVote, Status
from tribune.statuses.polls import poll_spec, poll_vote
from tribune.statuses.services import status_create, status_update

pytestmark = pytest.mark.django_db


def spec(options=("Tea", "Coffee"), expires_in=3600, **kwargs):
    return poll_spec(options=list(options), expires_in=expires_in, **kwargs)


def test_a_status_is_created_with_its_poll(alice):
    before = timezone.now()
    status = status_create(account=alice, text="Which one?",
                           poll=spec(("Tea", "Coffee", "Water"), 600, multiple="true",
                                     hide_totals="1"))
    poll = Poll.objects.get(status=status)
    assert poll.options == ["Tea", "Coffee", "Water"]
    assert poll.tallies == [0, 0, 0]
    assert (poll.multiple, poll.hide_totals) == (True, True)
    assert (poll.votes_count, poll.voters_count) == (0, 0)
    assert before + timedelta(seconds=600) <= poll.expires_at <= timezone.now() + timedelta(seconds=600)


@pytest.mark.parametrize(("options", "expires_in", "message"), [
    (["Only one"], 600, "at least 2 options"),
    (["a", "b", "c", "d", "e"], 600, "more than 4 options"),
    (["a", "x" * 51], 600, "longer than 50 characters"),
    (["a", "  "], 600, "cannot be blank"),
    (["Same", "same"], 600, "duplicate"),
    (["a", "b"], 299, "too short"),
    (["a", "b"], 2629747, "too long"),
    (["a", "b"], "soon", "number of seconds"),
    (["a", "b"], None, "number of seconds"),
    ("a,b", 600, "list of texts"),
])
def test_a_bad_poll_is_refused(options, expires_in, message):
    with pytest.raises(ValidationFailed, match=message):
        poll_spec(options=options, expires_in=expires_in)


def test_limits_are_accepted_at_their_edges(alice):
    poll_spec(options=["a", "b", "c", "x" * 50], expires_in=300)
    poll_spec(options=["a", "b"], expires_in="2629746")


def test_a_poll_with_media_is_refused_and_nothing_is_written(alice):
    with pytest.raises(ValidationFailed, match="cannot have media"):
        status_create(account=alice, text="Both", media_ids=["1234"], poll=spec())
    assert not Status.objects.exists()
    assert not Poll.objects.exists()


def test_single_choice_vote_counts_once(alice, bob, carol):
    status = status_create(account=alice, text="?", poll=spec(("Tea", "Coffee", "Water")))
    poll = status.poll
    poll_vote(account=bob, poll=poll, choices=[1])
    poll_vote(account=carol, poll=Poll.objects.get(pk=poll.pk), choices=["1"])
    poll.refresh_from_db()
    assert poll.tallies == [0, 2, 0]
    assert (poll.votes_count, poll.voters_count) == (2, 2)
    with pytest.raises(ValidationFailed, match="already voted"):
        poll_vote(account=bob, poll=poll, choices=[0])
    assert PollVote.objects.filter(account=bob).count() == 1


def test_multiple_choice_counts_votes_and_voters(alice, bob, carol):
    status = status_create(account=alice, text="?", poll=spec(("a", "b", "c"), multiple=True))
    poll = status.poll
    poll_vote(account=bob, poll=poll, choices=[0, 2, 2])  # a repeated index counts once
    poll_vote(account=carol, poll=poll, choices=[2])
    poll.refresh_from_db()
    assert poll.tallies == [1, 0, 2]
    assert (poll.votes_count, poll.voters_count) == (3, 2)


@pytest.mark.parametrize(("choices", "message"), [
    ([], "Choices can't be blank"),
    ([2], "option does not exist"),
    ([-1], "option does not exist"),
    (["first"], "option does not exist"),
    ([0, 1], "only one choice"),
])
def test_invalid_choices_are_refused(alice, bob, choices, message):
    poll = status_create(account=alice, text="?", poll=spec()).poll
    with pytest.raises(ValidationFailed, match=message):
        poll_vote(account=bob, poll=poll, choices=choices)
    assert not PollVote.objects.exists()


def test_own_and_ended_polls_are_refused(alice, bob):
    poll = status_create(account=alice, text="?", poll=spec()).poll
    with pytest.raises(ValidationFailed, match="your own polls"):
        poll_vote(account=alice, poll=poll, choices=[0])
    Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationFailed, match="already ended"):
        poll_vote(account=bob, poll=poll, choices=[0])
    assert not PollVote.objects.exists()


def test_a_poll_one_cannot_see_is_not_found(alice, bob, carol):
    poll = status_create(account=alice, text="?", visibility="private", poll=spec()).poll
    with pytest.raises(NotFound):
        poll_vote(account=bob, poll=poll, choices=[0])
    follow_create(account=bob, target=alice)
    poll_vote(account=bob, poll=poll, choices=[0])


def test_a_vote_renews_the_status_version(alice, bob):
    status = status_create(account=alice, text="?", poll=spec())
    before = Status.objects.get(pk=status.pk).version
    poll_vote(account=bob, poll=status.poll, choices=[0])
    assert Status.objects.get(pk=status.pk).version != before


def test_editing_the_options_resets_the_votes(alice, bob):
    status = status_create(account=alice, text="?", poll=spec(("a", "b")))
    poll_vote(account=bob, poll=status.poll, choices=[1])
    # Same options, other duration: the votes stay.
    status_update(account=alice, status=status, text="? (longer)", poll=spec(("a", "b"), 7200))
    poll = Poll.objects.get(status=status)
    assert (poll.tallies, poll.votes_count) == ([0, 1], 1)
    assert poll.expires_at > timezone.now() + timedelta(seconds=7000)
    # Other options: every vote is dropped.
    status_update(account=alice, status=status, text="?", poll=spec(("a", "b", "c")))
    poll = Poll.objects.get(status=status)
    assert (poll.options, poll.tallies, poll.votes_count, poll.voters_count) == (
        ["a", "b", "c"], [0, 0, 0], 0, 0)
    assert not PollVote.objects.exists()
    poll_vote(account=bob, poll=poll, choices=[2])
    # Without a poll the edit leaves it; with None it removes it.
    status_update(account=alice, status=status, text="? again")
    assert Poll.objects.get(status=status).tallies == [0, 0, 1]
    status_update(account=alice, status=status, text="no poll", poll=None)
    assert not Poll.objects.filter(status=status).exists()
    assert not PollVote.objects.exists()


def test_deleting_the_status_deletes_its_poll_and_votes(alice, bob):
    from tribune.statuses.services import status_delete

    status = status_create(account=alice, text="?", poll=spec())
    poll_vote(account=bob, poll=status.poll, choices=[0])
    status_delete(account=alice, status=status)
    assert not Poll.objects.exists()
    assert not PollVote.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_voters_at_once_are_both_counted(make_account):
    """Both voters read the poll before either writes (the ``interleaved`` race of
    tests/domain/test_counters.py): the second vote's transaction starts only after
    the first has committed, with a poll row read before it."""
    from tests.domain.test_counters import interleaved

    author, first, second = make_account(), make_account(), make_account()
    status_id = status_create(account=author, text="?", poll=spec(("a", "b"))).pk
    seen_by_first = Poll.objects.select_related("status").get(status_id=status_id)
    seen_by_second = Poll.objects.select_related("status").get(status_id=status_id)
    with interleaved(lambda: poll_vote(account=second, poll=seen_by_second, choices=[1])) as other:
        poll_vote(account=first, poll=seen_by_first, choices=[0])
    assert other.error is None
    poll = Poll.objects.get(status_id=status_id)
    assert (poll.tallies, poll.votes_count, poll.voters_count) == ([1, 1], 2, 2)
