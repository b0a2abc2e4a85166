"""Which tokens get in (api.auth): a valid token whose login may not act is 403 with
Mastodon's reason (``Api::BaseController#require_user!``), a token that is not
valid is 401."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.api.test_surge_limits import app_token, pending_account, sign_up
from tests.conftest import Api

pytestmark = pytest.mark.django_db

INVALID = (401, {"error": "The access token is invalid"})
PENDING = (403, {"error": "Your login is currently pending approval"})
DISABLED = (403, {"error": "Your login is currently disabled"})


def answer(response):
    return response.status_code, response.json()


def test_a_sign_up_awaiting_approval_is_told_so(db):
    from tribune.accounts.instance import registration_mode_set

    registration_mode_set(mode="approval")
    joined = sign_up(Api(app_token()), "waiting", reason="I write about moths")
    assert joined.status_code == 200, joined.content
    api = Api(joined.json()["access_token"])
    assert answer(api.get("/api/v1/accounts/verify_credentials")) == PENDING
    assert answer(api.get("/api/v1/timelines/home")) == PENDING
    assert answer(api.post("/api/v1/statuses", json={"status": "hello"})) == PENDING


def test_a_pending_login_with_a_cli_token_is_told_so_too(api_as):
    account = pending_account("patient")
    assert answer(api_as(account).get("/api/v1/accounts/verify_credentials")) == PENDING


def test_a_disabled_login_is_told_so(alice, api_as):
    api = api_as(alice)
    # What unticking "active" on the login in /admin/ does.
    get_user_model().objects.filter(pk=alice.user_id).update(is_active=False)
    assert answer(api.get("/api/v1/accounts/verify_credentials")) == DISABLED


def test_a_suspended_account_is_told_its_login_is_disabled(alice, bob, moderator, api_as):
    from tribune.moderation.decisions import Reasons, decision_create
    from tribune.moderation.services import report_create, rule_create

    api = api_as(alice)
    rule = rule_create(text="No spam")
    case = report_create(reporter=bob, target=alice, rule_ids=[rule.pk]).case
    decision_create(case_id=case.pk, moderator=moderator, restriction="suspend",
                    reasons=Reasons(facts="Posting ads.", rule_id=rule.pk,
                                    explanation="Spam."))
    # Mastodon's User#functional? is false for a suspended account.
    assert answer(api.get("/api/v1/accounts/verify_credentials")) == DISABLED


def test_unknown_revoked_and_expired_tokens_stay_401(alice, api_as):
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    assert answer(Api("not-a-token").get("/api/v1/accounts/verify_credentials")) == INVALID
    api = api_as(alice)
    get_access_token_model().objects.filter(user=alice.user).update(
        expires=timezone.now() - timedelta(seconds=1))
    assert answer(api.get("/api/v1/accounts/verify_credentials")) == INVALID
    revoked = api_as(alice)
    get_access_token_model().objects.filter(user=alice.user).delete()
    assert answer(revoked.get("/api/v1/accounts/verify_credentials")) == INVALID


def test_an_approved_sign_up_gets_in(db):
    from tribune.accounts.instance import registration_mode_set
    from tribune.accounts.registrations import account_approve

    registration_mode_set(mode="approval")
    joined = sign_up(Api(app_token()), "soon", reason="I write about moths")
    api = Api(joined.json()["access_token"])
    assert api.get("/api/v1/accounts/verify_credentials").status_code == 403
    account_approve(account=get_user_model().objects.get(username="soon").account)
    me = api.get("/api/v1/accounts/verify_credentials")
    assert me.status_code == 200 and me.json()["username"] == "soon"


# --- POST /api/v1/accounts wants an app's own token ---------------------------------


def test_signing_up_with_a_users_token_is_refused_as_mastodon_does(alice, api_as):
    r = sign_up(api_as(alice), "second")
    assert answer(r) == (
        403, {"error": "This method requires an client credentials authentication"})
    assert not get_user_model().objects.filter(username="second").exists()


def test_signing_up_with_an_apps_token_still_works(db):
    r = sign_up(Api(app_token()), "first")
    assert r.status_code == 200, r.content
    assert get_user_model().objects.filter(username="first", is_active=True).exists()
