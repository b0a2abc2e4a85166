"""Notifications."""

from __future__ import annotations

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
