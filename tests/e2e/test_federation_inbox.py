"""A remote server follows an account of the real server: the instance runs as
``a.test`` beside a peer ``remote.test`` on another loopback address
(``TRIBUNE_DEV_PEERS``), fetches the follower's actor from it, and its task
worker delivers the signed Accept to the follower's inbox."""

from __future__ import annotations

import json
import time

import requests

from tests.e2e.conftest import free_port, start_server, stop_server
from tests.federation import peers
from tribune.federation.signatures import sign_request, verify_request

AS = "application/activity+json"
ZED = "https://remote.test/users/zed"


def test_a_follow_from_a_dev_peer_is_accepted_by_the_worker(tmp_path):
    remote, remote_server = peers.start("127.0.0.3")
    private_pem, public_pem = peers.key_pair()
    remote.json("/users/zed", peers.actor_document("zed", public_pem))
    remote.routes["/users/zed/inbox"] = (202, {}, b"")
    port = free_port("127.0.0.2")
    process, server, log = start_server(
        tmp_path, host="127.0.0.2", port=port, TRIBUNE_DOMAIN="a.test", TRIBUNE_DEBUG="1",
        TRIBUNE_DEV_PEERS=f"a.test=127.0.0.2:{port},remote.test=127.0.0.3:{remote.port}")
    try:
        made = server.cli("createuser", "fedora", "--email", "fedora@example.test",
                          "--password", "correct-horse-battery-staple")
        assert made.returncode == 0, made.stderr
        actor = requests.get(f"{server.base_url}/users/fedora",
                             headers={"Accept": AS, "Host": "a.test"}, timeout=10).json()
        assert actor["id"] == "https://a.test/users/fedora"

        follow = {"id": "https://remote.test/follows/7", "type": "Follow", "actor": ZED,
                  "object": actor["id"]}
        body = json.dumps(follow).encode()
        headers = sign_request(method="POST", url="https://a.test/users/fedora/inbox",
                               body=body, key_id=f"{ZED}#main-key", private_key_pem=private_pem,
                               headers={"Content-Type": AS})
        response = requests.post(f"{server.base_url}/users/fedora/inbox", data=body,
                                 headers=headers, timeout=30)
        assert response.status_code == 202, response.text

        deadline = time.monotonic() + 60
        while not any(r.method == "POST" for r in remote.received):
            assert time.monotonic() < deadline, "no Accept was delivered"
            time.sleep(0.2)
        (delivery,) = [r for r in remote.received if r.method == "POST"]
        assert delivery.path == "/users/zed/inbox" and delivery.headers["Host"] == "remote.test"
        accept = json.loads(delivery.body)
        assert accept["type"] == "Accept" and accept["actor"] == actor["id"]
        assert accept["object"]["id"] == "https://remote.test/follows/7"
        params = verify_request(method="POST", target="/users/zed/inbox",
                                headers=delivery.headers, body=delivery.body,
                                public_key_pem=actor["publicKey"]["publicKeyPem"])
        assert params.key_id == "https://a.test/users/fedora#main-key"
        followers = requests.get(f"{server.base_url}/users/fedora/followers?page=1",
                                 headers={"Accept": AS, "Host": "a.test"}, timeout=10).json()
        assert followers["orderedItems"] == [ZED]
    finally:
        stop_server(process, log, tmp_path)
        remote_server.shutdown()
        remote_server.server_close()
