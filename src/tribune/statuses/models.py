"""Statuses and what accounts do to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tribune.accounts.models import QuotePolicy, Visibility
from tribune.core.fields import IdField
from tribune.core.models import Versioned

__all__ = ["Bookmark", "Favourite", "Mention", "Pin", "Poll", "PollVote", "Quote", "QuotePolicy",
           "QuoteState", "ReplyPolicy", "Status", "StatusEdit", "Tag", "Visibility"]


class Tag(models.Model):
    """A hashtag. ``name`` is the matching key (``core.text.normalize_tag``: NFKC,
    casefold, Latin letters folded to ASCII); ``display_name`` the first spelling
    seen."""

    name = models.CharField(max_length=200, unique=True)
    display_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ReplyPolicy(models.TextChoices):
    """Who may reply to a post: everyone, the author's followers (and the accounts
    it mentions), or only the accounts it mentions. The author always may. The
    three levels of GoToSocial's ``interaction_policy.can_reply``."""

    EVERYONE = "everyone"
    FOLLOWERS = "followers"
    MENTIONED = "mentioned"


class QuoteState(models.TextChoices):
    """The stored states of a quote (Mastodon's QuoteStateEnum; ``blocked_account``,
    ``muted_account`` and ``unauthorized`` are worked out per viewer, not stored)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REVOKED = "revoked"
    DELETED = "deleted"


class Status(Versioned):
    """A post, a reply (``in_reply_to``) or a reblog (``reblog_of``, with no text).

    ``thread_id`` is the id of the thread's root, so a thread's descendants are one
    query. Deleting a status deletes it for real (reblogs, favourites, bookmarks,
    notifications and feed entries cascade).
    """

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="statuses")
    text = models.TextField(blank=True, default="")  # source as typed
    content = models.TextField(blank=True, default="")  # sanitised HTML
    spoiler_text = models.CharField(max_length=1000, blank=True, default="")
    sensitive = models.BooleanField(default=False)
    # null, not "": the API distinguishes an unknown language (null).
    language = models.CharField(max_length=10, null=True, blank=True)  # noqa: DJ001
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    in_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    in_reply_to_account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    thread_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    reblog_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="reblogs"
    )
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    replies_count = models.PositiveIntegerField(default=0)
    reblogs_count = models.PositiveIntegerField(default=0)
    favourites_count = models.PositiveIntegerField(default=0)
    tags = models.ManyToManyField(Tag, blank=True, related_name="statuses")
    uri = models.CharField(max_length=500, blank=True, default="")  # remote statuses only
    url = models.CharField(max_length=500, blank=True, default="")
    # Brought back from an archive (statuses.importing): an old post that is on no
    # home feed (timelines.rules).
    imported = models.BooleanField(default=False)
    # Kept on this instance: never sent to other servers nor shown to visitors
    # (glitch-soc's and Hometown's ``local_only``); a reblog of one is one too.
    local_only = models.BooleanField(default=False)
    reply_policy = models.CharField(max_length=10, choices=ReplyPolicy.choices,
                                    default=ReplyPolicy.EVERYONE)
    quote_approval_policy = models.CharField(max_length=10, choices=QuotePolicy.choices,
                                             default=QuotePolicy.PUBLIC)
    quotes_count = models.PositiveIntegerField(default=0)  # accepted quotes only
    # Restrictions from moderation decisions (tribune.moderation), each reversible:
    # a content warning shown before the post, kept out of public timelines and
    # search, or removed (only the author still sees it, with the notice).
    moderation_label = models.CharField(max_length=200, blank=True, default="")
    reach_reduced_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "-id"]),
            models.Index(fields=["visibility", "-id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "reblog_of"], name="reblog_once",
                condition=models.Q(reblog_of__isnull=False),
            ),
            # A remote post (or boost) is found by its ActivityPub id, stored once.
            models.UniqueConstraint(fields=["uri"], name="status_uri_once",
                                    condition=~models.Q(uri="")),
        ]

    def __str__(self) -> str:
        return f"Status {self.pk}"


class Quote(models.Model):
    """``status`` quotes ``quoted_status`` (Mastodon's Quote model).

    ``quoted_status`` becomes null when the quoted post is deleted (``state`` is
    then ``deleted``); ``quoted_account`` is its author, kept for the record.
    Only ``accepted`` quotes count in the quoted post's ``quotes_count``.
    """

    id = IdField()
    status = models.OneToOneField(Status, on_delete=models.CASCADE, related_name="quote")
    quoted_status = models.ForeignKey(Status, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="quoted_by")
    quoted_account = models.ForeignKey("accounts.Account", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=20, choices=QuoteState.choices,
                             default=QuoteState.ACCEPTED)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["quoted_status", "-id"])]

    def __str__(self) -> str:
        return f"{self.status_id} quotes {self.quoted_status_id} ({self.state})"


class StatusEdit(models.Model):
    """One revision of a status, oldest first; the first row is the original."""

    id = IdField()
    status = models.ForeignKey(Status, on_delete=models.CASCADE, related_name="edits")
    text = models.TextField(blank=True, default="")
    content = models.TextField(blank=True, default="")
    spoiler_text = models.CharField(max_length=1000, blank=True, default="")
    sensitive = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Edit of {self.status_id} at {self.created_at:%Y-%m-%d %H:%M}"


class Mention(models.Model):
    """``status`` mentions ``account``."""

    status = models.ForeignKey(Status, on_delete=models.CASCADE, related_name="mentions")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="mentioned_in")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["status", "account"], name="mention_once")]

    def __str__(self) -> str:
        return f"{self.status_id} mentions {self.account_id}"


class Favourite(models.Model):
    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="favourites")
    status = models.ForeignKey(Status, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "status"], name="favourite_once")]

    def __str__(self) -> str:
        return f"{self.account_id} favourites {self.status_id}"


class Bookmark(models.Model):
    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="bookmarks")
    status = models.ForeignKey(Status, on_delete=models.CASCADE, related_name="bookmarks")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "status"], name="bookmark_once")]

    def __str__(self) -> str:
        return f"{self.account_id} bookmarks {self.status_id}"


class Pin(models.Model):
    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="pins")
    status = models.ForeignKey(Status, on_delete=models.CASCADE, related_name="pins")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "status"], name="pin_once")]

    def __str__(self) -> str:
        return f"{self.account_id} pins {self.status_id}"


class Poll(models.Model):
    """The poll of a status (at most one; Mastodon's ``Poll``).

    ``options`` are the choices' titles in order and ``tallies`` their vote counts,
    index for index. ``votes_count`` counts every vote (a voter of a multiple-choice
    poll may cast several), ``voters_count`` the accounts that voted. The counts are
    recomputed from ``PollVote`` rows in each vote's transaction, under a lock of
    this row (``statuses.polls.poll_vote``). ``ended_notified_at`` is set once the
    end-of-poll notifications are sent, so they go out once. A remote poll's
    counts are its server's, read at ``last_fetched_at``.
    """

    id = IdField()
    status = models.OneToOneField(Status, on_delete=models.CASCADE, related_name="poll")
    options = models.JSONField(default=list)  # list[str]
    tallies = models.JSONField(default=list)  # list[int], one per option
    multiple = models.BooleanField(default=False)
    hide_totals = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    votes_count = models.PositiveIntegerField(default=0)
    voters_count = models.PositiveIntegerField(default=0)
    ended_notified_at = models.DateTimeField(null=True, blank=True)
    # A remote poll's: when its server's counts were last read (a Create, an Update
    # or a fetch of its Question); Mastodon's ``last_fetched_at``.
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="poll_expires_at",
                                condition=models.Q(ended_notified_at__isnull=True))]

    def __str__(self) -> str:
        return f"Poll {self.pk} of status {self.status_id}"


class PollVote(models.Model):
    """``account`` chose option ``choice`` (an index into ``Poll.options``)."""

    id = IdField()
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="poll_votes")
    choice = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["poll", "account", "choice"],
                                               name="poll_vote_once_per_choice")]
        indexes = [models.Index(fields=["account", "poll"])]

    def __str__(self) -> str:
        return f"{self.account_id} votes {self.choice} in poll {self.poll_id}"
