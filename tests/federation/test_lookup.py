"""Finding an account or a post by what people paste (federation.lookup): an
address of a post or a profile, here or on another server, or a handle; through
``/api/v2/search?resolve=true``, the web search box and ``/authorize_interaction``
(the subscribe template that other servers send their visitors to)."""

from __future__ import annotations

import json

from django.test import Client

from tests.federation.test_follow_remote import serve_webfinger
from tribune.accounts.models import Account
from tribune.core.urls import absolute
from tribune.statuses.models import Status
from tribune.statuses.services import status_create

ZED = "https://remote.test/users/zed"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def note(number: int, **extra) -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{ZED}/statuses/{number}",
            "type": "Note", "attributedTo": ZED, "content": f"<p>Remote post {number}</p>",
            "to": [PUBLIC], "cc": [f"{ZED}/followers"], "url": f"https://remote.test/@zed/{number}",
            "published": "2026-11-30T10:00:00Z", **extra}


def search(api, q: str, **params) -> dict:
    response = api.get("/api/v2/search", {"q": q, "resolve": "true", **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_the_page_of_a_remote_post_finds_the_post_and_nothing_else(zed, alice, api_as):
    zed.json("/@zed/8", note(8))  # the page answers with the object, whose id is elsewhere
    zed.json("/users/zed/statuses/8", note(8))
    found = search(api_as(alice), "https://remote.test/@zed/8")
    assert [s["uri"] for s in found["statuses"]] == [f"{ZED}/statuses/8"]
    assert found["statuses"][0]["content"] == "<p>Remote post 8</p>"
    assert found["accounts"] == [] and found["hashtags"] == []
    assert Status.objects.filter(uri=f"{ZED}/statuses/8", account__uri=ZED).count() == 1


def test_a_remote_actor_address_finds_the_account(zed, alice, api_as):
    found = search(api_as(alice), ZED)
    assert [a["acct"] for a in found["accounts"]] == ["zed@remote.test"]
    assert found["statuses"] == []


def test_a_known_post_is_found_without_asking_its_server(zed, alice, api_as):
    zed.json("/users/zed/statuses/9", note(9))
    api = api_as(alice)
    search(api, f"{ZED}/statuses/9")
    asked = len(zed.received)
    found = search(api, f"{ZED}/statuses/9")
    assert [s["uri"] for s in found["statuses"]] == [f"{ZED}/statuses/9"]
    assert len(zed.received) == asked


def test_type_keeps_only_its_kind(zed, alice, api_as):
    zed.json("/users/zed/statuses/10", note(10))
    found = search(api_as(alice), f"{ZED}/statuses/10", type="accounts")
    assert found["accounts"] == [] and found["statuses"] == []


def test_an_address_that_serves_nothing_finds_nothing(zed, alice, api_as):
    # /users/zed/statuses/11 is not served: 404
    found = search(api_as(alice), f"{ZED}/statuses/11")
    assert found == {"accounts": [], "statuses": [], "hashtags": []}


def test_a_post_claiming_another_author_is_not_stored(zed, alice, api_as):
    zed.json("/users/zed/statuses/12", note(12, attributedTo="https://remote.test/users/yan"))
    found = search(api_as(alice), f"{ZED}/statuses/12")
    assert found["statuses"] == []
    assert not Status.objects.filter(uri=f"{ZED}/statuses/12").exists()


def test_without_resolve_an_address_is_not_fetched(zed, alice, api_as):
    response = api_as(alice).get("/api/v2/search", {"q": f"{ZED}/statuses/13"})
    assert response.status_code == 200
    assert not [r for r in zed.received if r.path.startswith("/users/zed/statuses")]


def test_addresses_of_this_instance_find_what_the_searcher_may_see(alice, bob, api_as):
    public = status_create(account=bob, text="Out in the open")
    private = status_create(account=bob, text="For followers", visibility="private")
    api = api_as(alice)
    for url in (absolute(f"/@bob/{public.pk}"), absolute(f"/users/bob/statuses/{public.pk}")):
        assert [s["id"] for s in search(api, url)["statuses"]] == [str(public.pk)], url
    for url in (absolute("/@bob"), absolute("/users/bob")):
        assert [a["username"] for a in search(api, url)["accounts"]] == ["bob"], url
    assert search(api, absolute(f"/@bob/{private.pk}"))["statuses"] == []
    assert search(api, absolute("/about")) == {"accounts": [], "statuses": [], "hashtags": []}


# --- the web interface -----------------------------------------------------------------


def signed_in(account) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(account.user)
    return client


def test_the_web_search_box_finds_a_remote_handle_for_signed_in_people(zed, alice):
    serve_webfinger(zed, "zed", ZED)
    visitor = Client(HTTP_HOST="localhost").get("/search", {"q": "@zed@remote.test"})
    assert 'href="/@zed@remote.test"' not in visitor.content.decode()
    assert not zed.received  # visitors do not make the instance ask other servers
    page = signed_in(alice).get("/search", {"q": "@zed@remote.test"}).content.decode()
    assert 'href="/@zed@remote.test"' in page
    assert Account.objects.filter(uri=ZED).exists()


def test_the_web_search_box_finds_a_remote_post_by_its_address(zed, alice):
    zed.json("/users/zed/statuses/14", note(14))
    page = signed_in(alice).get("/search", {"q": f"{ZED}/statuses/14"}).content.decode()
    assert "Remote post 14" in page


def test_authorize_interaction_opens_the_remote_account(zed, alice):
    serve_webfinger(zed, "zed", ZED)
    response = signed_in(alice).get("/authorize_interaction", {"uri": "acct:zed@remote.test"})
    assert response.status_code == 302
    assert response["Location"] == "/@zed@remote.test"


def test_authorize_interaction_opens_a_remote_post(zed, alice):
    zed.json("/users/zed/statuses/15", note(15))
    response = signed_in(alice).get("/authorize_interaction", {"uri": f"{ZED}/statuses/15"})
    status = Status.objects.get(uri=f"{ZED}/statuses/15")
    assert response.status_code == 302
    assert response["Location"] == f"/@zed/{status.pk}"


def test_authorize_interaction_asks_visitors_to_sign_in_first(db):
    response = Client(HTTP_HOST="localhost").get("/authorize_interaction",
                                                 {"uri": "acct:zed@remote.test"})
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/sign_in?next=/authorize_interaction")


def test_authorize_interaction_with_nothing_to_find_says_so(zed, alice):
    response = signed_in(alice).get("/authorize_interaction", {"uri": f"{ZED}/statuses/16"})
    assert response.status_code == 200
    assert "No posts found." in response.content.decode()


# --- mentions of accounts not yet known here -------------------------------------------


# A transactional database: the lookup is made outside any transaction, which the
# test-wide one of ``db`` would otherwise be.


def test_a_mention_of_an_unknown_remote_account_is_looked_up_and_delivered(
        transactional_db, zed, alice):
    serve_webfinger(zed, "zed", ZED)
    zed.routes["/inbox"] = (202, {}, b"")
    status = status_create(account=alice, text="Hello @zed@remote.test, welcome")
    zed_account = Account.objects.get(uri=ZED)
    assert list(status.mentions.values_list("account_id", flat=True)) == [zed_account.pk]
    assert 'href="https://remote.test/@zed"' in status.content
    delivered = [r for r in zed.received if r.path == "/inbox"]  # zed's shared inbox
    assert [json.loads(r.body)["type"] for r in delivered] == ["Create"]


def test_a_mention_that_cannot_be_looked_up_stays_plain_text(transactional_db, zed, alice):
    # remote.test has no WebFinger answer for nobody; unreachable.test has no server
    status = status_create(account=alice, text="Hi @nobody@remote.test and @x@unreachable.test")
    assert not status.mentions.exists()
    assert "@nobody@remote.test" in status.content and "href" not in status.content
    assert [r.path for r in zed.received] == ["/.well-known/webfinger?resource=acct:nobody@remote.test"]


def test_no_lookup_is_made_inside_a_transaction(zed, alice):
    # ``db`` wraps the test in one, as a scheduled post's publication is
    serve_webfinger(zed, "zed", ZED)
    status = status_create(account=alice, text="Hello @zed@remote.test")
    assert not status.mentions.exists() and not zed.received
