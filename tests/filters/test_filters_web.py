"""Filters in the web interface: the settings page (muted words, a filter with
keywords, editing, deleting) and the filters applied to the home timeline, a
profile, a thread and the notifications (hidden posts left out, warned ones
collapsed behind the filter's title, without JavaScript)."""

from __future__ import annotations

import re

import pytest

from tests.web.test_interface import client_for, query_count
from tribune.filters import services
from tribune.filters.models import Filter, FilterKeyword
from tribune.graph.services import follow_create
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db(transaction=True)


def test_settings_page_mutes_words_and_edits_filters(alice):
    client = client_for(alice)
    assert client.get("/settings/filters").status_code == 200
    r = client.post(
        "/settings/filters",
        {"form": "muted", "muted-word": "Ferrets", "muted-whole_word": "on"},
    )
    assert r.status_code == 303
    muted = Filter.objects.get(account=alice)
    assert (muted.title, muted.filter_action, len(muted.context)) == (
        "Ferrets",
        "hide",
        5,
    )
    r = client.post(
        "/settings/filters",
        {
            "form": "filter",
            "filter-title": "Weather",
            "filter-context": ["home", "thread"],
            "filter-filter_action": "warn",
            "filter-expires_in": "3600",
            "filter-keywords": "rain\n\n  hail \n",
        },
    )
    assert r.status_code == 303
    weather = Filter.objects.get(account=alice, title="Weather")
    assert weather.expires_at is not None
    assert sorted(weather.keywords.values_list("keyword", "whole_word")) == [
        ("hail", False),
        ("rain", False),
    ]
    page = client.get("/settings/filters").content.decode()
    assert "Ferrets" in page and "hail" in page

    rain = weather.keywords.get(keyword="rain")
    r = client.post(
        f"/settings/filters/{weather.pk}",
        {
            "form": "filter",
            "filter-title": "Sky",
            "filter-context": ["public"],
            "filter-filter_action": "hide",
            "filter-expires_in": "keep",
            "filter-remove": [str(rain.pk)],
            "filter-keywords": "snow",
            "filter-whole_word": "on",
        },
    )
    assert r.status_code == 303
    weather.refresh_from_db()
    assert (weather.title, weather.context, weather.filter_action) == (
        "Sky",
        ["public"],
        "hide",
    )
    assert weather.expires_at is not None  # kept
    assert sorted(weather.keywords.values_list("keyword", "whole_word")) == [
        ("hail", False),
        ("snow", True),
    ]

    # A form error: no context.
    r = client.post(
        "/settings/filters",
        {"form": "filter", "filter-title": "X", "filter-filter_action": "warn"},
    )
    assert r.status_code == 422
    assert (
        client_for(alice).post(f"/settings/filters/{weather.pk}/delete").status_code
        == 303
    )
    assert not Filter.objects.filter(pk=weather.pk).exists()
    assert not FilterKeyword.objects.filter(filter_id=weather.pk).exists()


def test_other_people_cannot_reach_a_filter(alice, bob):
    found = services.muted_word_create(account=alice, word="x")
    assert client_for(bob).get(f"/settings/filters/{found.pk}").status_code == 404
    assert (
        client_for(bob).post(f"/settings/filters/{found.pk}/delete").status_code == 404
    )
    assert Filter.objects.filter(pk=found.pk).exists()


def _article(html: str, status_id: int) -> str | None:
    match = re.search(rf'<article[^>]*id="status-{status_id}".*?</article>', html, re.S)
    return match.group(0) if match else None


def test_feeds_hide_and_warn(alice, bob):
    follow_create(account=alice, target=bob)
    calm = status_create(account=bob, text="A calm day")
    muted = status_create(account=bob, text="All about ferrets today")
    warned = status_create(account=bob, text="Heavy rain expected")
    services.muted_word_create(account=alice, word="ferrets")
    services.filter_create(
        account=alice,
        title="Weather",
        context=["home", "account"],
        keywords_attributes=[{"keyword": "rain"}],
    )
    client = client_for(alice)
    for path in ("/", "/@bob"):
        html = client.get(path).content.decode()
        assert _article(html, muted.pk) is None, path
        assert "Filtered: Weather" not in (_article(html, calm.pk) or "x")
        warned_html = _article(html, warned.pk)
        assert re.search(
            r'<details class="filtered"><summary>.*Filtered: Weather', warned_html, re.S
        ), path
    # bob sees his own posts as they are.
    assert _article(client_for(bob).get("/@bob").content.decode(), muted.pk) is not None


def test_thread_and_notifications(alice, bob):
    root = status_create(account=alice, text="How was the trip?")
    reply = status_create(
        account=bob, text="@alice ferrets everywhere", in_reply_to_id=root.pk
    )
    client = client_for(alice)
    assert "ferrets everywhere" in client.get("/notifications").content.decode()
    services.muted_word_create(account=alice, word="ferrets")
    assert "ferrets everywhere" not in client.get("/notifications").content.decode()
    thread = client.get(f"/@alice/{root.pk}").content.decode()
    assert _article(thread, reply.pk) is None
    # The post asked for is shown even when a filter hides it elsewhere.
    focus = client.get(f"/@bob/{reply.pk}").content.decode()
    assert "ferrets everywhere" in focus


def test_filtered_home_page_runs_constant_queries(alice, bob):
    follow_create(account=alice, target=bob)
    services.filter_create(
        account=alice,
        title="W",
        context=["home"],
        keywords_attributes=[{"keyword": "word"}, {"keyword": "nope"}],
    )
    services.muted_word_create(account=alice, word="never")
    client = client_for(alice)
    for i in range(2):
        status_create(account=bob, text=f"a word {i}")
    client.get("/")
    small = query_count(client, "/")
    for i in range(5):
        status_create(account=bob, text=f"another word {i}")
    client.get("/")
    assert query_count(client, "/") == small
