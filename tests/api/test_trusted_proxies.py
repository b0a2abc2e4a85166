"""Per-IP sign-up budgets behind a trusted reverse proxy: each client behind it
has a budget of its own (TRIBUNE_TRUSTED_PROXIES)."""

from __future__ import annotations

import ipaddress

import pytest
from django.contrib.auth import get_user_model

from tests.api.test_surge_limits import app_token, sign_up, spent
from tests.conftest import Api
from tribune.api.ratelimit import SIGN_UPS

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def _behind_a_proxy(settings):
    settings.TRIBUNE_RATE_LIMITS = True
    settings.TRIBUNE_TRUSTED_PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)


def via_proxy(token: str, client: str) -> Api:
    api = Api(token)
    api.client.defaults.update(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.1, {client}")
    return api


@pytest.mark.rate_limits
def test_clients_behind_a_trusted_proxy_have_their_own_sign_up_budgets():
    token = app_token()
    spent(SIGN_UPS, "ip:203.0.113.50", SIGN_UPS.limit)  # this client's budget is spent
    refused = sign_up(via_proxy(token, "203.0.113.50"), "first")
    assert refused.status_code == 429
    other = sign_up(via_proxy(token, "203.0.113.51"), "second")
    assert other.status_code == 200
    assert other["X-RateLimit-Remaining"] == str(SIGN_UPS.limit - 1)
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["second"]
