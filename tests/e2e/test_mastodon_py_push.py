"""End to end: Mastodon.py subscribes to Web Push against the real server, a
mention is made, and the push that the server's task workers send reaches a push
service on loopback, where Mastodon.py's own decryption reads it."""

from __future__ import annotations

import time

import pytest
from mastodon import Mastodon

from tests.api.test_push import PushService
from tests.e2e.conftest import start_server, stop_server


@pytest.fixture(scope="module")
def push_service():
    running = PushService()
    yield running
    running.close()


@pytest.fixture(scope="module")
def push_server(tmp_path_factory, push_service):
    data_dir = tmp_path_factory.mktemp("push-server")
    process, running, log = start_server(
        data_dir, TRIBUNE_FETCH_ALLOW_HOSTS=f"127.0.0.1:{push_service.port}"
    )
    yield running
    stop_server(process, log, data_dir)


def client(server, name: str) -> Mastodon:
    token = server.accounts(name, scopes="read write push")[name]
    return Mastodon(
        access_token=token,
        api_base_url=server.base_url,
        version_check_mode="created",
        ratelimit_method="throw",
    )


def test_a_mention_arrives_as_a_push_that_mastodon_py_decrypts(
    push_server, push_service
):
    ines, joao = client(push_server, "ines"), client(push_server, "joao")
    private, public = ines.push_subscription_generate_keys()
    subscription = ines.push_subscription_set(
        push_service.url("/ines"), public, mention_events=True, policy="all"
    )
    assert subscription["alerts"]["mention"] is True
    assert subscription["alerts"]["follow"] is False
    assert (
        subscription["server_key"]
        == ines.instance_v2()["configuration"]["vapid"]["public_key"]
    )

    joao.status_post("@ines the seedlings are up")
    deadline = time.monotonic() + 30
    while not push_service.received and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(push_service.received) == 1
    path, headers, body = push_service.received[0]
    assert path == "/ines"
    message = ines.push_subscription_decrypt_push(
        body, private, headers["Encryption"], headers["Crypto-Key"]
    )
    notification = ines.notifications()[0]
    assert message["notification_type"] == "mention"
    assert str(message["notification_id"]) == str(notification["id"])
    assert message["title"] == "joao mentioned you"
    assert message["body"] == "@ines the seedlings are up"
    assert message["access_token"] == ines.access_token
