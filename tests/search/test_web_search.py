"""The search page of the web interface, and the setting that lets one's public
posts be found."""

from __future__ import annotations

import re

from django.test import Client

from tribune.accounts.services import account_update
from tribune.statuses.services import status_create


def signed_in(account) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(account.user)
    return client


def test_results_in_three_sections_each_linking_to_its_page(alice, bob):
    account_update(account=bob, indexable=True)
    post = status_create(account=bob, text="Bob watches #birds at the Étang")
    page = signed_in(alice).get("/search", {"q": "bob"})
    html = page.content.decode()
    assert page.status_code == 200
    for heading in ("People", "Hashtags", "Posts"):
        assert re.search(rf"<h2 id=\"search-\w+\">{heading}</h2>", html), heading
    assert 'href="/@bob"' in html
    assert f'href="/@bob/{post.pk}"' in html  # "bob" is also a word of the post
    tags = signed_in(alice).get("/search", {"q": "#bir"}).content.decode()
    assert 'href="/tags/birds"' in tags
    etang = signed_in(alice).get("/search", {"q": "etang"}).content.decode()
    assert f'href="/@bob/{post.pk}"' in etang


def test_the_search_box_is_in_every_pages_header(alice):
    html = signed_in(alice).get("/").content.decode()
    assert re.search(r'<form class="site-search" role="search" method="get" '
                     r'action="/search">', html)
    assert '<label for="site-search-q"' in html


def test_visitors_find_people_but_are_asked_to_sign_in_for_posts(alice, bob):
    account_update(account=bob, indexable=True)
    status_create(account=bob, text="bob again")
    page = Client(HTTP_HOST="localhost").get("/search", {"q": "bob"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'href="/@bob"' in html
    assert "/auth/sign_in" in html and "to search posts." in html
    assert "article class=\"status" not in html


def test_posts_page_by_offset(alice):
    posts = [status_create(account=alice, text=f"heron {i}") for i in range(25)]
    client = signed_in(alice)
    first = client.get("/search", {"q": "heron"}).content.decode()
    shown = re.findall(r'href="/@alice/(\d+)"', first)
    assert list(dict.fromkeys(shown)) == [str(p.pk) for p in reversed(posts)][:20]
    assert "/search?q=heron&amp;offset=20" in first
    rest = client.get("/search", {"q": "heron", "offset": "20"}).content.decode()
    assert list(dict.fromkeys(re.findall(r'href="/@alice/(\d+)"', rest))) == [
        str(p.pk) for p in reversed(posts)][20:]
    for bad in ("-5", "abc", "99999999999999999999"):
        assert client.get("/search", {"q": "heron", "offset": bad}).status_code == 200


def test_hostile_queries_give_a_page(alice):
    client = signed_in(alice)
    for q in ('"', "NEAR(", "*", "AND OR", "x" * 3000, "a\x00b", ""):
        assert client.get("/search", {"q": q}).status_code in (200, 400), q


def test_indexable_is_a_profile_setting(alice):
    client = signed_in(alice)
    assert 'name="indexable"' in client.get("/settings/profile").content.decode()
    response = client.post("/settings/profile", {"display_name": "Alice", "note": "",
                                                 "indexable": "on", "discoverable": "on"})
    assert response.status_code == 303
    alice.refresh_from_db()
    assert (alice.indexable, alice.discoverable) == (True, True)
    client.post("/settings/profile", {"display_name": "Alice", "note": ""})
    alice.refresh_from_db()
    assert (alice.indexable, alice.discoverable) == (False, False)
