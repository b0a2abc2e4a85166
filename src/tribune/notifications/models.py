"""Notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tribune.core.fields import IdField


class NotificationType(models.TextChoices):
    MENTION = "mention"
    STATUS = "status"
    REBLOG = "reblog"
    FOLLOW = "follow"
    FOLLOW_REQUEST = "follow_request"
    FAVOURITE = "favourite"
    POLL = "poll"
    UPDATE = "update"
    MODERATION_WARNING = "moderation_warning"
    QUOTE = "quote"
    QUOTED_UPDATE = "quoted_update"


class Notification(models.Model):
    """``from_account`` did ``type`` to ``account`` (about ``status`` when it has one)."""

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="notifications")
    from_account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=30, choices=NotificationType.choices)
    status = models.ForeignKey("statuses.Status", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # For types about something other than a status: the moderation decision of a
    # ``moderation_warning`` (an id, not a key, so this app knows nothing of moderation).
    subject_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "from_account", "type", "status"], name="notification_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.account_id}"


class PushPolicy(models.TextChoices):
    """Whose notifications a push subscription receives (Mastodon's ``policy``)."""

    ALL = "all"
    FOLLOWED = "followed"
    FOLLOWER = "follower"
    NONE = "none"


# The alerts a subscription can ask for, in the order of Mastodon's
# WebPushSubscription entity (https://docs.joinmastodon.org/entities/WebPushSubscription/).
PUSH_ALERTS = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
    "quote",
    "quoted_update",
)


class PushSubscription(models.Model):
    """One app's Web Push subscription: where to send the notifications of the
    account behind ``access_token`` (one per token, as Mastodon keeps it; revoking
    the token removes it), the browser's keys (RFC 8291: ``key_p256dh`` the P-256
    public key, ``key_auth`` the 16-byte secret, both base64url as sent), whether
    to follow the standard (``aes128gcm``, RFC 8291/8292) or the legacy draft
    (``aesgcm``), which ``alerts`` are wanted and the ``policy``."""

    access_token = models.OneToOneField(
        settings.OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscription",
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="+"
    )
    endpoint = models.URLField(max_length=2000)
    key_p256dh = models.CharField(max_length=100)
    key_auth = models.CharField(max_length=50)
    # The token itself, which Mastodon's push message carries, sealed (push.py):
    # tokens are kept only as checksums elsewhere.
    access_token_sealed = models.CharField(max_length=200)
    standard = models.BooleanField(default=False)
    alerts = models.JSONField(default=dict)
    policy = models.CharField(
        max_length=10, choices=PushPolicy.choices, default=PushPolicy.ALL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"push subscription {self.pk} of {self.account_id}"
