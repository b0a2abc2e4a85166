"""Surge protection through the client API and the OAuth token endpoint: the
per-account budgets for posting (300 per 3 hours) and reporting (400 a day), the
per-IP budgets for sign-ups (5 per 30 minutes), token requests (25 per 5 minutes)
and unauthenticated calls (300 per 5 minutes), their ``X-RateLimit-*`` headers, and
503 with ``Retry-After`` when no password-hashing slot is free.

Where a test needs an almost spent budget, it counts the earlier events into the
same counters the server uses (``spent``), as that many earlier posts or requests
would have; what is then asserted is computed from the budget alone.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.busy import hashing_slots_taken
from tests.conftest import Api
from tribune.core.ratelimit import Limit, hit
from tribune.moderation.models import Report
from tribune.moderation.services import REPORTING
from tribune.statuses.models import Status
from tribune.statuses.services import POSTING, status_create

pytestmark = pytest.mark.django_db

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
PASSWORD = "a sign-up passphrase for tests"


@pytest.fixture(autouse=True)
def _limits_on(settings, request):
    if "rate_limits" in request.keywords:
        settings.TRIBUNE_RATE_LIMITS = True


def spent(limit: Limit, who: str, count: int) -> None:
    """Count ``count`` earlier events into ``who``'s current window of ``limit``."""
    for _ in range(count):
        hit(limit, who)


@pytest.fixture
def admin_as(db):
    """``admin_as(account, scopes=...)``: an Api with a token of an app that may ask
    for the admin scopes."""
    from tribune.oauth.services import application_create, token_create

    application, _secret = application_create(
        name="Admin client", redirect_uris="urn:ietf:wg:oauth:2.0:oob",
        scopes="read write admin:write admin:write:accounts")

    def make(account, scopes: str = "admin:write:accounts") -> Api:
        return Api(token_create(user=account.user, application=application,
                                scopes=scopes.split()))

    return make


