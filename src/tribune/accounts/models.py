"""Accounts: the public identity (Account) is separate from the login (Django User)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from tribune.core.fields import IdField
from tribune.core.models import Versioned


class QuotePolicy(models.TextChoices):
    """Who may quote a post (Mastodon 4.5's ``quote_approval_policy``): anyone who
    sees it, the author's followers, or nobody but the author."""

    PUBLIC = "public"
    FOLLOWERS = "followers"
    NOBODY = "nobody"


class Visibility(models.TextChoices):
    """A status's audience, stored as the Mastodon API's own strings."""

    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"  # Mastodon's name for followers-only
    DIRECT = "direct"


class Account(Versioned):
    """A local or remote account. Local accounts have a ``user`` and ``domain == ""``.

    Counters are kept by the services that change them (F() updates), never recounted
    on read.
    """

    id = IdField()
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="account",
    )
    username = models.CharField(max_length=30)
    domain = models.CharField(max_length=255, blank=True, default="")
    display_name = models.CharField(max_length=100, blank=True, default="")
    note = models.TextField(blank=True, default="")  # source text as typed
    note_html = models.TextField(blank=True, default="")
    locked = models.BooleanField(default=False)
    bot = models.BooleanField(default=False)
    discoverable = models.BooleanField(default=True)
    indexable = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    last_status_at = models.DateTimeField(null=True, blank=True)
    # When the person last used the server (signed-in page or API call), to the
    # hour; fan-out skips local accounts inactive for TRIBUNE_FEED_ACTIVE_DAYS.
    active_at = models.DateTimeField(null=True, blank=True, db_index=True)
    statuses_count = models.PositiveIntegerField(default=0)
    followers_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)
    suspended_at = models.DateTimeField(null=True, blank=True)
    # A moderation decision's freeze: the account can sign in and read, not act.
    frozen_at = models.DateTimeField(null=True, blank=True)
    # Preferences (GET /api/v1/preferences; the source of CredentialAccount).
    default_visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    default_sensitive = models.BooleanField(default=False)
    # Mastodon 4.5's ``source[quote_policy]``: the quote policy of new posts.
    default_quote_policy = models.CharField(max_length=10, choices=QuotePolicy.choices,
                                            default=QuotePolicy.PUBLIC)
    default_language = models.CharField(max_length=10, blank=True, default="")
    # The interface language ("" follows the browser's Accept-Language).
    locale = models.CharField(max_length=10, blank=True, default="")
    # Remote accounts (federation) keep their own URIs.
    uri = models.CharField(max_length=500, blank=True, default="")
    url = models.CharField(max_length=500, blank=True, default="")
    # Profile pictures in Django's default storage, already cleaned and cropped
    # (400x400 and 1500x500, Mastodon's sizes); "" shows the default images.
    avatar = models.FileField(upload_to="accounts/avatars/", max_length=300, blank=True,
                              default="")
    header = models.FileField(upload_to="accounts/headers/", max_length=300, blank=True,
                              default="")
    # A remote account's pictures as its server names them (the actor's ``icon``
    # and ``image``, Mastodon's ``avatar_remote_url``/``header_remote_url``):
    # fetched, processed and stored in ``avatar``/``header`` when they change.
    avatar_remote_url = models.CharField(max_length=500, blank=True, default="")
    header_remote_url = models.CharField(max_length=500, blank=True, default="")
    # Moving (Mastodon's account migration, docs: user/moving.md): the ActivityPub
    # ids of this person's other accounts (``alsoKnownAs``), and the id of the
    # account this one moved to ("" while it has not moved). Ids, not rows: before
    # federation the accounts of other servers are not known here.
    also_known_as = models.JSONField(default=list, blank=True)
    moved_to_uri = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), "domain", name="account_handle_unique"),
        ]

    def __str__(self) -> str:
        return self.acct

    @property
    def is_local(self) -> bool:
        return self.domain == ""

    @property
    def acct(self) -> str:
        """``username`` for local accounts, ``username@domain`` for remote ones."""
        return self.username if self.is_local else f"{self.username}@{self.domain}"


class ApprovalRequest(models.Model):
    """A sign-up waiting for an operator's review (registrations by approval).

    While it exists the login is inactive (``User.is_active`` False), so neither the
    sign-in page nor the API lets the person in, and the account is hidden from
    public lookups. ``account_approve`` activates the login and deletes this row;
    ``account_reject`` deletes the login and the account.
    """

    account = models.OneToOneField(Account, on_delete=models.CASCADE,
                                   related_name="approval_request")
    reason = models.TextField(blank=True, default="")  # "Why do you want to join?"
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.account} (pending)"


class Invite(models.Model):
    """A code that lets someone sign up while registrations are by invitation.

    ``max_uses`` None means no limit and ``expires_at`` None means it never expires,
    as in Mastodon. ``uses`` grows with an F() update in the sign-up's transaction
    (``invite_use``); the constraint makes over-use impossible even under races.
    """

    id = IdField()
    code = models.CharField(max_length=32, unique=True)
    created_by = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="invites")
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=F("max_uses")),
                name="invite_uses_within_max",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class EmailConfirmation(models.Model):
    """The state of a login's e-mail address, as Mastodon keeps it on its users
    (``confirmed_at``, ``unconfirmed_email``; Devise's confirmable).

    A login without this row has a confirmed address (logins made before
    confirmation existed, or while ``TRIBUNE_REQUIRE_EMAIL_CONFIRMATION`` is off).
    ``confirmed_at`` None: the address in ``User.email`` awaits confirmation and the
    login may neither sign in nor use an app. ``unconfirmed_email``: a new address
    asked for, which replaces ``User.email`` only when its link is followed.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True,
                                on_delete=models.CASCADE, related_name="email_confirmation")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unconfirmed_email = models.EmailField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.user_id} ({'confirmed' if self.confirmed_at else 'unconfirmed'})"


class LoginSession(models.Model):
    """A signed-in browser: the key of its Django session, which login it is, the
    browser's ``User-Agent`` and address when it signed in. What it did since is in
    the session itself (``web.sessions``). Deleting the session signs it out."""

    session_key = models.CharField(max_length=40, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="login_sessions")
    user_agent = models.CharField(max_length=300, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class DomainSeverity(models.TextChoices):
    """What a domain block does (Mastodon's ``DomainBlock#severity``; docs:
    entities/Admin_DomainBlock.md): ``silence`` (shown as "limit") keeps the
    domain's posts out of public timelines and its notifications from people
    who do not follow its accounts; ``suspend`` refuses everything from it and
    sends nothing to it; ``noop`` only rejects media or reports."""

    SILENCE = "silence", "silence"
    SUSPEND = "suspend", "suspend"
    NOOP = "noop", "noop"


class DomainBlock(models.Model):
    """An operator's policy for another server (Mastodon's domain blocks,
    docs: admin/moderation.md#server-wide-moderation). ``domain`` is lower-case
    and also covers its subdomains where the check is made in Python
    (``selectors.domain_block_for``); ``private_comment`` is for staff,
    ``public_comment`` is shown on the about page and the instance API.
    Written only by ``services.domain_block_upsert`` / ``domain_block_delete``."""

    domain = models.CharField(max_length=255, unique=True)
    severity = models.CharField(max_length=10, choices=DomainSeverity.choices,
                                default=DomainSeverity.SILENCE)
    reject_media = models.BooleanField(default=False)
    reject_reports = models.BooleanField(default=False)
    private_comment = models.TextField(blank=True, default="")
    public_comment = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.domain} ({self.severity})"
