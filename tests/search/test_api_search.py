"""Full-text search over statuses through /api/v2/search (and v1): matching, ranking,
paging, who finds what, edits and deletions, operators and hostile input. Every
response is checked against the Mastodon OpenAPI schema by ``tests.conftest.Api``;
the expected ids come from the statuses each test makes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tribune.accounts.services import account_update
from tribune.graph.services import block_create, mute_create
from tribune.statuses.polls import poll_spec, poll_vote
from tribune.statuses.services import (
    bookmark_create,
    favourite_create,
    reblog_create,
    status_create,
    status_delete,
    status_update,
)


def post(account, text, **kwargs):
    return status_create(account=account, text=text, **kwargs)


def found(api, q, **params):
    """The ids of the statuses ``q`` finds, checking the response is a 200."""
    r = api.get("/api/v2/search", {"q": q, "type": "statuses", **params})
    assert r.status_code == 200, r.content
    return [s["id"] for s in r.json()["statuses"]]


def ids(*statuses):
    return [str(s.pk) for s in statuses]


@pytest.fixture
def indexable(make_account):
    """Bob, who lets his public posts be found (``indexable``)."""
    bob = make_account("bob", display_name="Bob")
    return account_update(account=bob, indexable=True)


def test_case_and_accents_are_folded_in_french_and_english(alice, indexable, api_as):
    elysee = post(indexable, "Visite de l'Élysée ce matin")
    naive = post(indexable, "A NAÏVE question about the café")
    plain = post(indexable, "Nothing to see here")
    api = api_as(alice)
    for q in ("elysee", "ÉLYSÉE", "Élysée", "élysée", "ELYSEE"):
        assert found(api, q) == ids(elysee), q
    for q in ("naive", "NAÏVE", "Naïve", "naïve"):
        assert found(api, q) == ids(naive), q
    assert found(api, "CAFE") == found(api, "café") == ids(naive)
    assert found(api, "nothing SEE") == ids(plain)
    assert found(api, "l'élysée") == ids(elysee)  # a phrase of "l" and "elysee"


def test_spoiler_text_is_searched_too(alice, indexable, api_as):
    warned = post(indexable, "the match tonight", spoiler_text="Spoilers: Référendum")
    assert found(api_as(alice), "referendum") == ids(warned)


def test_ranked_by_relevance_then_newest_first(alice, indexable, api_as):
    once = post(indexable, "an owl among many other words about a long walk in the woods")
    thrice = post(indexable, "owl owl owl")
    older_twin = post(indexable, "a heron")
    newer_twin = post(indexable, "a heron")
    api = api_as(alice)
    assert found(api, "owl") == ids(thrice, once)
    assert found(api, "heron") == ids(newer_twin, older_twin)


def test_phrases_and_excluded_words(alice, indexable, api_as):
    red_kite = post(indexable, "a red kite over the hill")
    kite_red = post(indexable, "the kite was red")
    api = api_as(alice)
    assert found(api, '"red kite"') == ids(red_kite)
    assert set(found(api, "red kite")) == set(ids(red_kite, kite_red))
    assert found(api, "kite -hill") == ids(kite_red)
    assert found(api, "-kite") == []  # nothing but an exclusion finds nothing


def test_pages_by_offset_and_limit_with_a_type(alice, indexable, api_as):
    sparrows = [post(indexable, "sparrow") for _ in range(5)]
    newest_first = ids(*reversed(sparrows))
    api = api_as(alice)
    assert found(api, "sparrow") == newest_first
    assert found(api, "sparrow", limit=2) == newest_first[:2]
    assert found(api, "sparrow", limit=2, offset=2) == newest_first[2:4]
    assert found(api, "sparrow", limit=2, offset=4) == newest_first[4:]
    assert found(api, "sparrow", offset=5) == []
    assert found(api, "sparrow", limit=100) == newest_first  # capped at 40, not refused
    # Without a type, offset is ignored (Mastodon's SearchService).
    r = api.get("/api/v2/search", {"q": "sparrow", "limit": 2, "offset": 2})
    assert [s["id"] for s in r.json()["statuses"]] == newest_first[:2]


def test_max_id_and_min_id_bound_the_statuses_found(alice, indexable, api_as):
    sparrows = [post(indexable, "sparrow") for _ in range(5)]
    newest_first = ids(*reversed(sparrows))
    api = api_as(alice)
    assert found(api, "sparrow", limit=2, max_id=newest_first[1]) == newest_first[2:4]
    assert found(api, "sparrow", min_id=newest_first[2]) == newest_first[:2]
    assert found(api, "sparrow", max_id=newest_first[0], min_id=newest_first[3]) == \
        newest_first[1:3]
    assert found(api, "sparrow", max_id="not-an-id") == newest_first  # ignored


def test_who_may_find_what(alice, indexable, make_account, api_as):
    carol = make_account("carol")  # not indexable (the default)
    dave, erin, frank = (account_update(account=make_account(name), indexable=True)
                         for name in ("dave", "erin", "frank"))
    own_private = post(alice, "kestrel of mine", visibility="private")
    bob_public = post(indexable, "kestrel in public")
    post(indexable, "kestrel unlisted", visibility="unlisted")
    post(indexable, "kestrel for followers", visibility="private")
    to_carol = post(indexable, "kestrel for @carol", visibility="direct")
    carols = post(carol, "kestrel by carol, not indexable")
    favourited = post(carol, "kestrel favourited")
    bookmarked = post(carol, "kestrel bookmarked")
    boosted = post(carol, "kestrel boosted")
    mentioning = post(carol, "kestrel for @alice", visibility="direct")
    voted = post(carol, "kestrel or falcon?",
                 poll=poll_spec(options=["kestrel", "falcon"], expires_in=3600))
    poll_vote(account=alice, poll=voted.poll, choices=[0])
    favourite_create(account=alice, status=favourited)
    bookmark_create(account=alice, status=bookmarked)
    reblog_create(account=alice, status=boosted)
    hidden_from_alice = [post(dave, "kestrel by someone alice blocks"),
                         post(erin, "kestrel by someone who blocks alice"),
                         post(frank, "kestrel by someone alice mutes")]
    block_create(account=alice, target=dave)
    block_create(account=erin, target=alice)
    mute_create(account=alice, target=frank)

    # Ranks differ with the texts: compare what is found, not the order.
    expected = ids(mentioning, boosted, bookmarked, favourited, voted, bob_public, own_private)
    assert sorted(found(api_as(alice), "kestrel", limit=40)) == sorted(expected)
    # A visitor finds accounts and hashtags, never statuses.
    r = api_as(None).get("/api/v2/search", {"q": "kestrel"})
    assert (r.status_code, r.json()["statuses"]) == (200, [])
    # Carol finds her own posts, the indexable public ones and the one mentioning her.
    assert sorted(found(api_as(carol), "kestrel", limit=40)) == sorted(
        ids(carols, mentioning, boosted, bookmarked, favourited, voted, bob_public, to_carol,
            *hidden_from_alice))


def test_indexable_is_a_choice_of_the_author(alice, make_account, api_as):
    bob = make_account("bob")
    public = post(bob, "a grebe on the lake")
    api = api_as(alice)
    assert found(api, "grebe") == []
    r = api_as(bob).patch("/api/v1/accounts/update_credentials", json={"indexable": True})
    assert (r.status_code, r.json()["indexable"]) == (200, True)
    assert found(api, "grebe") == ids(public)


def test_edits_and_deletions_are_reflected(alice, indexable, api_as):
    status = post(indexable, "a puffin on the cliff")
    api = api_as(alice)
    assert found(api, "puffin") == ids(status)
    status_update(account=indexable, status=status, text="a gannet on the cliff")
    assert (found(api, "puffin"), found(api, "gannet")) == ([], ids(status))
    status_update(account=indexable, status=status, text="a gannet on the cliff",
                  spoiler_text="seabirds")
    assert found(api, "seabirds") == ids(status)
    status_delete(account=indexable, status=status)
    assert (found(api, "gannet"), found(api, "seabirds"), found(api, "cliff")) == ([], [], [])


def test_operators(alice, indexable, make_account, api_as):
    dave = account_update(account=make_account("dave"), indexable=True)
    # The same text for all: equal ranks, so newest first.
    old = post(indexable, "swift", created_at=datetime(2024, 3, 1, 12, tzinfo=UTC))
    recent = post(indexable, "swift")
    reply = post(dave, "swift", in_reply_to_id=recent.pk)
    mine = post(alice, "swift")
    api = api_as(alice)
    assert found(api, "swift from:bob") == ids(recent, old)
    assert found(api, "swift from:@dave") == ids(reply)
    assert found(api, "swift from:me") == ids(mine)
    assert found(api, "swift from:nobody") == []
    assert found(api, "swift is:reply") == ids(reply)
    assert found(api, "swift before:2024-03-02") == ids(old)
    assert found(api, "swift after:2024-03-01") == ids(mine, reply, recent)
    assert found(api, "swift during:2024-03-01") == ids(old)
    assert found(api, "swift after:not-a-date") == ids(mine, reply, recent, old)
    assert found(api, "swift has:media") == []


def test_account_id_keeps_one_authors_statuses(alice, indexable, make_account, api_as):
    dave = account_update(account=make_account("dave"), indexable=True)
    bobs = post(indexable, "a wren")
    post(dave, "a wren")
    api = api_as(alice)
    assert found(api, "wren", account_id=str(indexable.pk)) == ids(bobs)
    assert found(api, "wren", account_id="not-an-id") == []
    assert found(api, "wren", account_id="99999999999999999999999") == []


def test_v1_search_finds_statuses_too(alice, indexable, api_as):
    status = post(indexable, "a lapwing")
    r = api_as(alice).get("/api/v1/search", {"q": "lapwing"})
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["statuses"]] == ids(status)


HOSTILE = ['"', '""', "*", "cat*", "NEAR(", "NEAR(a b", "AND OR", "OR", "NOT", "-", "--x",
           ":", "from:", "a:b:c", "(", ")", "'", "\\", "^", "a & b", "!a", "a <-> b",
           "'a':*", "%", "_", "{col}:x", "x" * 5000, "word " * 500, "🦉", "é" * 300,
           "\u0301", "é\u0301", "\x00", "a\x00b"]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_never_fail(alice, indexable, api_as, q):
    post(indexable, "an ordinary post with a cat and some words")
    r = api_as(alice).get("/api/v2/search", {"q": q, "type": "statuses"})
    assert r.status_code in (200, 400), (q, r.status_code, r.content[:200])
    if r.status_code == 200:
        assert isinstance(r.json()["statuses"], list)


def test_punctuation_only_finds_nothing(alice, indexable, api_as):
    post(indexable, "punctuation ! ? , ; :")
    for q in ('" * ( ) : - !', "...", "#", "@"):
        assert found(api_as(alice), q) == []


def test_a_page_costs_the_same_queries_whatever_its_size(alice, indexable, make_account,
                                                         api_as, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    carol = account_update(account=make_account("carol"), indexable=True)
    for i in range(2):
        status = post(indexable, f"few lark {i} #birds @alice")
        favourite_create(account=alice, status=status)
    for i in range(8):
        author = indexable if i % 2 else carol
        status = post(author, f"many lark lark {i} #birds @alice")
        favourite_create(account=alice, status=status)
    api = api_as(alice)
    api.get("/api/v2/search", {"q": "few", "type": "statuses"})  # warm the caches
    counts = []
    for q, expected in (("few", 2), ("many", 8)):
        with CaptureQueriesContext(connection) as queries:
            assert len(found(api, q)) == expected
        counts.append(len(queries))
    assert counts[0] == counts[1]
