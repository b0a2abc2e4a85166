"""Scheduled posts: a status's parameters kept until its time (Mastodon's
ScheduledStatus, docs: entities/ScheduledStatus.md, methods/scheduled_statuses.md).

The parameters are those Mastodon stores in ``params``; the attachments are
reserved by ``media.MediaAttachment.scheduled_status`` (Mastodon's
``media_attachments.scheduled_status_id``) so they are neither deleted as unused
uploads nor attached to another post meanwhile. Publication deletes the row in the
transaction that creates the status; a publication the rules refuse keeps the row
with ``failed_at`` and ``error`` (docs/adr/0025).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tribune.accounts.models import Visibility
from tribune.core.fields import IdField
from tribune.statuses.models import QuotePolicy, ReplyPolicy

DAILY_LIMIT = 25  # Mastodon's PostStatusService / ScheduledStatusValidator
TOTAL_LIMIT = 300


class ScheduledStatus(models.Model):
    """``account``'s post to be published at ``scheduled_at``."""

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                related_name="scheduled_statuses")
    scheduled_at = models.DateTimeField()
    text = models.TextField(blank=True, default="")
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    spoiler_text = models.CharField(max_length=1000, blank=True, default="")
    sensitive = models.BooleanField(null=True, blank=True)
    # null, not "": the entity distinguishes an unset language (null).
    language = models.CharField(max_length=10, null=True, blank=True)  # noqa: DJ001
    in_reply_to_id = models.BigIntegerField(null=True, blank=True)
    media_ids = models.JSONField(default=list, blank=True)  # ids as strings, in order
    # Mastodon's ``params.poll``: the checked spec (``statuses.polls.PollSpec``) as
    # {"options": [str], "expires_in": seconds, "multiple": bool, "hide_totals": bool};
    # the poll's time counts from publication.
    poll = models.JSONField(null=True, blank=True)
    # null: as status_create decides at publication (local-only when replying to or
    # quoting a local-only post).
    local_only = models.BooleanField(null=True, blank=True)
    reply_policy = models.CharField(max_length=10, choices=ReplyPolicy.choices,
                                    blank=True, default="")  # "": everyone
    quoted_status_id = models.BigIntegerField(null=True, blank=True)
    # null: the author's default quote policy at publication.
    quote_approval_policy = models.CharField(  # noqa: DJ001
        max_length=10, choices=QuotePolicy.choices, null=True, blank=True)
    idempotency = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    application = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL, null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["scheduled_at"], name="scheduled_status_due"),
                   models.Index(fields=["account", "-id"], name="scheduled_status_page")]

    def __str__(self) -> str:
        return f"scheduled status {self.pk} at {self.scheduled_at:%Y-%m-%d %H:%M}"
