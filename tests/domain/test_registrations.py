"""Joining through the services: modes, the operator's review, invites."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tribune.accounts.instance import registration_mode_set
from tribune.accounts.models import Invite
from tribune.accounts.registrations import (
    account_approve,
    account_reject,
    account_sign_up,
    invite_create,
    invite_use,
)
from tribune.core.errors import Conflict, Forbidden, ValidationFailed

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def join(username: str, **kwargs):
    return account_sign_up(username=username, email=f"{username}@example.test",
                           password=PASSWORD, agreement=True, **kwargs)


def test_closed_registrations_refuse_everyone(db):
    registration_mode_set(mode="closed")
    with pytest.raises(Forbidden):
        join("nobody")


def test_the_rules_must_be_accepted(db):
    registration_mode_set(mode="open")
    with pytest.raises(ValidationFailed):
        account_sign_up(username="x", email="x@example.test", password=PASSWORD,
                        agreement=False)


def test_a_decision_is_made_once(db):
    registration_mode_set(mode="approval")
    first, second = join("first", reason="hi"), join("second", reason="hi")
    account_approve(account=first)
    with pytest.raises(Conflict):
        account_approve(account=first)
    with pytest.raises(Conflict):
        account_reject(account=first)
    account_reject(account=second)
    with pytest.raises(Conflict):
        account_approve(account=second)


def test_pending_accounts_are_not_found_by_search(alice, api_as, db):
    registration_mode_set(mode="approval")
    pending = join("hopeful", reason="hi")
    api = api_as(alice)
    assert api.get("/api/v1/accounts/search", {"q": "hopeful"}).json() == []
    account_approve(account=pending)
    found = api.get("/api/v1/accounts/search", {"q": "hopeful"}).json()
    assert [a["username"] for a in found] == ["hopeful"]


def test_invites_are_checked_when_made(alice):
    with pytest.raises(ValidationFailed):
        invite_create(created_by=alice, max_uses=0)
    with pytest.raises(ValidationFailed):
        invite_create(created_by=alice, expires_at=timezone.now() - timedelta(seconds=1))
    invite = invite_create(created_by=alice, max_uses=2)
    assert len(invite.code) == 8 and invite.code.isalnum()
    assert invite.uses == 0 and invite.expires_at is None


def test_an_invite_is_never_used_more_than_allowed(alice):
    invite = invite_create(created_by=alice, max_uses=1)
    assert invite_use(code=f"  {invite.code} ").uses == 1
    with pytest.raises(ValidationFailed):
        invite_use(code=invite.code)
    # The database refuses it too, whatever the code path.
    with pytest.raises(IntegrityError), transaction.atomic():
        Invite.objects.filter(pk=invite.pk).update(uses=2)
    assert Invite.objects.get(pk=invite.pk).uses == 1


def test_unlimited_invites_keep_counting(alice):
    registration_mode_set(mode="invite")
    invite = invite_create(created_by=alice)
    for n in range(3):
        join(f"friend{n}", invite_code=invite.code)
    assert Invite.objects.get(pk=invite.pk).uses == 3


def test_the_username_check_probes_the_handle_index(db, make_account):
    """Sign-ups check the username on the unique (LOWER(username), domain) index,
    never by scanning every account (the benchmark's sign-up surge found
    ``username__iexact``, which PostgreSQL cannot answer from that index)."""
    from django.db import connection

    from tribune.accounts.models import Account
    from tribune.accounts.selectors import by_handle, username_taken

    make_account("Zoe_1")
    assert username_taken("zoe_1") and username_taken("ZOE_1") and not username_taken("zoe")
    sql, params = by_handle(Account.objects.all(), "ZOE_1", "").values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "account_handle_unique" in plan, plan


def test_the_email_check_probes_the_email_index(db, make_account):
    """Sign-ups ask whether the address is taken through the index on LOWER(email)
    (migration accounts 0013), never by reading every login: ``email__iexact``
    compiles to LIKE on SQLite and UPPER() on PostgreSQL, which no index answered,
    so each sign-up read every login."""
    from django.db import connection

    from tribune.accounts.selectors import email_taken, logins_with_email

    make_account("Yan_1")  # Yan_1@example.test
    assert email_taken("yan_1@EXAMPLE.test") and not email_taken("yan@example.test")
    sql, params = logins_with_email("YAN_1@example.test").values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "auth_user_email_lower" in plan, plan


def test_an_app_sign_up_whose_token_is_refused_leaves_no_login(db):
    """The login, its account and the app's token are made in one transaction: an
    app whose stored scopes no longer name a known scope cannot issue the token, and
    the sign-up leaves nothing behind (it used to leave a login without a token)."""
    from django.contrib.auth import get_user_model

    from tribune.accounts.models import Account
    from tribune.oauth.models import Application
    from tribune.oauth.services import app_sign_up, application_create

    registration_mode_set(mode="open")
    app, _secret = application_create(name="Client", redirect_uris="urn:ietf:wg:oauth:2.0:oob",
                                      scopes="read write")
    Application.objects.filter(pk=app.pk).update(scopes="read write:retired")
    app.refresh_from_db()
    with pytest.raises(ValidationFailed):
        app_sign_up(application=app, username="tokenless", email="tokenless@example.test",
                    password=PASSWORD, agreement=True)
    assert not Account.objects.filter(username="tokenless").exists()
    assert not get_user_model().objects.filter(username="tokenless").exists()

    app.scopes = "read write"
    app.save()
    account, raw = app_sign_up(application=app, username="tokenless",
                               email="tokenless@example.test", password=PASSWORD, agreement=True)
    from tribune.oauth.models import AccessToken

    assert AccessToken.objects.get(user=account.user).scope == "read write"
    assert len(raw) > 20
