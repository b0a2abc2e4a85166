"""Web Push: the subscription endpoints, and notifications pushed encrypted and
VAPID-signed to a push service that a test runs on loopback, decrypted there with
the browser's keys as a browser would (RFC 8291, RFC 8292)."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

pytestmark = pytest.mark.django_db(transaction=True)

ALL_OFF = {
    "mention": False,
    "status": False,
    "reblog": False,
    "follow": False,
    "follow_request": False,
    "favourite": False,
    "poll": False,
    "update": False,
    "admin.sign_up": False,
    "admin.report": False,
    "quote": False,
    "quoted_update": False,
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """A browser's push keys: a P-256 key pair and a 16-byte auth secret."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.p256dh = b64url(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962,
                serialization.PublicFormat.UncompressedPoint,
            )
        )


class PushService:
    """A push service on 127.0.0.1 that records what it is sent and answers
    ``status`` (201 by default)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 201
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.received.append((self.path, dict(self.headers.items()), body))
                self.send_response(service.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service(settings):
    running = PushService()
    settings.TRIBUNE_FETCH_ALLOW_HOSTS = f"127.0.0.1:{running.port}"
    yield running
    running.close()


def subscribe(api, browser: Browser, endpoint: str, *, standard: bool = True, **data):
    return api.post(
        "/api/v1/push/subscription",
        json={
            "subscription": {
                "endpoint": endpoint,
                "standard": standard,
                "keys": {"p256dh": browser.p256dh, "auth": b64url(browser.auth)},
            },
            "data": data,
        },
    )


def jwt_verified(token: str, public_key_b64: str) -> dict:
    """The claims of an ES256 JWT after checking its signature with the raw P-256
    key ``public_key_b64`` (RFC 7515, RFC 7518 section 3.4)."""
    signing_input, _dot, signature = token.rpartition(".")
    raw = unb64url(signature)
    der = encode_dss_signature(
        int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    )
    key = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), unb64url(public_key_b64)
    )
    key.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    header = json.loads(unb64url(signing_input.split(".")[0]))
    assert header["alg"] == "ES256"
    return json.loads(unb64url(signing_input.split(".")[1]))


def test_a_subscription_is_made_read_changed_and_removed(alice, api_as, service):
    api = api_as(alice)
    browser = Browser()
    endpoint = service.url("/push/alice-phone")
    made = subscribe(
        api,
        browser,
        endpoint,
        alerts={"mention": True, "favourite": "true", "unknown": True},
        policy="followed",
    )
    assert made.status_code == 200, made.content
    server_key = api.get("/api/v2/instance").json()["configuration"]["vapid"][
        "public_key"
    ]
    assert len(unb64url(server_key)) == 65 and unb64url(server_key)[0] == 4
    assert made.json() == {
        "id": made.json()["id"],
        "endpoint": endpoint,
        "standard": True,
        "alerts": {**ALL_OFF, "mention": True, "favourite": True},
        "server_key": server_key,
    }
    assert api.get("/api/v1/push/subscription").json() == made.json()

    changed = api.put(
        "/api/v1/push/subscription",
        json={"data": {"alerts": {"follow": True, "mention": False}}},
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["alerts"] == {**ALL_OFF, "follow": True, "favourite": True}

    assert api.delete("/api/v1/push/subscription").json() == {}
    assert api.get("/api/v1/push/subscription").status_code == 404
    assert api.put("/api/v1/push/subscription", json={}).json() == {
        "error": "Record not found"
    }


def test_a_new_subscription_replaces_the_tokens_old_one_and_others_keep_theirs(
    alice, api_as, service
):
    phone, laptop = api_as(alice), api_as(alice)
    first = subscribe(phone, Browser(), service.url("/one")).json()
    second = subscribe(phone, Browser(), service.url("/two")).json()
    other = subscribe(laptop, Browser(), service.url("/three")).json()
    assert second["id"] != first["id"]
    assert phone.get("/api/v1/push/subscription").json()["endpoint"] == service.url(
        "/two"
    )
    assert laptop.get("/api/v1/push/subscription").json()["id"] == other["id"]
    from tribune.notifications.models import PushSubscription

    assert PushSubscription.objects.filter(account=alice).count() == 2


@pytest.mark.parametrize(
    ("subscription", "data"),
    [
        ({"endpoint": "", "keys": {"p256dh": "x", "auth": "y"}}, {}),
        ({"endpoint": "ftp://push.example/x", "keys": None}, {}),
        (
            {
                "endpoint": "https://push.example/x",
                "keys": {"p256dh": "not-a-key", "auth": "AAAA"},
            },
            {},
        ),
        # 65 bytes that are not a point on P-256.
        (
            {
                "endpoint": "https://push.example/x",
                "keys": {
                    "p256dh": b64url(b"\x04" + b"\x01" * 64),
                    "auth": b64url(b"a" * 16),
                },
            },
            {},
        ),
        (
            {
                "endpoint": "https://push.example/x",
                "keys": {"p256dh": Browser().p256dh, "auth": b64url(b"a" * 16)},
            },
            {"policy": "friends"},
        ),
    ],
)
def test_a_bad_subscription_is_refused_with_422_and_nothing_stored(
    alice, api_as, subscription, data
):
    api = api_as(alice)
    response = api.post(
        "/api/v1/push/subscription", json={"subscription": subscription, "data": data}
    )
    assert response.status_code == 422, response.content
    assert response.json()["error"].startswith("Validation failed")
    assert api.get("/api/v1/push/subscription").status_code == 404


def test_the_push_scope_is_required(alice, api_as, service):
    response = subscribe(
        api_as(alice, scopes="read write"), Browser(), service.url("/x")
    )
    assert response.status_code == 403
    assert response.json() == {"error": "This action is outside the authorized scopes"}


def test_revoking_the_token_removes_its_subscription(alice, api_as, service):
    from oauth2_provider.models import get_access_token_model

    from tribune.notifications.models import PushSubscription

    subscribe(api_as(alice), Browser(), service.url("/x"))
    get_access_token_model().objects.get(user=alice.user).revoke()
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("standard", [True, False], ids=["aes128gcm", "aesgcm"])
def test_a_mention_is_pushed_encrypted_for_the_browser_and_signed(
    alice, carol, api_as, service, standard
):
    api = api_as(alice)
    browser = Browser()
    made = subscribe(
        api,
        browser,
        service.url("/push/alice"),
        standard=standard,
        alerts={"mention": True},
    ).json()
    before = time.time()
    posted = (
        api_as(carol)
        .post("/api/v1/statuses", json={"status": "@alice the garden opens at nine"})
        .json()
    )

    assert len(service.received) == 1
    path, headers, body = service.received[0]
    assert path == "/push/alice"
    assert headers["TTL"] == str(48 * 3600) and headers["Urgency"] == "normal"
    if standard:
        assert headers["Content-Encoding"] == "aes128gcm"
        scheme, _space, params = headers["Authorization"].partition(" ")
        assert scheme == "vapid"
        fields = dict(part.split("=", 1) for part in params.split(","))
        assert fields["k"] == made["server_key"]
        token = fields["t"]
        plain = http_ece.decrypt(
            body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm"
        )
    else:
        assert headers["Content-Encoding"] == "aesgcm"
        scheme, _space, token = headers["Authorization"].partition(" ")
        assert scheme == "WebPush"
        crypto = dict(part.split("=", 1) for part in headers["Crypto-Key"].split(";"))
        assert crypto["p256ecdsa"] == made["server_key"]
        salt = headers["Encryption"].removeprefix("salt=")
        plain = http_ece.decrypt(
            body,
            salt=unb64url(salt),
            dh=unb64url(crypto["dh"]),
            private_key=browser.key,
            auth_secret=browser.auth,
            version="aesgcm",
        )
    claims = jwt_verified(token, made["server_key"])
    assert claims["aud"] == f"http://127.0.0.1:{service.port}"
    assert before < claims["exp"] <= time.time() + 24 * 3600

    message = json.loads(plain)
    notification = api.get("/api/v1/notifications").json()[0]
    assert notification["status"]["id"] == posted["id"]
    assert message == {
        "access_token": api.headers["HTTP_AUTHORIZATION"].removeprefix("Bearer "),
        "preferred_locale": "en",
        "notification_id": notification["id"],
        "notification_type": "mention",
        "icon": notification["account"]["avatar"],
        "title": f"{notification['account']['display_name']} mentioned you",
        "body": "@alice the garden opens at nine",
    }


def test_alerts_and_policy_choose_what_is_pushed(alice, bob, carol, api_as, service):
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    api = api_as(alice)
    subscribe(
        api, Browser(), service.url("/p"), alerts={"mention": True}, policy="followed"
    )
    api_as(carol).post("/api/v1/statuses", json={"status": "@alice from a stranger"})
    api_as(bob).post("/api/v1/statuses", json={"status": "@alice from a friend"})
    api_as(carol).post(f"/api/v1/accounts/{alice.pk}/follow")  # follow alert is off
    assert len(service.received) == 1

    api.put("/api/v1/push/subscription", json={"data": {"policy": "none"}})
    api_as(bob).post("/api/v1/statuses", json={"status": "@alice again"})
    assert len(service.received) == 1


def test_a_gone_subscription_is_removed(alice, carol, api_as, service):
    from tribune.notifications.models import PushSubscription

    subscribe(
        api_as(alice), Browser(), service.url("/expired"), alerts={"mention": True}
    )
    service.status = 410
    api_as(carol).post("/api/v1/statuses", json={"status": "@alice are you there"})
    assert len(service.received) == 1
    assert not PushSubscription.objects.exists()


def test_a_push_service_on_a_private_address_is_never_contacted(
    alice, carol, api_as, settings
):
    """Without the allow-list the SSRF guard refuses loopback: the notification is
    made, nothing is sent, nothing fails."""
    received = PushService()
    try:
        subscribe(
            api_as(alice), Browser(), received.url("/x"), alerts={"mention": True}
        )
        response = api_as(carol).post("/api/v1/statuses", json={"status": "@alice hi"})
        assert response.status_code == 200
        assert received.received == []
        assert len(api_as(alice).get("/api/v1/notifications").json()) == 1
    finally:
        received.close()
