"""Accounts through the client API: own profile, preferences, other accounts, their
statuses, lookup and search."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.test.client import MULTIPART_CONTENT, encode_multipart

from tests.conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NOT_FOUND = {"error": "Record not found"}
OUT_OF_SCOPE = {"error": "This action is outside the authorized scopes"}


def links(response) -> dict[str, dict[str, list[str]]]:
    return {rel: parse_qs(urlparse(url).query)
            for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.get("Link", ""))}


def post(api, account_text: str, **extra) -> str:
    r = api.post("/api/v1/statuses", json={"status": account_text, **extra})
    assert r.status_code == 200, r.content
    return r.json()["id"]


# --- verify_credentials, update_credentials, preferences -----------------------------


def test_verify_credentials_is_the_callers_account_with_source(alice, api_as):
    r = api_as(alice).get("/api/v1/accounts/verify_credentials")
    assert r.status_code == 200
    me = r.json()
    assert me["id"] == str(alice.pk)
    assert (me["username"], me["acct"], me["display_name"]) == ("alice", "alice", "Alice")
    assert me["url"] == "http://127.0.0.1:8000/@alice"
    assert ISO_MS.match(me["created_at"])
    assert me["last_status_at"] is None  # never "" (CLI-15)
    assert me["source"] == {"privacy": "public", "sensitive": False, "language": None,
                            "note": "", "fields": [], "follow_requests_count": 0,
                            "indexable": False, "discoverable": True, "hide_collections": False,
                            "quote_policy": "public"}
    assert me["role"]["id"] == "-99"


def profile_app_token(account, scopes: str) -> Api:
    """A token from an app registered with the ``profile`` scope (the CLI app has none)."""
    from tribune.oauth.services import application_create, token_create

    app, _ = application_create(name="Profile app", redirect_uris="urn:ietf:wg:oauth:2.0:oob",
                                scopes="read write profile")
    return Api(token_create(user=account.user, application=app, scopes=scopes.split()))


@pytest.mark.parametrize("scopes", ["read", "read:accounts", "profile"])
def test_verify_credentials_accepts_read_accounts_or_profile(alice, scopes):
    api = profile_app_token(alice, scopes)
    assert api.get("/api/v1/accounts/verify_credentials").json()["id"] == str(alice.pk)


def test_profile_scope_opens_nothing_else(alice):
    api = profile_app_token(alice, "profile")
    for path in (f"/api/v1/accounts/{alice.pk}/followers", "/api/v1/preferences",
                 "/api/v1/notifications", "/api/v1/timelines/home"):
        r = api.get(path)
        assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE), path


def test_verify_credentials_needs_a_token_with_the_scope(alice, api_as):
    assert api_as(None).get("/api/v1/accounts/verify_credentials").status_code == 401
    r = api_as(alice, scopes="read:statuses").get("/api/v1/accounts/verify_credentials")
    assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)
    r = Api("not-a-token").get("/api/v1/accounts/verify_credentials")
    assert (r.status_code, r.json()) == (401, {"error": "The access token is invalid"})


def test_update_credentials_with_json(alice, api_as):
    api = api_as(alice)
    r = api.patch("/api/v1/accounts/update_credentials", json={
        "display_name": "Alice A.", "note": "Birds and #bikes", "locked": True, "bot": True,
        "discoverable": False, "indexable": True,
        "source": {"privacy": "unlisted", "sensitive": True, "language": "fr"},
    })
    assert r.status_code == 200, r.content
    me = r.json()
    assert (me["display_name"], me["locked"], me["bot"]) == ("Alice A.", True, True)
    assert (me["discoverable"], me["indexable"], me["noindex"]) == (False, True, False)
    assert me["source"]["note"] == "Birds and #bikes"
    assert 'href="http://127.0.0.1:8000/tags/bikes"' in me["note"]
    assert (me["source"]["privacy"], me["source"]["sensitive"], me["source"]["language"]) == (
        "unlisted", True, "fr")
    # What was saved is what every later read sees.
    assert api.get("/api/v1/accounts/verify_credentials").json() == me
    assert api.get("/api/v1/preferences").json() == {
        "posting:default:visibility": "unlisted", "posting:default:sensitive": True,
        "posting:default:language": "fr", "reading:expand:media": "default",
        "reading:expand:spoilers": False, "posting:default:quote_policy": "public",
    }
    # The new default applies to the next post.
    assert api.post("/api/v1/statuses", json={"status": "hi"}).json()["visibility"] == "unlisted"


def test_update_credentials_with_a_form_body(alice, api_as):
    api = api_as(alice)
    body = "display_name=Form+Alice&locked=true&source%5Bprivacy%5D=private&source%5Bsensitive%5D=1"
    r = api.client.patch("/api/v1/accounts/update_credentials", body,
                         content_type="application/x-www-form-urlencoded", **api.headers)
    assert r.status_code == 200, r.content
    me = r.json()
    assert (me["display_name"], me["locked"]) == ("Form Alice", True)
    assert (me["source"]["privacy"], me["source"]["sensitive"]) == ("private", True)
    # Fields not sent are left as they were.
    assert me["bot"] is False and me["source"]["language"] is None


def test_update_credentials_with_multipart(alice, api_as):
    api = api_as(alice)
    body = encode_multipart("BoUnDaRy", {"note": "from a phone", "bot": "true",
                                         "source[language]": "de"})
    r = api.client.patch("/api/v1/accounts/update_credentials", body,
                         content_type="multipart/form-data; boundary=BoUnDaRy", **api.headers)
    assert r.status_code == 200, r.content
    assert MULTIPART_CONTENT.startswith("multipart/form-data")
    me = r.json()
    assert (me["source"]["note"], me["bot"], me["source"]["language"]) == ("from a phone", True, "de")


@pytest.mark.parametrize("body, message", [
    ({"display_name": "x" * 31}, "Validation failed: Display name is too long (maximum is 30 characters)"),
    ({"note": "x" * 501}, "Validation failed: Note is too long (maximum is 500 characters)"),
    ({"source": {"privacy": "everyone"}}, "Validation failed: Privacy is not included in the list"),
])
def test_update_credentials_rejects_bad_input(alice, api_as, body, message):
    r = api_as(alice).patch("/api/v1/accounts/update_credentials", json=body)
    assert r.status_code == 422
    assert r.json()["error"] == message
    alice.refresh_from_db()
    assert (alice.display_name, alice.note, alice.default_visibility) == ("Alice", "", "public")


def test_update_credentials_with_a_malformed_boolean_is_422(alice, api_as):
    r = api_as(alice).patch("/api/v1/accounts/update_credentials", json={"locked": "maybe"})
    assert r.status_code == 422
    assert r.json()["error"].startswith("Validation failed")


def test_update_credentials_needs_write_accounts(alice, api_as):
    r = api_as(alice, scopes="read").patch("/api/v1/accounts/update_credentials",
                                           json={"display_name": "nope"})
    assert (r.status_code, r.json()) == (403, OUT_OF_SCOPE)
    assert api_as(None).patch("/api/v1/accounts/update_credentials", json={}).status_code == 401
    alice.refresh_from_db()
    assert alice.display_name == "Alice"


def test_preferences_defaults(alice, api_as):
    r = api_as(alice).get("/api/v1/preferences/")  # trailing slash too
    assert r.status_code == 200
    assert r.json() == {
        "posting:default:visibility": "public", "posting:default:sensitive": False,
        "posting:default:language": None, "reading:expand:media": "default",
        "reading:expand:spoilers": False, "posting:default:quote_policy": "public",
    }
    assert api_as(alice, scopes="write").get("/api/v1/preferences").status_code == 403


# --- one account, lookup, search -----------------------------------------------------


def test_account_by_id_for_visitors_and_users(alice, bob, api_as):
    for api in (api_as(None), api_as(bob)):
        r = api.get(f"/api/v1/accounts/{alice.pk}")
        assert r.status_code == 200
        assert (r.json()["id"], r.json()["acct"]) == (str(alice.pk), "alice")
    assert api_as(None).get(f"/api/v1/accounts/{alice.pk}/").json()["id"] == str(alice.pk)


@pytest.mark.parametrize("bad_id", ["1", "notanumber", "99999999999999999999999", "-5"])
def test_unknown_or_malformed_account_id_is_404(alice, api_as, bad_id):
    api = api_as(alice)
    for path in ("", "/statuses", "/followers", "/following"):
        r = api.get(f"/api/v1/accounts/{bad_id}{path}")
        assert (r.status_code, r.json()) == (404, NOT_FOUND), path


def test_suspended_account_is_404(alice, bob, api_as):
    from django.utils import timezone

    from tribune.accounts.models import Account

    Account.objects.filter(pk=bob.pk).update(suspended_at=timezone.now())
    assert api_as(alice).get(f"/api/v1/accounts/{bob.pk}").status_code == 404


def test_lookup(alice, bob, api_as, settings):
    api = api_as(None)
    assert api.get("/api/v1/accounts/lookup", {"acct": "alice"}).json()["id"] == str(alice.pk)
    assert api.get("/api/v1/accounts/lookup", {"acct": "@BOB"}).json()["id"] == str(bob.pk)
    local = f"bob@{settings.TRIBUNE_DOMAIN}"
    assert api.get("/api/v1/accounts/lookup", {"acct": local}).json()["id"] == str(bob.pk)
    r = api.get("/api/v1/accounts/lookup", {"acct": "nobody"})
    assert (r.status_code, r.json()) == (404, NOT_FOUND)
    assert api.get("/api/v1/accounts/lookup", {"acct": "bob@elsewhere.example"}).status_code == 404
    assert api.get("/api/v1/accounts/lookup").status_code == 422


def test_search_matches_usernames_and_display_names(alice, make_account, api_as):
    anna = make_account("anna", display_name="Anna")
    make_account("zed", display_name="Zed from Alaska")
    api = api_as(alice)
    r = api.get("/api/v1/accounts/search", {"q": "an"})
    assert r.status_code == 200
    assert [a["acct"] for a in r.json()] == ["anna"]
    found = {a["acct"] for a in api.get("/api/v1/accounts/search", {"q": "ala"}).json()}
    assert found == {"zed"}
    assert api.get("/api/v1/accounts/search", {"q": "@anna"}).json()[0]["id"] == str(anna.pk)
    assert api.get("/api/v1/accounts/search", {"q": ""}).json() == []


def test_search_limit_offset_and_following(alice, make_account, api_as):
    from tribune.graph.services import follow_create

    names = [f"sam{i}" for i in range(5)]
    sams = [make_account(n) for n in names]
    follow_create(account=alice, target=sams[3])
    api = api_as(alice)
    everyone = [a["acct"] for a in api.get("/api/v1/accounts/search", {"q": "sam"}).json()]
    # sam3 has a follower, so it ranks first; the others keep their creation order.
    assert everyone == ["sam3", "sam0", "sam1", "sam2", "sam4"]
    page = api.get("/api/v1/accounts/search", {"q": "sam", "limit": 2, "offset": 1}).json()
    assert [a["acct"] for a in page] == everyone[1:3]
    followed = api.get("/api/v1/accounts/search", {"q": "sam", "following": "true"}).json()
    assert [a["acct"] for a in followed] == ["sam3"]
    assert api.get("/api/v1/accounts/search", {"q": "sam", "limit": "abc"}).status_code == 422


def test_search_hides_accounts_blocked_either_way(alice, make_account, api_as):
    from tribune.graph.services import block_create

    blocker = make_account("sam_blocker")
    blocked = make_account("sam_blocked")
    make_account("sam_ok")
    block_create(account=blocker, target=alice)
    block_create(account=alice, target=blocked)
    found = [a["acct"] for a in api_as(alice).get("/api/v1/accounts/search", {"q": "sam"}).json()]
    assert found == ["sam_ok"]


def test_search_needs_a_user_token(alice, api_as):
    assert api_as(None).get("/api/v1/accounts/search", {"q": "a"}).status_code == 401
    assert api_as(alice, scopes="write").get("/api/v1/accounts/search", {"q": "a"}).status_code == 403


# --- an account's statuses --------------------------------------------------------------


def test_account_statuses_filters(alice, bob, api_as):
    a, b = api_as(alice), api_as(bob)
    bob_post = post(b, "bob's post")
    first = post(a, "first #Kites")
    reply_to_self = post(a, "more", in_reply_to_id=first)
    reply_to_bob = post(a, "@bob hi", in_reply_to_id=bob_post)
    reblog = a.post(f"/api/v1/statuses/{bob_post}/reblog").json()["id"]
    assert a.post(f"/api/v1/statuses/{first}/pin").status_code == 200
    path = f"/api/v1/accounts/{alice.pk}/statuses"

    def ids(**params):
        r = api_as(None).get(path, params)
        assert r.status_code == 200, r.content
        return [s["id"] for s in r.json()]

    assert ids() == [reblog, reply_to_bob, reply_to_self, first]
    assert ids(exclude_replies="true") == [reblog, reply_to_self, first]
    assert ids(exclude_reblogs="true") == [reply_to_bob, reply_to_self, first]
    assert ids(exclude_replies="1", exclude_reblogs="1") == [reply_to_self, first]
    assert ids(pinned="true") == [first]
    assert ids(tagged="kites") == [first]
    assert ids(only_media="true") == []
    assert ids(limit=2) == [reblog, reply_to_bob]


def test_account_statuses_pages_with_link_headers(alice, api_as):
    api = api_as(alice)
    posted = [post(api, f"post {i}") for i in range(5)]
    newest_first = posted[::-1]
    path = f"/api/v1/accounts/{alice.pk}/statuses"
    seen, params = [], {"limit": "2"}
    while True:
        r = api.get(path, params)
        page = [s["id"] for s in r.json()]
        if not page:
            break
        seen += page
        params = {k: v[0] for k, v in links(r)["next"].items()}
    assert seen == newest_first
    r = api.get(path, {"min_id": newest_first[2], "limit": "40"})
    assert [s["id"] for s in r.json()] == newest_first[:2]


def test_account_statuses_respect_visibility(alice, bob, carol, api_as):
    from tribune.graph.services import follow_create

    a = api_as(alice)
    public = post(a, "everyone")
    private = post(a, "followers only", visibility="private")
    direct = post(a, "@bob only you", visibility="direct")
    follow_create(account=carol, target=alice)
    path = f"/api/v1/accounts/{alice.pk}/statuses"
    assert [s["id"] for s in api_as(None).get(path).json()] == [public]
    assert [s["id"] for s in api_as(carol).get(path).json()] == [private, public]
    assert [s["id"] for s in api_as(bob).get(path).json()] == [direct, public]
    assert [s["id"] for s in a.get(path).json()] == [direct, private, public]


def test_account_statuses_bad_parameters_are_422(alice, api_as):
    path = f"/api/v1/accounts/{alice.pk}/statuses"
    api = api_as(alice)
    for params in ({"limit": "abc"}, {"max_id": "abc"}, {"exclude_replies": "perhaps"}):
        r = api.get(path, params)
        assert r.status_code == 422, params
        assert r.json()["error"].startswith("Validation failed")


def test_account_statuses_hidden_from_blocked_viewer(alice, bob, api_as):
    from tribune.graph.services import block_create

    post(api_as(alice), "hello")
    block_create(account=alice, target=bob)
    r = api_as(bob).get(f"/api/v1/accounts/{alice.pk}/statuses")
    assert (r.status_code, r.json()) == (200, [])
