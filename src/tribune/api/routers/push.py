"""Web Push subscriptions (Mastodon's Api::V1::Push::SubscriptionsController,
https://docs.joinmastodon.org/methods/push/): one per access token, with the
``push`` scope."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema

from tribune.api.auth import Scoped, token_from_header
from tribune.api.base import responses
from tribune.api.schemas import WebPushSubscription
from tribune.notifications import push
from tribune.notifications.models import PushSubscription

router = Router(tags=["push"])
PUSH = Scoped("push")


class KeysIn(Schema):
    p256dh: Any = None
    auth: Any = None


class SubscriptionIn(Schema):
    endpoint: Any = None
    keys: KeysIn | None = None
    standard: Any = False


class DataIn(Schema):
    alerts: dict[str, Any] | None = None
    policy: Any = None


class PushIn(Schema):
    subscription: SubscriptionIn | None = None
    data: DataIn | None = None
    # Mastodon reads ``data[policy]``; some apps send ``policy`` beside ``data``.
    policy: Any = None


def subscription_out(found: PushSubscription) -> dict[str, Any]:
    """The WebPushSubscription entity."""
    return {
        "id": str(found.pk),
        "endpoint": found.endpoint,
        "standard": found.standard,
        "alerts": dict(found.alerts),
        "server_key": push.vapid_public_key(),
    }


def _policy(payload: PushIn) -> Any:
    return (
        payload.data.policy if payload.data and payload.data.policy else None
    ) or payload.policy


@router.post(
    "/v1/push/subscription", response=responses(WebPushSubscription), auth=PUSH
)
def subscription_create(request, payload: PushIn):
    """Subscribe this token's app to Web Push, replacing its earlier subscription."""
    sent = payload.subscription or SubscriptionIn()
    keys = sent.keys or KeysIn()
    created = push.push_subscription_create(
        access_token=request.auth.token,
        raw_token=token_from_header(request) or "",
        account=request.auth.require_account(),
        endpoint=sent.endpoint,
        keys=push.PushKeys(p256dh=_text(keys.p256dh), auth=_text(keys.auth)),
        standard=sent.standard,
        alerts=payload.data.alerts if payload.data else None,
        policy=_policy(payload),
    )
    return subscription_out(created)


@router.get("/v1/push/subscription", response=responses(WebPushSubscription), auth=PUSH)
def subscription_get(request):
    """This token's subscription; 404 when it has none."""
    request.auth.require_account()
    return subscription_out(push.push_subscription_get(access_token=request.auth.token))


@router.put("/v1/push/subscription", response=responses(WebPushSubscription), auth=PUSH)
def subscription_update(request, payload: PushIn | None = None):
    """Change which alerts this token's subscription receives, and its policy."""
    request.auth.require_account()
    payload = payload or PushIn()
    updated = push.push_subscription_update(
        access_token=request.auth.token,
        alerts=payload.data.alerts if payload.data else None,
        policy=_policy(payload),
    )
    return subscription_out(updated)


@router.delete("/v1/push/subscription", response=responses(dict), auth=PUSH)
def subscription_delete(request):
    """Remove this token's subscription (``{}`` even when it had none)."""
    request.auth.require_account()
    push.push_subscription_delete(access_token=request.auth.token)
    return {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
