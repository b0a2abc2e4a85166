"""The SSRF guard's address rules and allow-list (tribune.core.http)."""

from __future__ import annotations

import ipaddress

import pytest

from tribune.core import http


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.1.1",
    "169.254.169.254", "100.64.0.1", "100.127.255.254", "224.0.0.1", "239.255.255.250",
    "240.0.0.1", "255.255.255.255", "192.0.0.8", "198.18.0.1", "192.0.2.1",
    "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::ffff:100.64.0.1",
    "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "2001:0:4136:e378::1", "2001:db8::1",
])
def test_internal_and_special_addresses_are_refused(address):
    assert http.address_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [
    "93.184.215.14", "1.1.1.1", "8.8.8.8", "100.128.0.1", "2606:4700:4700::1111",
    "::ffff:93.184.215.14", "2a00:1450:4001:81c::200e",
])
def test_public_addresses_are_allowed(address):
    assert not http.address_refused(ipaddress.ip_address(address))


def test_the_allow_list_names_hosts_with_or_without_a_port(settings):
    settings.TRIBUNE_FETCH_ALLOW_HOSTS = ["wiki.internal", "127.0.0.1:8080", "[::1]:9000"]
    assert http.host_allowed("wiki.internal", 80)
    assert http.host_allowed("WIKI.internal.", 4443)
    assert http.host_allowed("127.0.0.1", 8080)
    assert not http.host_allowed("127.0.0.1", 8081)
    assert http.host_allowed("::1", 9000)
    assert not http.host_allowed("wiki.internal.example", 80)
    settings.TRIBUNE_FETCH_ALLOW_HOSTS = "a.test, b.test:81"
    assert http.host_allowed("b.test", 81) and not http.host_allowed("b.test", 80)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/", "gopher://127.0.0.1/"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(http.BlockedAddress):
        http.fetch(url)


def test_a_refused_address_is_refused_before_connecting(settings):
    settings.TRIBUNE_FETCH_ALLOW_HOSTS = []
    with pytest.raises(http.BlockedAddress):
        http.resolve("localhost", 80)
    with pytest.raises(http.BlockedAddress):
        http.fetch("http://[::ffff:169.254.169.254]/latest/meta-data/")


def test_the_user_agent_names_tribune_and_the_instance(settings):
    assert http.user_agent().startswith("Tribune/")
    assert settings.TRIBUNE_BASE_URL in http.user_agent()


def test_a_peer_trickling_its_body_is_cut_off_at_the_deadline(settings):
    """FED-08 (../shared/cases): headers, then one byte every 0.2 s for 30 s. The
    whole fetch has a deadline, so it fails instead of reading until the peer
    stops (the body was read in whole chunks, and the deadline checked only when
    one was full)."""
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    settings.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{port}"]

    def drip():
        connection, _address = listener.accept()
        with connection:
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                               b"Content-Length: 1000\r\n\r\n")
            end = time.monotonic() + 30
            try:
                while time.monotonic() < end:
                    connection.sendall(b"x")
                    time.sleep(0.2)
            except OSError:
                pass  # the client gave up, as it should

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        with pytest.raises(http.FetchError, match="timed out"):
            http.fetch(f"http://127.0.0.1:{port}/slow", timeout=1.0)
    finally:
        listener.close()
