"""Web Push: apps subscribe to an account's notifications, and each new one is
encrypted for the subscribing browser or app and POSTed to its push service.

The rules are Mastodon's (https://docs.joinmastodon.org/methods/push/): one
subscription per access token, replaced by a new ``POST``; ``alerts`` choose the
notification types and ``policy`` whose notifications (everyone's, only from
accounts followed, only from followers, nobody's). The message is Mastodon's JSON
(``access_token``, ``preferred_locale``, ``notification_id``, ``notification_type``,
``icon``, ``title``, ``body``), encrypted as RFC 8291 (``aes128gcm``, RFC 8188) for
a ``standard`` subscription and as the older draft (``aesgcm``) otherwise, and
signed with VAPID (RFC 8292; the draft's ``WebPush`` scheme for legacy ones). The
encryption and the VAPID token come from pywebpush and py-vapid; the request goes
through ``core.http.fetch`` like every other outbound request.

The VAPID key pair is derived from the instance's secret key (docs/adr/0033): every
process of an instance has it, a restored backup brings it back, and nothing more
has to be stored. Changing the secret key makes every subscription stale, as it
signs everyone out.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_avatar_url
from tribune.core.errors import NotFound, ValidationFailed
from tribune.core.http import FetchError, fetch
from tribune.core.text import html_to_text
from tribune.core.urls import absolute
from tribune.graph.selectors import is_following
from tribune.notifications.models import (
    PUSH_ALERTS,
    Notification,
    PushPolicy,
    PushSubscription,
)

logger = logging.getLogger(__name__)

# P-256's group order (SEC 2, 2.4.2): a private key is an integer in [1, n - 1].
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# How long a push service keeps a message for an offline device (seconds): the
# 48 hours Mastodon asks for.
TTL_SECONDS = 48 * 60 * 60
# A VAPID token's life (RFC 8292 section 2: at most 24 hours).
VAPID_TOKEN_SECONDS = 12 * 60 * 60
BODY_CHARACTERS = 140  # Mastodon truncates the body to this many characters
SEND_TIMEOUT = 10.0  # seconds for one push service's answer


# ---------------------------------------------------------------- VAPID key


@functools.lru_cache(maxsize=4)
def _vapid_key_for(secret: str) -> ec.EllipticCurvePrivateKey:
    seed = hmac.new(secret.encode(), b"tribune.push.vapid-key", hashlib.sha256).digest()
    scalar = int.from_bytes(seed, "big") % (P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def vapid_private_key() -> ec.EllipticCurvePrivateKey:
    """The instance's VAPID signing key (P-256), derived from ``SECRET_KEY`` by
    HMAC-SHA256 and reduced into the group's range."""
    return _vapid_key_for(settings.SECRET_KEY)


def vapid_public_key() -> str:
    """The VAPID public key as apps need it for ``applicationServerKey``: the
    uncompressed P-256 point (65 bytes), base64url without padding; the
    ``server_key`` of a subscription and the instance's ``vapid.public_key``."""
    point = (
        vapid_private_key()
        .public_key()
        .public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    return _b64url(point)


def _seal_key() -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), b"tribune.push.token-seal", hashlib.sha256
    ).digest()


def token_seal(raw_token: str) -> str:
    """``raw_token`` encrypted with AES-256-GCM under a key derived from the secret
    key: a push message must carry the app's token, and a database or backup
    reader must not get a usable credential from it."""
    nonce = os.urandom(12)
    return _b64url(
        nonce + AESGCM(_seal_key()).encrypt(nonce, raw_token.encode(), b"push")
    )


def token_unseal(sealed: str) -> str:
    """The token ``token_seal`` sealed; "" when it cannot be opened (the secret key
    has changed)."""
    try:
        data = _b64decode(sealed)
        return AESGCM(_seal_key()).decrypt(data[:12], data[12:], b"push").decode()
    except (InvalidTag, ValueError, binascii.Error):
        return ""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(value: str) -> bytes:
    """Base64, URL-safe or standard, with or without padding (apps send both)."""
    value = value.strip().replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


# ------------------------------------------------------------- subscriptions


@dataclass(frozen=True)
class PushKeys:
    """A browser's keys as sent in ``subscription[keys]``."""

    p256dh: str
    auth: str


def _checked_endpoint(endpoint: Any) -> str:
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ValidationFailed(_("Validation failed: Endpoint can't be blank"))
    endpoint = endpoint.strip()
    parts = urlsplit(endpoint)
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or len(endpoint) > 2000
    ):
        raise ValidationFailed(_("Validation failed: Endpoint is not a valid URL"))
    return endpoint


