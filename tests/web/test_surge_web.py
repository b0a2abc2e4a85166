"""Passwords and capacity through the pages a browser posts to: hashes made before
Argon2id at OWASP's parameters are re-hashed when their owner signs in (on the
sign-in page, and on the one an app's authorization sends people to), and a server
with no password-hashing slot free answers sign-ins and sign-ups with its 503 page
at once while every page that only reads is still served."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2
from django.contrib.auth.hashers import PBKDF2PasswordHasher as DjangoPBKDF2
from django.test import Client

from tests.busy import argon2_parameters, hashing_slots_taken

PASSWORD = "a-long-test-passphrase"  # the make_account fixture's
OWASP = {"variety": "argon2id", "version": 19, "m": 19456, "t": 2, "p": 1}


def browser(**headers) -> Client:
    return Client(HTTP_HOST="localhost", **headers)


def stored_hash(username: str) -> str:
    return get_user_model().objects.get(username=username).password


def with_old_hash(account, hasher) -> str:
    """Give ``account`` the hash an older Tribune would have stored for its password
    (Django's own hasher classes, at Django's default parameters); returns it."""
    old = hasher.encode(PASSWORD, hasher.salt())
    get_user_model().objects.filter(pk=account.user_id).update(password=old)
    return old


def test_new_passwords_are_hashed_at_owasp_parameters(make_account):
    make_account("fresh")
    assert argon2_parameters(stored_hash("fresh")) == OWASP


@pytest.mark.parametrize("hasher", [DjangoPBKDF2(), DjangoArgon2()],
                         ids=["pbkdf2-1000000", "argon2-django-defaults"])
def test_an_old_hash_is_upgraded_when_its_owner_signs_in(make_account, hasher):
    make_account("veteran")
    old = with_old_hash(get_user_model().objects.get(username="veteran").account, hasher)
    assert argon2_parameters(old) != OWASP
    client = browser()
    signed_in = client.post("/auth/sign_in", {"username": "veteran", "password": PASSWORD})
    assert signed_in.status_code == 302
    upgraded = stored_hash("veteran")
    assert upgraded != old
    assert argon2_parameters(upgraded) == OWASP
    # The new hash still opens the account.
    assert browser().post("/auth/sign_in", {"username": "veteran",
                                            "password": PASSWORD}).status_code == 302


def test_a_wrong_password_leaves_an_old_hash_as_it_is(make_account):
    account = make_account("careful")
    old = with_old_hash(account, DjangoPBKDF2())
    refused = browser().post("/auth/sign_in", {"username": "careful", "password": "nope"})
    assert refused.status_code == 422
    assert stored_hash("careful") == old


def test_an_old_hash_is_upgraded_on_the_sign_in_of_an_app_authorization(make_account):
    from tribune.oauth.services import application_create

    account = make_account("appuser")
    old = with_old_hash(account, DjangoPBKDF2())
    application, _secret = application_create(
        name="Reader app", redirect_uris="https://app.example/callback", scopes="read")
    authorize = "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": application.client_id,
        "redirect_uri": "https://app.example/callback", "scope": "read"})
    client = browser()
    to_sign_in = client.get(authorize)
    assert to_sign_in.status_code == 302 and to_sign_in["Location"].startswith("/auth/sign_in")
    signed_in = client.post(to_sign_in["Location"], {"username": "appuser",
                                                     "password": PASSWORD,
                                                     "next": authorize})
    assert signed_in.status_code == 302 and signed_in["Location"] == authorize
    assert client.get(authorize).status_code == 200  # the consent page
    upgraded = stored_hash("appuser")
    assert upgraded != old and argon2_parameters(upgraded) == OWASP


# A busy server.


def test_a_busy_server_answers_sign_ins_and_sign_ups_with_503_and_still_serves_reads(
        make_account, settings):
    settings.TRIBUNE_HASH_CONCURRENCY = 1
    make_account("regular")
    with hashing_slots_taken():
        client = browser()
        sign_in = client.post("/auth/sign_in", {"username": "regular", "password": PASSWORD})
        assert sign_in.status_code == 503
        assert sign_in["Retry-After"] == "1"
        assert "The server is busy" in sign_in.content.decode()
        assert "_auth_user_id" not in client.session
        sign_up = browser().post("/auth/sign_up", {
            "username": "latecomer", "email": "latecomer@example.test",
            "password": PASSWORD, "password_confirmation": PASSWORD, "agreement": "on"})
        assert sign_up.status_code == 503 and sign_up["Retry-After"] == "1"
        assert not get_user_model().objects.filter(username="latecomer").exists()
        for path in ("/", "/public/local", "/@regular", "/auth/sign_in", "/auth/sign_up"):
            assert browser().get(path).status_code == 200, path
        french = browser(HTTP_ACCEPT_LANGUAGE="fr").post(
            "/auth/sign_in", {"username": "regular", "password": PASSWORD})
        assert french.status_code == 503
        assert "Le serveur est très sollicité" in french.content.decode()
    assert browser().post("/auth/sign_in", {"username": "regular",
                                            "password": PASSWORD}).status_code == 302


@pytest.mark.rate_limits
def test_the_boost_button_refuses_when_the_posting_budget_is_spent(make_account, settings):
    from tribune.core.ratelimit import hit
    from tribune.statuses.models import Status
    from tribune.statuses.services import POSTING, status_create

    settings.TRIBUNE_RATE_LIMITS = True
    author, booster = make_account("author"), make_account("booster")
    post = status_create(account=author, text="boost me")
    for _ in range(300):  # as 300 earlier posts would have
        hit(POSTING, f"account:{booster.pk}")
    client = browser()
    client.force_login(booster.user)
    refused = client.post(f"/statuses/{post.pk}/reblog")
    assert refused.status_code == 429
    assert "Too many attempts" in refused.content.decode()
    assert not Status.objects.filter(account=booster, reblog_of=post).exists()