def window_end(period: int) -> datetime:
    """When the fixed window of ``period`` seconds that holds now ends."""
    return datetime.fromtimestamp((int(time.time()) // period + 1) * period, tz=UTC)


def reset_of(response) -> datetime:
    value = response["X-RateLimit-Reset"]
    assert ISO_MS.fullmatch(value), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def from_ip(api: Api, ip: str) -> Api:
    api.client.defaults["REMOTE_ADDR"] = ip
    return api


def assert_too_many(response, *, limit: int, period: int) -> None:
    """Mastodon's 429: the body, the spent window's headers and Retry-After."""
    assert response.status_code == 429, response.content
    assert response.json() == {"error": "Too many requests"}
    assert response["X-RateLimit-Limit"] == str(limit)
    assert response["X-RateLimit-Remaining"] == "0"
    assert reset_of(response) == window_end(period)
    assert 1 <= int(response["Retry-After"]) <= period


# --- posting: 300 statuses and reblogs per account every 3 hours --------------------


@pytest.mark.rate_limits
def test_a_post_shows_the_posting_budget_when_it_is_the_tightest(alice, api_as):
    spent(POSTING, f"account:{alice.pk}", 250)
    response = api_as(alice).post("/api/v1/statuses", json={"status": "still room"})
    assert response.status_code == 200, response.content
    assert response["X-RateLimit-Limit"] == "300"
    assert response["X-RateLimit-Remaining"] == str(300 - 251)
    assert reset_of(response) == window_end(3 * 3600)
    # A read shows the token's own budget: 300 per 5 minutes, two calls made.
    read = api_as(alice).get("/api/v1/timelines/home")
    assert (read["X-RateLimit-Limit"], read["X-RateLimit-Remaining"]) == ("300", "299")
    assert reset_of(read) == window_end(300)


@pytest.mark.rate_limits
def test_new_tokens_and_the_web_form_share_the_posting_budget(alice, api_as):
    spent(POSTING, f"account:{alice.pk}", 298)
    assert api_as(alice).post("/api/v1/statuses", json={"status": "299th"}).status_code == 200
    web = Client(HTTP_HOST="localhost")
    web.force_login(alice.user)
    assert web.post("/statuses", {"text": "300th, from the web", "visibility": "public"}
                    ).status_code == 303
    before = Status.objects.filter(account=alice).count()

    refused = api_as(alice).post("/api/v1/statuses", json={"status": "one too many"})
    assert_too_many(refused, limit=300, period=3 * 3600)
    page = web.post("/statuses", {"text": "one too many, from the web",
                                  "visibility": "public"})
    assert page.status_code == 429
    assert "Too many attempts" in page.content.decode()
    assert Status.objects.filter(account=alice).count() == before
    alice.refresh_from_db()
    assert alice.statuses_count == before


@pytest.mark.rate_limits
def test_reblogs_spend_the_posting_budget(alice, bob, api_as):
    original = status_create(account=bob, text="worth a boost")
    spent(POSTING, f"account:{alice.pk}", 300)
    refused = api_as(alice).post(f"/api/v1/statuses/{original.pk}/reblog")
    assert_too_many(refused, limit=300, period=3 * 3600)
    assert not Status.objects.filter(account=alice, reblog_of=original).exists()
    # Bob's budget is his own.
    assert api_as(bob).post("/api/v1/statuses", json={"status": "mine"}).status_code == 200


def test_without_rate_limits_nothing_is_refused(alice, api_as):
    spent(POSTING, f"account:{alice.pk}", 400)
    assert api_as(alice).post("/api/v1/statuses", json={"status": "free"}).status_code == 200


# --- reports: 400 per account a day ------------------------------------------------


@pytest.mark.rate_limits
def test_reports_are_limited_per_account_across_tokens(alice, bob, api_as):
    spent(REPORTING, f"account:{bob.pk}", 399)
    filed = api_as(bob).post("/api/v1/reports", json={"account_id": str(alice.pk),
                                                      "category": "spam"})
    assert filed.status_code == 200, filed.content
    assert (filed["X-RateLimit-Limit"], filed["X-RateLimit-Remaining"]) == ("400", "0")
    assert reset_of(filed) == window_end(24 * 3600)
    refused = api_as(bob).post("/api/v1/reports", json={"account_id": str(alice.pk),
                                                        "category": "spam"})
    assert_too_many(refused, limit=400, period=24 * 3600)
    assert Report.objects.filter(reporter=bob).count() == 1
    web = Client(HTTP_HOST="localhost")
    web.force_login(bob.user)
    page = web.post(f"/@{alice.username}/report", {"category": "spam", "comment": ""})
    assert page.status_code == 429
    assert Report.objects.filter(reporter=bob).count() == 1


# --- sign-ups through the API --------------------------------------------------------


def app_token(client: Client | None = None) -> str:
    """An app token (client credentials grant) of a newly registered app."""
    client = client or Client(HTTP_HOST="localhost")
    app = client.post("/api/v1/apps", {"client_name": "Joiner", "redirect_uris":
                                       "urn:ietf:wg:oauth:2.0:oob",
                                       "scopes": "read write"}).json()
    token = client.post("/oauth/token", {"grant_type": "client_credentials",
                                         "client_id": app["client_id"],
                                         "client_secret": app["client_secret"],
                                         "scope": "read write"})
    assert token.status_code == 200, token.content
    return token.json()["access_token"]


def sign_up(api: Api, username: str, **fields):
    return api.post("/api/v1/accounts", json={
        "username": username, "email": f"{username}@example.test", "password": PASSWORD,
        "agreement": True, "locale": "en", **fields})


def test_sign_up_through_an_app_answers_a_working_token(db):
    response = sign_up(Api(app_token()), "appjoiner")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read write"
    me = Api(body["access_token"]).get("/api/v1/accounts/verify_credentials")
    assert me.status_code == 200 and me.json()["username"] == "appjoiner"


def test_sign_up_through_an_app_follows_the_registration_mode(db, moderator, admin_as):
    from tribune.accounts.instance import registration_mode_set

    app = Api(app_token())
    registration_mode_set(mode="closed")
    assert sign_up(app, "shut_out").status_code == 403
    registration_mode_set(mode="approval")
    assert sign_up(app, "waiting").status_code == 422  # a reason is required
    pending = sign_up(app, "waiting", reason="I write about moths")
    assert pending.status_code == 200, pending.content
    token = pending.json()["access_token"]
    waiting = Api(token).get("/api/v1/accounts/verify_credentials")
    assert (waiting.status_code, waiting.json()) == (
        403, {"error": "Your login is currently pending approval"})
    account_id = str(get_user_model().objects.get(username="waiting").account.pk)
    approved = admin_as(moderator).post(
        f"/api/v1/admin/accounts/{account_id}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["approved"] is True and approved.json()["username"] == "waiting"
    assert Api(token).get("/api/v1/accounts/verify_credentials").status_code == 200


def test_an_app_token_brings_its_app_with_it(db, django_assert_num_queries):
    """The token lookup attaches an app-only token's app, which a sign-up reads
    (its scopes, for the new login's token), by a written-out query of its own;
    a user's token costs one query, as before."""
    from tribune.api.auth import viewer_for_token

    raw = app_token()
    with django_assert_num_queries(2):
        viewer = viewer_for_token(raw)
        assert (viewer.token.application.name, viewer.token.application.scopes) == (
            "Joiner", "read write")
        assert viewer.account is None
    user_token = sign_up(Api(raw), "tokenholder").json()["access_token"]
    with django_assert_num_queries(1):
        assert viewer_for_token(user_token).account.username == "tokenholder"


def test_an_app_sign_up_is_seven_statements(db):
    """Counted from what a sign-up must do: the token and its app, the
    registration mode, whether the address is taken, then the login, its account
    (with its language) and its token inserted, besides the transaction's own
    statements. A taken username is left to the unique index; nothing is looked
    up twice, nothing written twice."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    app = Api(app_token())
    sign_up(app, "warmup")  # the first request of a process reads a few things once
    with CaptureQueriesContext(connection) as queries:
        assert sign_up(app, "counted", locale="fr").status_code == 200
    work = [q["sql"].split()[0] for q in queries.captured_queries
            if q["sql"].split()[0] not in ("BEGIN", "SAVEPOINT", "RELEASE")]
    assert work == ["SELECT", "SELECT", "SELECT", "SELECT", "INSERT", "INSERT", "INSERT"], work
    assert get_user_model().objects.get(username="counted").account.locale == "fr"


def test_a_username_taken_in_another_case_is_refused_and_leaves_nothing(db, alice):
    """The username is checked by the unique index on LOWER(username), domain when
    the account is inserted, after the login was: the refusal undoes the login."""
    refused = sign_up(Api(app_token()), alice.username.upper())
    assert refused.status_code == 422, refused.content
    assert refused.json()["error"].endswith("is already taken")
    assert not get_user_model().objects.filter(username=alice.username.upper()).exists()


def test_sign_up_refusals_write_nothing(db, alice):
    app = Api(app_token())
    assert sign_up(app, "alice").status_code == 422  # taken
    assert sign_up(app, "newbie", agreement=False).status_code == 422
    assert sign_up(app, "newbie", password="short").status_code == 422
    assert not get_user_model().objects.filter(username="newbie").exists()
    no_token = Api().post("/api/v1/accounts", json={"username": "anon"})
    assert no_token.status_code == 401


def test_sign_up_refuses_a_password_over_128_characters(db):
    app = Api(app_token())
    refused = sign_up(app, "longpass", password="p" * 129)
    assert (refused.status_code, refused.json()) == (422, {
        "error": "Validation failed: This password is too long. It must contain at most "
                 "128 characters.", "details": {}})
    french = app.post("/api/v1/accounts", json={
        "username": "longpass", "email": "longpass@example.test", "password": "p" * 129,
        "agreement": True}, HTTP_ACCEPT_LANGUAGE="fr")
    assert french.json()["error"] == (
        "Échec de la validation\u00a0: Ce mot de passe est trop long. Il doit contenir au "
        "maximum 128 caractères.")
    assert not get_user_model().objects.filter(username="longpass").exists()
    assert sign_up(app, "longpass", password="p" * 128).status_code == 200


@pytest.mark.rate_limits
def test_sign_ups_are_limited_per_ip_across_the_api_and_the_web(db):
    token = app_token()
    ip = "203.0.113.41"
    for n in range(3):
        assert sign_up(from_ip(Api(token), ip), f"api{n}").status_code == 200
    web = Client(HTTP_HOST="localhost", REMOTE_ADDR=ip)
    for n in range(2):
        assert web.post("/auth/sign_up", {
            "username": f"web{n}", "email": f"web{n}@example.test", "password": PASSWORD,
            "password_confirmation": PASSWORD, "agreement": "on"}).status_code == 303
        web.logout()
    refused = sign_up(from_ip(Api(token), ip), "sixth")
    assert_too_many(refused, limit=5, period=1800)
    assert not get_user_model().objects.filter(username="sixth").exists()
    elsewhere = sign_up(from_ip(Api(token), "203.0.113.42"), "sixth")
    assert elsewhere.status_code == 200
    # Headers on success name the tightest window: this address's sign-ups.
    assert (elsewhere["X-RateLimit-Limit"], elsewhere["X-RateLimit-Remaining"]) == ("5", "4")


def test_a_busy_server_refuses_sign_ups_at_once_and_writes_nothing(db, settings):
    settings.TRIBUNE_HASH_CONCURRENCY = 1
    app = Api(app_token())
    with hashing_slots_taken():
        busy = sign_up(app, "too_soon")
        assert busy.status_code == 503
        assert busy["Retry-After"] == "1"
        assert isinstance(busy.json()["error"], str)
        # Reads take no slot.
        assert Api().get("/api/v1/timelines/public").status_code == 200
        assert Api().get("/api/v1/instance").status_code == 200
    assert not get_user_model().objects.filter(username="too_soon").exists()
    assert sign_up(app, "too_soon").status_code == 200


# --- the admin API for sign-ups awaiting approval ------------------------------------


def pending_account(username: str):
    from tribune.accounts.instance import registration_mode_set
    from tribune.accounts.registrations import account_sign_up

    registration_mode_set(mode="approval")
    return account_sign_up(username=username, email=f"{username}@example.test",
                           password=PASSWORD, agreement=True, reason="hello")


def test_admin_reject_deletes_the_sign_up(moderator, admin_as):
    account = pending_account("spammy")
    admin = admin_as(moderator)
    response = admin.post(f"/api/v1/admin/accounts/{account.pk}/reject")
    assert response.status_code == 200 and response.json() == {}
    assert not get_user_model().objects.filter(username="spammy").exists()
    assert admin.post(f"/api/v1/admin/accounts/{account.pk}/reject").status_code == 404


def test_admin_review_needs_staff_the_scope_and_a_pending_account(moderator, alice,
                                                                   admin_as):
    account = pending_account("maybe")
    path = f"/api/v1/admin/accounts/{account.pk}/approve"
    assert admin_as(alice).post(path).status_code == 403
    assert admin_as(moderator, scopes="read write").post(path).status_code == 403
    admin = admin_as(moderator, scopes="admin:write")
    assert admin.post(f"/api/v1/admin/accounts/{alice.pk}/approve").status_code == 403
    assert admin.post(f"/api/v1/admin/accounts/{alice.pk}/reject").status_code == 403
    assert get_user_model().objects.filter(username="alice").exists()
    assert admin.post("/api/v1/admin/accounts/12345/approve").status_code == 404
    assert admin.post(path).status_code == 200
    assert admin.post(path).status_code == 403  # no longer awaiting approval


# --- the token endpoint and unauthenticated calls, per IP ----------------------------


def client_credentials(client: Client, app: dict):
    return client.post("/oauth/token", {"grant_type": "client_credentials",
                                        "client_id": app["client_id"],
                                        "client_secret": app["client_secret"]})


@pytest.mark.rate_limits
def test_token_requests_are_limited_per_ip(db):
    client = Client(HTTP_HOST="localhost", REMOTE_ADDR="198.51.100.31")
    app = client.post("/api/v1/apps", {"client_name": "Busy app",
                                       "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}).json()
    first = client_credentials(client, app)
    assert first.status_code == 200
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("25", "24")
    assert reset_of(first) == window_end(300)
    for _ in range(24):
        client_credentials(client, app)
    assert_too_many(client_credentials(client, app), limit=25, period=300)
    other = Client(HTTP_HOST="localhost", REMOTE_ADDR="198.51.100.32")
    assert client_credentials(other, app).status_code == 200


def test_a_busy_server_answers_token_requests_with_503(db, settings):
    settings.TRIBUNE_HASH_CONCURRENCY = 1
    client = Client(HTTP_HOST="localhost")
    app = client.post("/api/v1/apps", {"client_name": "Busy app",
                                       "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}).json()
    with hashing_slots_taken():
        busy = client_credentials(client, app)
    assert busy.status_code == 503
    assert busy["Retry-After"] == "1"
    assert busy.json()["error"] == "temporarily_unavailable"
    assert client_credentials(client, app).status_code == 200


@pytest.mark.rate_limits
def test_unauthenticated_calls_are_limited_per_ip(db):
    from tribune.api.ratelimit import API

    spent(API, "ip:192.0.2.77", 299)
    visitor = from_ip(Api(), "192.0.2.77")
    last = visitor.get("/api/v1/timelines/public")
    assert last.status_code == 200 and last["X-RateLimit-Remaining"] == "0"
    assert_too_many(visitor.get("/api/v1/timelines/public"), limit=300, period=300)
    assert from_ip(Api(), "192.0.2.78").get("/api/v1/timelines/public").status_code == 200