def _checked_keys(keys: PushKeys | None) -> PushKeys:
    """Keys whose p256dh decodes to an uncompressed P-256 point (65 bytes starting
    0x04) and whose auth secret to 16 bytes (RFC 8291 section 3)."""
    if keys is None or not keys.p256dh or not keys.auth:
        raise ValidationFailed(_("Validation failed: Keys can't be blank"))
    try:
        point, secret = _b64decode(keys.p256dh), _b64decode(keys.auth)
    except (binascii.Error, ValueError):
        point = secret = b""
    if len(point) != 65 or point[0] != 4 or len(secret) != 16:
        raise ValidationFailed(_("Validation failed: Keys are not valid Web Push keys"))
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise ValidationFailed(
            _("Validation failed: Keys are not valid Web Push keys")
        ) from None
    return PushKeys(p256dh=_b64url(point), auth=_b64url(secret))


def _checked_alerts(
    alerts: Any, current: dict[str, bool] | None = None
) -> dict[str, bool]:
    """``current`` (all off by default) with the alerts given switched; unknown
    names are ignored, as Mastodon ignores them."""
    result = {name: False for name in PUSH_ALERTS}
    result.update(current or {})
    if alerts is None:
        return result
    if not isinstance(alerts, dict):
        raise ValidationFailed(_("Validation failed: alerts must be an object"))
    for name, value in alerts.items():
        if name in result:
            result[name] = _truthy(value)
    return result


def _truthy(value: Any) -> bool:
    """A boolean parameter as Rails reads one: ``true``, ``1``, ``on`` and the like."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "t", "on", "yes")


def _checked_policy(policy: Any, current: str = PushPolicy.ALL) -> str:
    if policy is None or policy == "":
        return current
    if policy not in PushPolicy.values:
        raise ValidationFailed(
            _("Validation failed: Policy is not included in the list")
        )
    return policy


def push_subscription_create(
    *,
    access_token,
    raw_token: str,
    account: Account,
    endpoint: Any,
    keys: PushKeys | None,
    standard: Any = False,
    alerts: Any = None,
    policy: Any = None,
) -> PushSubscription:
    """Subscribe the app behind ``access_token`` (``raw_token`` as the app sent it)
    to ``account``'s notifications,
    replacing the token's earlier subscription (Mastodon's
    ``POST /api/v1/push/subscription``).

    ``endpoint``: the push service URL (http or https, at most 2,000 characters);
    ``keys``: the browser's base64url keys; ``alerts``: ``{type: bool}`` over
    ``PUSH_ALERTS``, everything else off; ``policy``: all, followed, follower or
    none. Raises ValidationFailed on a bad endpoint, keys, alerts or policy.
    """
    endpoint = _checked_endpoint(endpoint)
    checked = _checked_keys(keys)
    values = {
        "account": account,
        "endpoint": endpoint,
        "key_p256dh": checked.p256dh,
        "key_auth": checked.auth,
        "access_token_sealed": token_seal(raw_token),
        "standard": _truthy(standard),
        "alerts": _checked_alerts(alerts),
        "policy": _checked_policy(policy),
    }
    with transaction.atomic():
        PushSubscription.objects.filter(access_token=access_token).delete()
        return PushSubscription.objects.create(access_token=access_token, **values)


def push_subscription_get(*, access_token) -> PushSubscription:
    """The subscription of ``access_token``; NotFound when it has none."""
    found = PushSubscription.objects.filter(access_token=access_token).first()
    if found is None:
        raise NotFound(_("Record not found"))
    return found


def push_subscription_update(
    *, access_token, alerts: Any = None, policy: Any = None
) -> PushSubscription:
    """Change the alerts and the policy of ``access_token``'s subscription (Mastodon's
    ``PUT``: alerts not named keep their value). NotFound without a subscription."""
    with transaction.atomic():
        found = (
            PushSubscription.objects.select_for_update()
            .filter(access_token=access_token)
            .first()
        )
        if found is None:
            raise NotFound(_("Record not found"))
        found.alerts = _checked_alerts(alerts, found.alerts)
        found.policy = _checked_policy(policy, found.policy)
        found.save(update_fields=["alerts", "policy"])
    return found


def push_subscription_delete(*, access_token) -> None:
    """Remove ``access_token``'s subscription; removing none is no error (Mastodon
    answers ``{}`` either way)."""
    PushSubscription.objects.filter(access_token=access_token).delete()


# ------------------------------------------------------------------ sending


def push_wanted(subscription: PushSubscription, notification: Notification) -> bool:
    """Whether ``subscription`` asks for ``notification``: its type is among the
    alerts switched on, and its sender passes the policy."""
    if not subscription.alerts.get(notification.type):
        return False
    match subscription.policy:
        case PushPolicy.NONE:
            return False
        case PushPolicy.FOLLOWED:
            return is_following(subscription.account_id, notification.from_account_id)
        case PushPolicy.FOLLOWER:
            return is_following(notification.from_account_id, subscription.account_id)
    return True


def _title(notification: Notification) -> str:
    name = notification.from_account.display_name or notification.from_account.username
    titles = {
        "mention": _("%(name)s mentioned you"),
        "status": _("%(name)s just posted"),
        "reblog": _("%(name)s boosted your post"),
        "follow": _("%(name)s followed you"),
        "follow_request": _("%(name)s asked to follow you"),
        "favourite": _("%(name)s favourited your post"),
        "poll": _("A poll has ended"),
        "update": _("%(name)s edited a post"),
    }
    return titles.get(notification.type, _("New notification")) % {"name": name}


def _body(notification: Notification) -> str:
    status = notification.status
    if status is not None:
        text = status.spoiler_text or html_to_text(status.content)
    else:
        text = html_to_text(notification.from_account.note or "")
    text = " ".join(text.split())
    if len(text) > BODY_CHARACTERS:
        text = text[: BODY_CHARACTERS - 1] + "…"
    return text


def push_message(
    subscription: PushSubscription, notification: Notification
) -> dict[str, Any]:
    """The JSON Mastodon pushes for ``notification``, in the recipient's language:
    the app's own access token (which the app matches to an account),
    ``preferred_locale``, ``notification_id`` (a string), ``notification_type``,
    ``icon`` (the sender's avatar), ``title`` and ``body`` (at most 140 characters)."""
    locale = subscription.account.locale or settings.LANGUAGE_CODE
    with translation.override(locale):
        title, body = _title(notification), _body(notification)
    return {
        "access_token": token_unseal(subscription.access_token_sealed),
        "preferred_locale": locale,
        "notification_id": str(notification.pk),
        "notification_type": notification.type,
        "icon": account_avatar_url(notification.from_account),
        "title": title,
        "body": body,
    }


def push_request(
    subscription: PushSubscription, message: dict[str, Any], *, now: float | None = None
) -> tuple[dict[str, str], bytes]:
    """The headers and encrypted body that deliver ``message`` to ``subscription``:
    ``aes128gcm`` with ``Authorization: vapid t=..., k=...`` for a standard
    subscription, else ``aesgcm`` with ``Encryption``, ``Crypto-Key`` (``dh`` and
    ``p256ecdsa``) and ``Authorization: WebPush ...``; always ``TTL`` and
    ``Urgency: normal``."""
    from py_vapid import Vapid01, Vapid02
    from pywebpush import WebPusher

    data = json.dumps(message, ensure_ascii=False).encode()
    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.key_p256dh, "auth": subscription.key_auth},
    }
    encoding = "aes128gcm" if subscription.standard else "aesgcm"
    encoded = WebPusher(info).encode(data, encoding)
    parts = urlsplit(subscription.endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "exp": int(now or time.time()) + VAPID_TOKEN_SECONDS,
        "sub": absolute("/"),
    }
    vapid = (Vapid02 if subscription.standard else Vapid01)(
        vapid_private_key(), conf={"no-strict": True}
    )
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Encoding": encoding,
        "TTL": str(TTL_SECONDS),
        "Urgency": "normal",
    }
    if subscription.standard:
        headers.update(vapid.sign(claims))
    else:
        signed = vapid.sign(claims, crypto_key=f"dh={encoded['crypto_key'].decode()}")
        headers.update(signed)
        headers["Encryption"] = f"salt={encoded['salt'].decode()}"
    return headers, encoded["body"]


