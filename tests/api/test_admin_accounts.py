"""Mastodon's admin accounts list and lookup (/api/v1/admin/accounts,
/api/v2/admin/accounts, /api/v1/admin/accounts/:id).

The reference schema documents the Admin::Account entity but not these paths, so
the client here validates every response against the entity itself (and errors
against Error) as it arrives, as tests.conftest.Api does for documented paths."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from jsonschema import Draft202012Validator

from tests import mastodon_schema
from tests.conftest import Api
from tribune.accounts.models import Account
from tribune.api.presenters import iso
from tribune.oauth.services import application_create, token_create

pytestmark = pytest.mark.django_db

NOT_ALLOWED = {"error": "This action is not allowed"}
OUT_OF_SCOPE = {"error": "This action is outside the authorized scopes"}


def _validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator({**mastodon_schema.spec(), **schema})


class AdminApi(Api):
    """Checks each /api/v{1,2}/admin/accounts response against Admin::Account (a
    list of them for the lists) or Error."""

    def _checked(self, method, path, response):
        if mastodon_schema.spec() is None:
            return response  # tests/test_reference_schema.py reports its absence
        ref = {"$ref": "#/components/schemas/AdminAccount"}
        if response.status_code != 200:
            schema = {"$ref": "#/components/schemas/Error"}
        elif path.split("?")[0].rstrip("/").endswith("/admin/accounts"):
            schema = {"type": "array", "items": ref}
        else:
            schema = ref
        error = next(iter(_validator(schema).iter_errors(response.json())), None)
        assert error is None, f"{method} {path}: {error.message} at {list(error.absolute_path)}"
        return response


@pytest.fixture
def admin_as(db):
    application, _secret = application_create(
        name="Admin client", redirect_uris="urn:ietf:wg:oauth:2.0:oob",
        scopes="read write admin:read admin:write admin:read:accounts")

    def make(account, scopes: str = "admin:read:accounts") -> AdminApi:
        return AdminApi(token_create(user=account.user, application=application,
                                     scopes=scopes.split()))

    return make


def decided(target: Account, restriction: str, moderator: Account, reporter: Account):
    from tribune.moderation.decisions import Reasons, decision_create
    from tribune.moderation.services import report_create, rule_create

    rule = rule_create(text=f"No {restriction}-worthy spam")
    case = report_create(reporter=reporter, target=target, rule_ids=[rule.pk]).case
    decision_create(case_id=case.pk, moderator=moderator, restriction=restriction,
                    reasons=Reasons(facts="Posting ads.", rule_id=rule.pk, explanation="Spam."))


@pytest.fixture
def people(make_account, moderator, alice, bob):
    """Every kind of account: staff, ordinary, awaiting approval, frozen, suspended,
    and one from another server."""
    from tribune.accounts.instance import registration_mode_set
    from tribune.accounts.registrations import account_sign_up

    frozen = make_account("frosty", display_name="Frosty")
    gone = make_account("gone", display_name="Gone")
    decided(frozen, "freeze", moderator, alice)
    decided(gone, "suspend", moderator, alice)
    registration_mode_set(mode="approval")
    waiting = account_sign_up(username="waiting", email="waiting@example.test",
                              password="a sign-up passphrase", agreement=True,
                              reason="I write about moths")
    # Tribune does not federate yet, so no service makes a remote account.
    remote = Account.objects.create(username="far", domain="remote.example",
                                    display_name="Far", created_at=timezone.now())
    return {name: Account.objects.get(pk=account.pk) for name, account in {
        "mod": moderator, "alice": alice, "bob": bob, "frozen": frozen, "gone": gone,
        "waiting": waiting, "remote": remote}.items()}


def usernames(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [body["username"] for body in response.json()]


def newest_first(*accounts: Account) -> list[str]:
    return [a.username for a in sorted(accounts, key=lambda a: a.pk, reverse=True)]


def test_v1_lists_local_accounts_that_are_not_suspended_by_default(people, admin_as):
    p = people
    api = admin_as(p["mod"])
    assert usernames(api.get("/api/v1/admin/accounts")) == newest_first(
        p["mod"], p["alice"], p["bob"], p["frozen"], p["waiting"])


def test_the_entity_says_what_staff_need_to_know(people, admin_as):
    p = people
    bodies = {b["username"]: b for b in admin_as(p["mod"]).get(
        "/api/v2/admin/accounts").json()}
    alice = bodies["alice"]
    assert {k: v for k, v in alice.items() if k not in ("account", "role")} == {
        "id": str(p["alice"].pk), "username": "alice", "domain": None,
        "created_at": iso(p["alice"].created_at), "email": "alice@example.test",
        "ip": None, "ips": [], "locale": "en", "invite_request": None,
        "confirmed": True, "approved": True, "disabled": False, "silenced": False,
        "sensitized": False, "suspended": False}
    assert alice["account"]["acct"] == "alice" and alice["account"]["id"] == str(p["alice"].pk)
    assert bodies["mod"]["role"]["name"] == "Admin" and alice["role"]["name"] == ""
    waiting = bodies["waiting"]
    assert (waiting["approved"], waiting["invite_request"], waiting["disabled"]) == (
        False, "I write about moths", False)
    assert (bodies["frosty"]["disabled"], bodies["frosty"]["approved"]) == (True, True)
    assert bodies["gone"]["suspended"] is True
    assert (bodies["far"]["domain"], bodies["far"]["email"]) == ("remote.example", "")


@pytest.mark.parametrize("params, wanted", [
    ({"pending": "true"}, ["waiting"]),
    ({"suspended": "true"}, ["gone"]),
    ({"disabled": "true"}, ["frozen"]),
    ({"silenced": "true"}, []),
    ({"active": "true"}, ["mod", "alice", "bob", "frozen", "waiting"]),
    ({"remote": "true"}, ["remote"]),
    ({"staff": "true"}, ["mod"]),
    ({"username": "AL"}, ["alice"]),
    ({"username": "lice"}, []),  # from the start, as Mastodon's matches_username
    ({"display_name": "fro"}, ["frozen"]),
    ({"email": "BOB@"}, ["bob"]),
    ({"by_domain": "remote.example", "remote": "true"}, ["remote"]),
    ({"ip": "127.0.0.1"}, []),
    ({"pending": "true", "suspended": "true"}, ["gone"]),  # the last status wins
])
def test_v1_filters(people, admin_as, params, wanted):
    response = admin_as(people["mod"]).get("/api/v1/admin/accounts", params)
    assert usernames(response) == newest_first(*(people[name] for name in wanted))


@pytest.mark.parametrize("params, wanted", [
    ({}, ["mod", "alice", "bob", "frozen", "gone", "waiting", "remote"]),
    ({"origin": "local"}, ["mod", "alice", "bob", "frozen", "gone", "waiting"]),
    ({"origin": "remote"}, ["remote"]),
    ({"status": "active"}, ["mod", "alice", "bob", "frozen", "waiting", "remote"]),
    ({"status": "pending"}, ["waiting"]),
    ({"status": "disabled"}, ["frozen"]),
    ({"status": "suspended"}, ["gone"]),
    ({"status": "sensitized"}, []),
    ({"permissions": "staff"}, ["mod"]),
    ({"origin": "local", "username": "b"}, ["bob"]),
    ({"display_name": "far"}, ["remote"]),
    ({"email": "waiting@example.test"}, ["waiting"]),
    ({"by_domain": "REMOTE.example"}, ["remote"]),
])
def test_v2_filters(people, admin_as, params, wanted):
    response = admin_as(people["mod"]).get("/api/v2/admin/accounts", params)
    assert usernames(response) == newest_first(*(people[name] for name in wanted))


def test_v2_refuses_an_unknown_origin_or_status(people, admin_as):
    api = admin_as(people["mod"])
    for params, message in [({"origin": "elsewhere"}, "Unknown origin: elsewhere"),
                            ({"status": "asleep"}, "Unknown status: asleep")]:
        response = api.get("/api/v2/admin/accounts", params)
        assert (response.status_code, response.json()) == (400, {"error": message})


def test_a_login_switched_off_by_the_operator_is_disabled(people, admin_as):
    from django.contrib.auth import get_user_model

    # What unticking "active" on the login in /admin/ does.
    get_user_model().objects.filter(pk=people["bob"].user_id).update(is_active=False)
    api = admin_as(people["mod"])
    assert usernames(api.get("/api/v2/admin/accounts", {"status": "disabled"})) == \
        newest_first(people["bob"], people["frozen"])
    assert api.get(f"/api/v1/admin/accounts/{people['bob'].pk}").json()["disabled"] is True


def test_the_lists_page_with_link_headers(people, admin_as):
    api = admin_as(people["mod"])
    everyone = sorted(people.values(), key=lambda a: a.pk, reverse=True)
    seen, path, params = [], "/api/v2/admin/accounts", {"limit": "3"}
    while True:
        response = api.get(path, params)
        if not response.json():
            break
        assert len(response.json()) <= 3
        seen += usernames(response)
        assert 'rel="next"' in response["Link"]
        next_url = response["Link"].split(">")[0].lstrip("<")
        path, params = urlsplit(next_url).path, dict(parse_qsl(urlsplit(next_url).query))
        assert params["limit"] == "3"
    assert seen == [a.username for a in everyone]
    newest, second = everyone[0], everyone[1]
    assert usernames(api.get(path, {"since_id": str(second.pk)})) == [newest.username]
    assert usernames(api.get(path, {"min_id": str(second.pk), "limit": "5"})) == \
        [newest.username]
    assert usernames(api.get(path, {"max_id": str(second.pk), "limit": "2"})) == \
        [a.username for a in everyone[2:4]]


def test_one_account_whatever_its_state(people, admin_as):
    api = admin_as(people["mod"])
    for name in ("waiting", "gone", "remote", "alice"):
        response = api.get(f"/api/v1/admin/accounts/{people[name].pk}")
        assert response.status_code == 200
        assert response.json()["id"] == str(people[name].pk)
    assert api.get("/api/v1/admin/accounts/123456").status_code == 404
    assert api.get("/api/v1/admin/accounts/nope").status_code == 404


def test_staff_only_and_the_scope(people, admin_as):
    paths = ["/api/v1/admin/accounts", "/api/v2/admin/accounts",
             f"/api/v1/admin/accounts/{people['bob'].pk}"]
    for path in paths:
        response = admin_as(people["alice"]).get(path)  # the scope, but not staff
        assert (response.status_code, response.json()) == (403, NOT_ALLOWED), path
        response = admin_as(people["mod"], scopes="read write").get(path)
        assert (response.status_code, response.json()) == (403, OUT_OF_SCOPE), path
        # admin:read grants admin:read:accounts, as read grants read:statuses.
        assert admin_as(people["mod"], scopes="admin:read").get(path).status_code == 200
        assert Api().get(path).status_code == 401


def test_a_page_costs_the_same_queries_whatever_its_size(people, admin_as, make_account):
    api = admin_as(people["mod"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v2/admin/accounts").status_code == 200
        return len(captured)

    api.get("/api/v2/admin/accounts")  # the token's first use records activity once
    few = queries()
    for n in range(6):
        make_account(f"extra{n}")
    assert len(api.get("/api/v2/admin/accounts").json()) == len(people) + 6
    assert queries() == few
