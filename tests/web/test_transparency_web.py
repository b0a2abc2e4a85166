"""The public transparency page and its JSON."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tests.moderation.transparency_data import build
from tribune.moderation.transparency import FORMAT_VERSION

pytestmark = pytest.mark.django_db(transaction=True)


def client() -> Client:
    return Client(HTTP_HOST="localhost")


def test_the_year_to_date_as_tables(make_account):
    build(make_account)
    response = client().get("/about/transparency")
    assert response.status_code == 200
    page = response.content.decode()
    year = timezone.now().year
    assert f"{year}-01-01 to" in page
    assert "<caption>" in page and '<th scope="col">' in page and '<th scope="row">' in page
    assert "No harassment" in page  # notices by rule
    assert 'href="/about/transparency.json?from=' in page
    assert 'name="from"' in page and 'name="to"' in page
    assert 'href="/about/transparency"' in client().get("/about").content.decode()


def test_the_json_is_the_report(make_account):
    build(make_account)
    response = client().get("/about/transparency.json")
    assert response.status_code == 200
    report = response.json()
    assert report["format_version"] == FORMAT_VERSION
    assert report["actions"]["total"] == 5
    assert report["period"]["start"] == f"{timezone.now().year}-01-01"
    empty = client().get("/about/transparency.json", {"from": "2020-01-01", "to": "2020-02-01"})
    assert empty.json()["actions"]["total"] == 0


@pytest.mark.parametrize("query", [
    {"from": "not-a-date"}, {"from": "2025-02-30"}, {"to": "31/12/2025"},
    {"from": "2025-03-01", "to": "2025-02-01"}, {"from": "99999-01-01"},
])
def test_a_bad_period_shows_the_default_with_an_error(db, query):
    response = client().get("/about/transparency", query)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{timezone.now().year}-01-01 to" in page
    assert 'class="errorlist' in page
    assert client().get("/about/transparency.json", query).status_code == 400


def test_a_chosen_period(db):
    page = client().get("/about/transparency", {"from": "2024-01-01", "to": "2025-01-01"})
    assert "2024-01-01 to 2024-12-31" in page.content.decode()