class PushFailed(Exception):
    """A push service refused or could not be reached; ``temporary`` when trying
    again later may succeed (unreachable, 429, 5xx)."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


def push_send(*, subscription: PushSubscription, notification: Notification) -> None:
    """Encrypt and POST ``notification`` to ``subscription``'s push service.

    A 404 or 410 means the subscription has expired (RFC 8030 section 7.3): it is
    removed. Raises PushFailed for every other refusal, ``temporary`` for 429,
    5xx and unreachable services.
    """
    headers, body = push_request(subscription, push_message(subscription, notification))
    try:
        response = fetch(
            subscription.endpoint,
            method="POST",
            headers=headers,
            data=body,
            timeout=SEND_TIMEOUT,
            max_bytes=64 * 1024,
        )
    except FetchError as error:
        raise PushFailed(str(error), temporary=True) from error
    if 200 <= response.status < 300:
        return
    if response.status in (404, 410):
        PushSubscription.objects.filter(pk=subscription.pk).delete()
        return
    raise PushFailed(
        f"push service answered {response.status}",
        temporary=response.status == 429 or response.status >= 500,
    )


def push_notification_enqueue(notification: Notification) -> None:
    """Push ``notification`` once the current transaction commits, when its
    recipient has any push subscription (one indexed query)."""
    if not PushSubscription.objects.filter(account_id=notification.account_id).exists():
        return
    from tribune.notifications.tasks import push_notification

    notification_id = notification.pk
    transaction.on_commit(
        lambda: push_notification.enqueue(notification_id=notification_id)
    )
