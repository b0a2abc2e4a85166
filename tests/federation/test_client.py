"""The outbound federation client against real HTTP servers on loopback: the
development peer mapping, ActivityStreams types, signed requests, the SSRF guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from tribune.core.conf import dev_peers
from tribune.federation.client import (
    FederationRequestError,
    account_signer,
    get_document,
    post_activity,
)
from tribune.federation.keys import actor_key_get_or_create
from tribune.federation.signatures import verify_request

NOTE = {"id": "https://remote.test/notes/1", "type": "Note", "content": "hello"}


def test_a_peer_domain_is_fetched_from_its_loopback_address_with_its_own_host(remote):
    remote.json("/notes/1", NOTE)
    fetched = get_document("https://remote.test/notes/1")
    assert fetched.url == "https://remote.test/notes/1"
    assert fetched.document == NOTE
    (request,) = remote.received
    assert request.headers["Host"] == "remote.test"
    assert "application/activity+json" in request.headers["Accept"]
    assert "Signature" not in request.headers


def test_ld_json_with_the_activitystreams_profile_is_read(remote):
    remote.json("/notes/1", NOTE,
                content_type='application/ld+json; profile="https://www.w3.org/ns/activitystreams"')
    assert get_document("https://remote.test/notes/1").document == NOTE


@pytest.mark.parametrize("content_type", ["image/png", "text/plain", "application/json",
                                          "application/octet-stream", "application/ld+json"])
def test_a_document_of_another_type_is_refused_whatever_its_body(remote, content_type):
    forged = {"id": "https://remote.test/media/f1.png", "type": "Note",
              "attributedTo": "https://remote.test/users/bob", "content": "forged"}
    remote.json("/media/f1.png", forged, content_type=content_type)
    with pytest.raises(FederationRequestError, match="not an ActivityStreams document") as error:
        get_document("https://remote.test/media/f1.png")
    assert error.value.temporary is False


@pytest.mark.parametrize(("status", "temporary"), [(404, False), (410, False), (429, True),
                                                   (503, True)])
def test_errors_say_whether_to_try_again(remote, status, temporary):
    remote.json("/notes/1", {"error": "x"}, status=status)
    with pytest.raises(FederationRequestError, match=f"answered {status}") as error:
        get_document("https://remote.test/notes/1")
    assert error.value.temporary is temporary


def test_bodies_over_one_mebibyte_and_non_objects_are_refused(remote):
    remote.routes["/big"] = (200, {"Content-Type": "application/activity+json"},
                             b'{"a":"' + b"x" * (1024 * 1024) + b'"}')
    with pytest.raises(FederationRequestError, match="over 1048576"):
        get_document("https://remote.test/big")
    remote.routes["/list"] = (200, {"Content-Type": "application/activity+json"}, b"[1, 2]")
    with pytest.raises(FederationRequestError, match="not a JSON object"):
        get_document("https://remote.test/list")
    remote.routes["/broken"] = (200, {"Content-Type": "application/activity+json"}, b"{nope")
    with pytest.raises(FederationRequestError, match="not JSON"):
        get_document("https://remote.test/broken")


def test_a_signed_fetch_is_signed_anew_at_each_redirect(remote, alice):
    remote.routes["/notes/old"] = (302, {"Location": "https://remote.test/notes/1?x=1"}, b"")
    remote.json("/notes/1?x=1", NOTE)
    fetched = get_document("https://remote.test/notes/old", signer=account_signer(alice))
    assert fetched.url == "https://remote.test/notes/1?x=1"
    public_pem = actor_key_get_or_create(account=alice).public_key_pem
    for request, target in zip(remote.received, ["/notes/old", "/notes/1?x=1"], strict=True):
        assert request.path == target
        params = verify_request(method="GET", target=target, headers=request.headers,
                                body=b"", public_key_pem=public_pem)
        assert params.key_id == f"{settings.TRIBUNE_BASE_URL}/users/alice#main-key"


def test_a_delivery_is_a_signed_post_with_a_digest(remote, alice):
    remote.routes["/inbox"] = (202, {}, b"")
    activity = {"type": "Accept", "actor": "http://localhost/users/alice", "object": "x"}
    assert post_activity("https://remote.test/inbox", activity,
                         signer=account_signer(alice)) == 202
    (request,) = remote.received
    assert request.method == "POST" and json.loads(request.body) == activity
    assert request.headers["Content-Type"] == "application/activity+json"
    params = verify_request(method="POST", target="/inbox", headers=request.headers,
                            body=request.body,
                            public_key_pem=actor_key_get_or_create(account=alice).public_key_pem)
    assert "digest" in params.headers


def test_a_refused_delivery_is_an_error(remote, alice):
    remote.routes["/inbox"] = (401, {}, b'{"error":"bad signature"}')
    with pytest.raises(FederationRequestError, match="answered 401") as error:
        post_activity("https://remote.test/inbox", {"type": "Accept"},
                      signer=account_signer(alice))
    assert error.value.temporary is False


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{canary}/", "http://localhost:{canary}/", "http://2130706433:{canary}/",
    "http://[::1]:{canary}/", "http://[::ffff:127.0.0.1]:{canary}/", "http://0.0.0.0:{canary}/",
    "http://10.0.0.1/", "http://192.168.1.1/", "http://169.254.169.254/",
    "http://100.64.0.1/", "http://[fe80::1]/", "http://[::]/",
    "http://127.0.0.2:{canary}/",  # a development peer's address, but not its port
])
def test_internal_addresses_are_refused_even_with_peers_configured(remote, canary, url):
    # Refused by the address check, or (IPv6 forms on a host without IPv6) not
    # resolved at all; never reached either way.
    with pytest.raises(FederationRequestError, match=r"refused address|cannot resolve"):
        get_document(url.format(canary=canary.port))
    assert canary.received == [] and remote.received == []


def test_a_refused_address_is_a_final_error(remote, canary):
    with pytest.raises(FederationRequestError, match="refused address") as error:
        get_document(f"http://127.0.0.1:{canary.port}/")
    assert error.value.temporary is False


def test_a_redirect_to_an_internal_address_is_refused(remote, canary):
    remote.routes["/notes/1"] = (302, {"Location": f"http://127.0.0.1:{canary.port}/admin"}, b"")
    with pytest.raises(FederationRequestError, match="refused address"):
        get_document("https://remote.test/notes/1")
    assert canary.received == []


def test_redirects_are_bounded(remote):
    for hop in range(5):
        remote.routes[f"/r{hop}"] = (302, {"Location": f"/r{hop + 1}"}, b"")
    remote.json("/r5", NOTE)
    with pytest.raises(FederationRequestError, match="redirects"):
        get_document("https://remote.test/r0")
    assert len(remote.received) == 4


# --- TRIBUNE_DEV_PEERS ------------------------------------------------------------


def test_dev_peers_are_read_as_domains_and_loopback_addresses():
    assert dev_peers("a.test=127.0.0.2:8001, B.test=127.0.0.3:8002", debug=True) == {
        "a.test": ("127.0.0.2", 8001), "b.test": ("127.0.0.3", 8002)}
    assert dev_peers("c.test=[::1]:8003", debug=True) == {"c.test": ("::1", 8003)}
    assert dev_peers("", debug=False) == {}


@pytest.mark.parametrize("raw", ["a.test=10.0.0.1:80", "a.test=127.0.0.2", "a.test",
                                 "=127.0.0.2:80", "a.test=127.0.0.2:0", "a.test=host:80"])
def test_dev_peers_that_are_not_loopback_addresses_with_ports_are_refused(raw):
    with pytest.raises(ImproperlyConfigured, match="TRIBUNE_DEV_PEERS must be"):
        dev_peers(raw, debug=True)


def test_dev_peers_without_debug_stop_the_start_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIBUNE_")}
    env.update(TRIBUNE_DATA_DIR=str(tmp_path), TRIBUNE_DEV_PEERS="a.test=127.0.0.2:8001",
               TRIBUNE_DEBUG="0")
    result = subprocess.run([sys.executable, "-m", "tribune.cli", "migrate"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "tribune migrate: error: TRIBUNE_DEV_PEERS is for development only and needs "
        "TRIBUNE_DEBUG=1"]


def test_an_instance_on_a_peer_domain_keeps_https_ids(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIBUNE_")}
    env.update(TRIBUNE_DATA_DIR=str(tmp_path), TRIBUNE_DEBUG="1", TRIBUNE_DOMAIN="a.test",
               TRIBUNE_DEV_PEERS="a.test=127.0.0.2:8001,b.test=127.0.0.3:8002",
               DJANGO_SETTINGS_MODULE="tribune.settings")
    code = "from django.conf import settings; print(settings.TRIBUNE_BASE_URL)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.strip() == "https://a.test", result.stderr
