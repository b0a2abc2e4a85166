"""Which address a request came from, behind trusted reverse proxies and not
(tribune.core.ratelimit.client_ip)."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import RequestFactory

from tribune.core.ratelimit import client_ip

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:a::/48"))


@pytest.fixture(autouse=True)
def _proxies(settings):
    settings.TRIBUNE_TRUSTED_PROXIES = PROXIES


def ip_of(remote: str, forwarded: str | None = None) -> str:
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **headers))


def test_an_untrusted_peer_is_the_client_whatever_it_forwards():
    assert ip_of("198.51.100.7", "203.0.113.9") == "198.51.100.7"


def test_nobody_is_trusted_by_default(settings):
    settings.TRIBUNE_TRUSTED_PROXIES = ()
    assert ip_of("10.0.0.2", "203.0.113.9") == "10.0.0.2"


def test_behind_a_trusted_proxy_the_client_is_what_the_proxy_saw():
    assert ip_of("10.0.0.2", "203.0.113.9") == "203.0.113.9"


def test_left_most_entries_sent_by_the_client_are_not_believed():
    # The client sent "X-Forwarded-For: 192.0.2.1"; the proxy appended its peer.
    assert ip_of("10.0.0.2", "192.0.2.1, 203.0.113.9") == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_skipped():
    assert ip_of("10.0.0.2", "192.0.2.1, 203.0.113.9, 10.1.2.3, 10.0.0.7") == "203.0.113.9"


def test_all_trusted_gives_the_left_most():
    assert ip_of("10.0.0.2", "10.9.9.9, 10.0.0.7") == "10.9.9.9"


def test_ipv6_proxies_and_clients():
    assert ip_of("2001:db8:a::1", "2001:DB8:B:0::0:5") == "2001:db8:b::5"
    assert ip_of("2001:db8:b::1", "203.0.113.9") == "2001:db8:b::1"  # not a proxy
    assert ip_of("::ffff:10.0.0.2", "203.0.113.9") == "203.0.113.9"  # IPv4-mapped


@pytest.mark.parametrize("forwarded", [
    "", "   ", "unknown", "203.0.113.9:4711", "192.0.2.1, not-an-ip", "192.0.2.1,,10.0.0.7",
    "300.1.2.3",
])
def test_a_malformed_header_falls_back_to_the_proxy(forwarded):
    assert ip_of("10.0.0.2", forwarded) == "10.0.0.2"


def test_no_header_from_a_proxy_is_the_proxy():
    assert ip_of("10.0.0.2") == "10.0.0.2"
