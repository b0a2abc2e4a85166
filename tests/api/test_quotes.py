"""Quote posts through the client API, as Mastodon 4.5 has them: quoting, the
embedded quote per viewer, quote policies, revoking, deletion, and the lists."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db(transaction=True)


def post(api, text: str, **extra) -> dict:
    r = api.post("/api/v1/statuses", json={"status": text, **extra})
    assert r.status_code == 200, r.content
    return r.json()


def test_quote_embeds_the_quoted_post_and_counts_it(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    original = post(b, "the original words")
    assert original["quote"] is None and original["quotes_count"] == 0
    assert original["quote_approval"] == {
        "automatic": ["public"],
        "manual": [],
        "current_user": "automatic",
    }
    quoting = post(a, "my comment", quoted_status_id=original["id"])
    assert quoting["quote"]["state"] == "accepted"
    embedded = quoting["quote"]["quoted_status"]
    assert embedded["id"] == original["id"]
    assert embedded["content"] == original["content"]
    assert embedded["account"]["acct"] == "bob"
    assert embedded["quotes_count"] == 1
    # A second level is by id only (a ShallowQuote): quotes never nest.
    again = post(b, "quoting the quote", quoted_status_id=quoting["id"])
    inner = again["quote"]["quoted_status"]
    assert inner["quote"] == {"state": "accepted", "quoted_status_id": original["id"]}
    assert b.get(f"/api/v1/statuses/{original['id']}").json()["quotes_count"] == 1


def test_quote_of_a_reblog_quotes_its_original(alice, bob, carol, api_as):
    original = post(api_as(bob), "boosted words")
    reblog = api_as(carol).post(f"/api/v1/statuses/{original['id']}/reblog").json()
    quoting = post(api_as(alice), "on the boost", quoted_status_id=reblog["id"])
    assert quoting["quote"]["quoted_status"]["id"] == original["id"]


@pytest.mark.parametrize(
    "visibility, policy, follows, allowed",
    [
        ("public", "public", False, True),
        ("unlisted", "public", False, True),
        ("public", "nobody", True, False),
        ("public", "followers", False, False),
        ("public", "followers", True, True),
        ("private", "public", True, False),
    ],
)
def test_quote_policy_decides(alice, bob, api_as, visibility, policy, follows, allowed):
    from tribune.graph.services import follow_create
    from tribune.statuses.models import Quote

    if follows:
        follow_create(account=alice, target=bob)
    original = post(
        api_as(bob), "mine", visibility=visibility, quote_approval_policy=policy
    )
    a = api_as(alice)
    seen = a.get(f"/api/v1/statuses/{original['id']}").json()
    assert seen["quote_approval"]["current_user"] == (
        "automatic" if allowed else "denied"
    )
    r = a.post(
        "/api/v1/statuses", json={"status": "q", "quoted_status_id": original["id"]}
    )
    if allowed:
        assert r.status_code == 200
    else:
        assert r.status_code == 403
        assert r.json()["error"]
        assert not Quote.objects.exists()
        alice.refresh_from_db()
        assert alice.statuses_count == 0  # no partial write


def test_own_private_post_may_be_quoted_but_direct_never(alice, api_as):
    a = api_as(alice)
    private = post(
        a, "for my followers", visibility="private", quote_approval_policy="nobody"
    )
    assert (
        post(a, "me again", visibility="private", quoted_status_id=private["id"])[
            "quote"
        ]["state"]
        == "accepted"
    )
    direct = post(a, "just me", visibility="direct")
    r = a.post(
        "/api/v1/statuses", json={"status": "q", "quoted_status_id": direct["id"]}
    )
    assert r.status_code == 403


def test_unknown_or_invisible_quoted_status_is_404_and_bad_policy_422(
    alice, bob, api_as
):
    a = api_as(alice)
    hidden = post(api_as(bob), "followers only", visibility="private")
    for target in (hidden["id"], "999999", "nope"):
        r = a.post("/api/v1/statuses", json={"status": "q", "quoted_status_id": target})
        assert r.status_code == 404, target
    r = a.post(
        "/api/v1/statuses", json={"status": "q", "quote_approval_policy": "everyone"}
    )
    assert r.status_code == 422


def test_revoke_detaches_and_only_the_quoted_author_may(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    original = post(b, "I may take it back")
    quoting = post(a, "look", quoted_status_id=original["id"])
    # The quoter cannot revoke someone else's post; a stranger's id is 404.
    assert (
        a.post(
            f"/api/v1/statuses/{original['id']}/quotes/{quoting['id']}/revoke"
        ).status_code
        == 404
    )
    assert (
        b.post(f"/api/v1/statuses/{original['id']}/quotes/123/revoke").status_code
        == 404
    )
    r = b.post(f"/api/v1/statuses/{original['id']}/quotes/{quoting['id']}/revoke")
    assert r.status_code == 200
    assert r.json()["id"] == quoting["id"]
    assert r.json()["quote"] == {"state": "revoked", "quoted_status": None}
    assert (
        a.get(f"/api/v1/statuses/{quoting['id']}").json()["quote"]["state"] == "revoked"
    )
    assert b.get(f"/api/v1/statuses/{original['id']}").json()["quotes_count"] == 0
    # Twice changes nothing more.
    assert (
        b.post(
            f"/api/v1/statuses/{original['id']}/quotes/{quoting['id']}/revoke"
        ).status_code
        == 200
    )
    assert b.get(f"/api/v1/statuses/{original['id']}").json()["quotes_count"] == 0


def test_deleted_quoted_post_and_deleted_quote(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    original = post(b, "soon gone")
    quoting = post(a, "about it", quoted_status_id=original["id"])
    on_home = {s["id"]: s for s in a.get("/api/v1/timelines/home").json()}
    assert on_home[quoting["id"]]["quote"]["state"] == "accepted"  # now cached
    assert b.delete(f"/api/v1/statuses/{original['id']}").status_code == 200
    on_home = {s["id"]: s for s in a.get("/api/v1/timelines/home").json()}
    assert on_home[quoting["id"]]["quote"] == {
        "state": "deleted",
        "quoted_status": None,
    }
    assert (
        a.get(f"/api/v1/statuses/{quoting['id']}").json()["quote"]["state"] == "deleted"
    )

    second = post(b, "again")
    other = post(a, "and again", quoted_status_id=second["id"])
    assert b.get(f"/api/v1/statuses/{second['id']}").json()["quotes_count"] == 1
    a.delete(f"/api/v1/statuses/{other['id']}")
    assert b.get(f"/api/v1/statuses/{second['id']}").json()["quotes_count"] == 0


def test_blocked_and_muted_authors_per_viewer(alice, bob, carol, api_as):
    from tribune.graph.services import block_create, mute_create

    original = post(api_as(bob), "bob speaks")
    quoting = post(api_as(alice), "alice answers", quoted_status_id=original["id"])
    c = api_as(carol)
    assert (
        c.get(f"/api/v1/statuses/{quoting['id']}").json()["quote"]["state"]
        == "accepted"
    )
    mute_create(account=carol, target=bob)
    quote = c.get(f"/api/v1/statuses/{quoting['id']}").json()["quote"]
    assert quote["state"] == "muted_account"
    assert quote["quoted_status"]["id"] == original["id"]
    block_create(account=bob, target=carol)
    assert c.get(f"/api/v1/statuses/{quoting['id']}").json()["quote"] == {
        "state": "blocked_account",
        "quoted_status": None,
    }
    # Others still see it.
    assert (
        api_as(alice).get(f"/api/v1/statuses/{quoting['id']}").json()["quote"]["state"]
        == "accepted"
    )


def test_quotes_list_is_for_the_author_and_paged(alice, bob, carol, api_as):
    b = api_as(bob)
    original = post(b, "quote me")
    ids = [
        post(
            api_as(alice if i % 2 else carol), f"q{i}", quoted_status_id=original["id"]
        )["id"]
        for i in range(3)
    ]
    assert (
        api_as(alice).get(f"/api/v1/statuses/{original['id']}/quotes").status_code
        == 404
    )
    first = b.get(f"/api/v1/statuses/{original['id']}/quotes", {"limit": 2})
    assert [s["id"] for s in first.json()] == ids[::-1][:2]
    assert 'rel="next"' in first["Link"]
    next_url = first["Link"].split(";")[0].strip("<>")
    rest = b.get(
        next_url.replace("http://127.0.0.1:8000", "").replace("http://localhost", "")
    )
    assert [s["id"] for s in rest.json()] == ids[:1]
    b.post(f"/api/v1/statuses/{original['id']}/quotes/{ids[0]}/revoke")
    assert [
        s["id"] for s in b.get(f"/api/v1/statuses/{original['id']}/quotes").json()
    ] == ids[::-1][:2]


def test_interaction_policy_changes_who_may_quote(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    original = post(b, "open for now")
    r = b.put(
        f"/api/v1/statuses/{original['id']}/interaction_policy",
        json={"quote_approval_policy": "nobody"},
    )
    assert r.status_code == 200
    assert r.json()["quote_approval"] == {
        "automatic": [],
        "manual": [],
        "current_user": "automatic",
    }
    assert (
        a.get(f"/api/v1/statuses/{original['id']}").json()["quote_approval"][
            "current_user"
        ]
        == "denied"
    )
    assert (
        a.post(
            "/api/v1/statuses", json={"status": "q", "quoted_status_id": original["id"]}
        ).status_code
        == 403
    )
    assert (
        a.put(
            f"/api/v1/statuses/{original['id']}/interaction_policy",
            json={"quote_approval_policy": "public"},
        ).status_code
        == 404
    )
    assert (
        b.put(
            f"/api/v1/statuses/{original['id']}/interaction_policy",
            json={"quote_approval_policy": "friends"},
        ).status_code
        == 422
    )


def test_a_scheduled_quote_is_checked_then_kept(alice, bob, api_as):
    closed = post(api_as(bob), "not for quoting", quote_approval_policy="nobody")
    original = post(api_as(bob), "later")

    def schedule(quoted: dict):
        return api_as(alice).post("/api/v1/statuses", json={
            "status": "q", "quoted_status_id": quoted["id"],
            "scheduled_at": "2099-01-01T00:00:00Z"})

    assert schedule(closed).status_code == 403
    r = schedule(original)
    assert r.status_code == 200, r.content
    assert r.json()["params"]["quoted_status_id"] == original["id"]


def _home_queries(api) -> tuple[int, list[dict]]:
    with CaptureQueriesContext(connection) as captured:
        page = api.get("/api/v1/timelines/home", {"limit": 40}).json()
    return len(captured), page


def test_a_page_of_quotes_costs_the_same_queries_whatever_its_size(alice, bob, api_as):
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    a, b = api_as(alice), api_as(bob)
    originals = [post(b, f"original {i}") for i in range(6)]
    post(b, f"quoting {0}", quoted_status_id=originals[0]["id"])
    _home_queries(a)  # warm the token and the caches
    few, _page = _home_queries(a)
    for i in range(1, 6):
        post(b, f"quoting {i}", quoted_status_id=originals[i]["id"])
    _home_queries(a)
    many, page = _home_queries(a)
    quotes = [s for s in page if s["quote"] is not None]
    assert len(quotes) == 6
    assert all(
        s["quote"]["quoted_status"]["id"] == originals[int(s["content"][-5])]["id"]
        for s in quotes
    )
    assert many == few
    # And the cold page (nothing cached) as well.
    from django.core.cache import caches

    caches["entities"].clear()
    cold_many, _page = _home_queries(a)
    assert cold_many <= many + 8


def test_the_default_quote_policy_is_an_account_preference(alice, api_as):
    a = api_as(alice)
    r = a.patch(
        "/api/v1/accounts/update_credentials",
        json={"source": {"quote_policy": "followers"}},
    )
    assert r.status_code == 200
    assert r.json()["source"]["quote_policy"] == "followers"
    assert (
        a.get("/api/v1/preferences").json()["posting:default:quote_policy"]
        == "followers"
    )
    made = post(a, "new post")
    assert made["quote_approval"]["automatic"] == ["followers"]
    assert post(a, "open one", quote_approval_policy="public")["quote_approval"][
        "automatic"
    ] == ["public"]
    r = a.patch(
        "/api/v1/accounts/update_credentials",
        json={"source": {"quote_policy": "friends"}},
    )
    assert r.status_code == 422


def test_the_cached_timeline_follows_the_quoted_post(alice, bob, api_as):
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    a, b = api_as(alice), api_as(bob)
    original = post(b, "before the edit")
    quoting = post(b, "quoting myself", quoted_status_id=original["id"])

    def home_and_fresh() -> tuple[dict, dict]:
        home = {s["id"]: s for s in a.get("/api/v1/timelines/home").json()}
        return home[quoting["id"]], a.get(f"/api/v1/statuses/{quoting['id']}").json()

    cached, fresh = home_and_fresh()
    assert cached == fresh
    b.put(f"/api/v1/statuses/{original['id']}", json={"status": "after the edit"})
    b.put(
        f"/api/v1/statuses/{original['id']}/interaction_policy",
        json={"quote_approval_policy": "nobody"},
    )
    cached, fresh = home_and_fresh()
    assert cached == fresh
    inner = cached["quote"]["quoted_status"]
    assert "after the edit" in inner["content"]
    assert inner["quote_approval"]["current_user"] == "denied"


def test_a_suspended_authors_post_is_not_shown_inside_a_quote(alice, bob, api_as):
    from django.utils import timezone

    from tribune.accounts.models import Account
    from tribune.core.entity_cache import new_version

    original = post(api_as(alice), "mine, quoted by bob")
    b = api_as(bob)
    quoting = post(b, "bob quotes", quoted_status_id=original["id"])
    # A suspension as the moderation decision stamps it (renewing the version).
    Account.objects.filter(pk=alice.pk).update(
        suspended_at=timezone.now(), version=new_version()
    )
    home = {s["id"]: s for s in b.get("/api/v1/timelines/home").json()}
    unavailable = {"state": "unauthorized", "quoted_status": None}
    assert home[quoting["id"]]["quote"] == unavailable
    assert b.get(f"/api/v1/statuses/{quoting['id']}").json()["quote"] == unavailable
