"""Filters: a person's keyword and status filters (Mastodon's CustomFilter,
CustomFilterKeyword and CustomFilterStatus; the API's Filter, FilterKeyword and
FilterStatus entities, docs.joinmastodon.org/entities/Filter/).

A filter has a title, the contexts it applies in, an action (``warn`` shows a
matching post collapsed behind the filter's title, ``hide`` removes it, ``blur``
hides its media only) and an optional end. Posts match by one of its keywords
(``filters.matching``) or by being one of its statuses.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tribune.core.fields import IdField

TITLE_MAX_LENGTH = 256
KEYWORD_MAX_LENGTH = 512
# Tribune's own bounds (Mastodon sets none), so one viewer's compiled patterns
# stay small: every page a person reads runs them.
FILTERS_PER_ACCOUNT = 100
KEYWORDS_PER_FILTER = 200
STATUSES_PER_FILTER = 200


class FilterContext(models.TextChoices):
    """Where a filter applies (Mastodon's CustomFilter::VALID_CONTEXTS)."""

    HOME = "home", _("Home and lists")
    NOTIFICATIONS = "notifications", _("Notifications")
    PUBLIC = "public", _("Public timelines")
    THREAD = "thread", _("Conversations")
    ACCOUNT = "account", _("Profiles")


class FilterAction(models.TextChoices):
    """What a match does (Mastodon's CustomFilter ``action`` enum)."""

    WARN = "warn", _("Hide with a warning")
    HIDE = "hide", _("Hide completely")
    BLUR = "blur", _("Hide media with a warning")


class Filter(models.Model):
    """``account``'s filter titled ``title``, applied in ``context`` (a list of
    :class:`FilterContext` values) until ``expires_at`` (never when None)."""

    id = IdField()
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="filters"
    )
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    context = models.JSONField(default=list)
    filter_action = models.CharField(
        max_length=8, choices=FilterAction.choices, default=FilterAction.WARN
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(filter_action__in=FilterAction.values),
                name="filter_action_known",
            ),
        ]
        indexes = [models.Index(fields=["account", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.account_id})"


class FilterKeyword(models.Model):
    """A phrase of ``filter``; ``whole_word`` asks for word boundaries around it."""

    id = IdField()
    filter = models.ForeignKey(
        Filter, on_delete=models.CASCADE, related_name="keywords"
    )
    keyword = models.CharField(max_length=KEYWORD_MAX_LENGTH)
    whole_word = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.keyword


class FilterStatus(models.Model):
    """One status that ``filter`` matches whatever its words."""

    id = IdField()
    filter = models.ForeignKey(
        Filter, on_delete=models.CASCADE, related_name="statuses"
    )
    status = models.ForeignKey(
        "statuses.Status", on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["filter", "status"], name="filter_status_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status_id} in filter {self.filter_id}"
