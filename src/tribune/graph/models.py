"""The social graph: follows, follow requests, blocks and mutes."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from tribune.core.fields import IdField


class Follow(models.Model):
    """``account`` follows ``target`` (accepted)."""

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="following_rel")
    target = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="followers_rel")
    show_reblogs = models.BooleanField(default=True)
    notify = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "target"], name="follow_once"),
            models.CheckConstraint(condition=~Q(account=F("target")), name="follow_not_self"),
        ]
        indexes = [models.Index(fields=["target", "account"])]

    def __str__(self) -> str:
        return f"{self.account_id} follows {self.target_id}"


class FollowRequest(models.Model):
    """``account`` asked to follow the locked account ``target``."""

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="outgoing_requests")
    target = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="incoming_requests")
    show_reblogs = models.BooleanField(default=True)
    notify = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "target"], name="follow_request_once"),
            models.CheckConstraint(condition=~Q(account=F("target")), name="follow_request_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} asks to follow {self.target_id}"


class Block(models.Model):
    """``account`` blocks ``target``: no follows either way, no content either way."""

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="blocking_rel")
    target = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="blocked_by_rel")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "target"], name="block_once"),
            models.CheckConstraint(condition=~Q(account=F("target")), name="block_not_self"),
        ]
        indexes = [models.Index(fields=["target", "account"])]

    def __str__(self) -> str:
        return f"{self.account_id} blocks {self.target_id}"


class Mute(models.Model):
    """``account`` mutes ``target``: hidden from timelines; optionally notifications."""

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="muting_rel")
    target = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="muted_by_rel")
    hide_notifications = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "target"], name="mute_once"),
            models.CheckConstraint(condition=~Q(account=F("target")), name="mute_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} mutes {self.target_id}"
