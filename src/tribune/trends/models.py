"""Followed hashtags, and what may trend: the scores the periodic refresh computes
and the staff's review of each hashtag and post (Mastodon's trends approval)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tribune.core.fields import IdField

__all__ = ["Review", "StatusTrend", "TagFollow", "TagTrend"]


class TagFollow(models.Model):
    """``account`` follows the hashtag ``tag``: public posts with it reach the
    account's home feed (Mastodon's ``TagFollow``; docs: methods/followed_tags)."""

    id = IdField()
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="tag_follows"
    )
    tag = models.ForeignKey(
        "statuses.Tag", on_delete=models.CASCADE, related_name="follows"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "tag"], name="tag_follow_once")
        ]
        indexes = [models.Index(fields=["tag", "account"])]

    def __str__(self) -> str:
        return f"{self.account_id} follows #{self.tag_id}"


class Review(models.TextChoices):
    """Staff's word on whether a hashtag or post may trend (Mastodon's
    ``trendable``: null, true, false)."""

    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Trend(models.Model):
    """What the refresh computed for one item (``score``; 0 when it does not
    trend), when the score last peaked (its decay starts there), and the review."""

    score = models.FloatField(default=0)
    max_score = models.FloatField(default=0)
    max_score_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=10, blank=True, default="")
    review = models.CharField(
        max_length=10, choices=Review.choices, default=Review.PENDING
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class TagTrend(Trend):
    """A hashtag's trend: ``accounts`` distinct accounts used it in the last day."""

    tag = models.OneToOneField(
        "statuses.Tag", on_delete=models.CASCADE, primary_key=True, related_name="trend"
    )
    accounts = models.PositiveIntegerField(default=0)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["review", "-score"])]

    def __str__(self) -> str:
        return f"trend of tag {self.tag_id}"


class StatusTrend(Trend):
    """A post's trend: ``interactions`` distinct accounts favourited or boosted it
    within the window."""

    status = models.OneToOneField(
        "statuses.Status",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="trend",
    )
    interactions = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["review", "-score"])]

    def __str__(self) -> str:
        return f"trend of status {self.status_id}"
