"""Polls in the server-rendered interface: the compose box's poll (no JavaScript
needed), voting with and without htmx, the results, and the end-of-poll
notification on the notifications page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.web.test_interface import HTMX, client_for, query_count
from tribune.effects import poll_ended
from tribune.statuses.models import Poll, PollVote, Status
from tribune.statuses.polls import poll_spec, poll_vote
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db(transaction=True)


def _poll_status(author, options=("Tea", "Coffee", "Water"), **kwargs):
    return status_create(account=author, text="Which one?",
                         poll=poll_spec(options=list(options), expires_in=3600, **kwargs))


def test_compose_with_a_poll(bob):
    client = client_for(bob)
    html = client.get("/").content.decode()
    assert "Add a poll" in html
    assert 'name="poll_option_4"' in html and 'name="poll_duration"' in html
    response = client.post("/statuses", {
        "text": "Lunch?", "visibility": "public", "poll_option_1": "Soup",
        "poll_option_2": " ", "poll_option_3": "Salad", "poll_duration": "1800",
        "poll_multiple": "on"}, HTTP_REFERER="http://localhost/")
    assert response.status_code == 303
    poll = Poll.objects.get(status__account=bob)
    assert (poll.options, poll.multiple) == (["Soup", "Salad"], True)
    assert timedelta(seconds=1790) < poll.expires_at - poll.created_at <= timedelta(seconds=1800)


def test_a_poll_of_one_choice_comes_back_with_its_error(bob):
    response = client_for(bob).post("/statuses", {
        "text": "Lunch?", "visibility": "public", "poll_option_1": "Soup",
        "poll_duration": "3600"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "at least 2 options" in html
    assert re.search(r'<details class="compose-poll" open>', html)
    assert not Status.objects.exists()


def test_vote_without_javascript_then_see_results(alice, bob, carol):
    status = _poll_status(alice)
    poll_vote(account=carol, poll=status.poll, choices=[2])
    client = client_for(bob)
    page = client.get(f"/@alice/{status.pk}").content.decode()
    assert 'type="radio" name="choice" value="1"' in page
    assert "Vote" in page and "Closes in" in page
    response = client.post(f"/statuses/{status.pk}/vote", {"choice": "1"},
                           HTTP_REFERER=f"http://localhost/@alice/{status.pk}")
    assert response.status_code == 303
    assert list(PollVote.objects.filter(account=bob).values_list("choice", flat=True)) == [1]
    page = client.get(f"/@alice/{status.pk}").content.decode()
    assert 'name="choice"' not in page
    # Two voters, one each for Coffee and Water: 0%, 50%, 50%.
    assert re.findall(r'<span class="poll-percent">(\d+)%</span>', page) == ["0", "50", "50"]
    assert "2 people" in page
    assert "your vote" in page


def test_vote_with_htmx_answers_the_results_in_place(alice, bob):
    status = _poll_status(alice, multiple=True)
    response = client_for(bob).post(f"/statuses/{status.pk}/vote", {"choice": ["0", "2"]}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="poll"')
    assert re.findall(r'<span class="poll-percent">(\d+)%</span>', html) == ["100", "0", "100"]
    assert "1 person" in html


def test_a_refused_vote_says_why(alice, bob):
    status = _poll_status(alice)
    client = client_for(bob)
    no_choice = client.post(f"/statuses/{status.pk}/vote", {}, **HTMX)
    assert no_choice.status_code == 422
    assert "Choices can&#x27;t be blank" in no_choice.content.decode()
    Poll.objects.filter(pk=status.poll.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    late = client.post(f"/statuses/{status.pk}/vote", {"choice": "0"})
    assert late.status_code == 422
    assert "already ended" in late.content.decode()
    assert client.post("/statuses/123/vote", {"choice": "0"}).status_code == 404
    assert not PollVote.objects.exists()


def test_hidden_totals_and_the_end(alice, bob, carol):
    status = _poll_status(alice, hide_totals=True)
    poll_vote(account=carol, poll=status.poll, choices=[0])
    client = client_for(bob)
    client.post(f"/statuses/{status.pk}/vote", {"choice": "1"})
    page = client.get(f"/@alice/{status.pk}").content.decode()
    assert "Results are hidden until the poll ends." in page
    assert "poll-percent" not in page
    own = client_for(alice).get(f"/@alice/{status.pk}").content.decode()
    assert re.findall(r'<span class="poll-percent">(\d+)%</span>', own) == ["50", "50", "0"]
    Poll.objects.filter(pk=status.poll.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    ended = client.get(f"/@alice/{status.pk}").content.decode()
    assert "Closed" in ended
    assert re.findall(r'<span class="poll-percent">(\d+)%</span>', ended) == ["50", "50", "0"]


def test_the_end_of_a_poll_in_the_notifications_page(alice, bob):
    status = _poll_status(alice)
    poll_vote(account=bob, poll=status.poll, choices=[0])
    Poll.objects.filter(pk=status.poll.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert poll_ended(poll_id=status.poll.pk) == 2
    voter = client_for(bob).get("/notifications").content.decode()
    assert "A poll by Alice that you voted in has ended." in voter
    assert "Which one?" in voter
    author = client_for(alice).get("/notifications").content.decode()
    assert "Your poll has ended." in author


def test_a_page_of_polls_runs_constant_queries(alice, bob, carol):
    from tribune.graph.services import follow_create

    follow_create(account=bob, target=alice)
    client = client_for(bob)

    def add(n):
        for _ in range(n):
            status = _poll_status(alice)
            poll_vote(account=carol, poll=status.poll, choices=[1])
            poll_vote(account=bob, poll=status.poll, choices=[0])

    add(2)
    client.get("/")
    small = query_count(client, "/")
    add(10)
    client.get("/")
    large = query_count(client, "/")
    assert small == large, (small, large)
