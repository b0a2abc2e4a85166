"""Lists: accounts a person follows, grouped under a title, each with a timeline of
its own (Mastodon's List and ListAccount).

A membership rests on the owner's Follow of the member: the foreign key cascades,
so unfollowing (or a block, which ends follows both ways) takes the account out of
the owner's lists in the same transaction, as Mastodon's ``list_accounts.follow_id``
does (``ON DELETE CASCADE``). Only the owner's own account is a member without a
follow (Mastodon lets a person add themselves).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tribune.core.fields import IdField

TITLE_MAX_LENGTH = 256  # Mastodon's List::TITLE_LENGTH_LIMIT
LISTS_PER_ACCOUNT = 50  # Mastodon's List::PER_ACCOUNT_LIMIT


class RepliesPolicy(models.TextChoices):
    """Which replies to others a list's timeline shows (the API's own strings)."""

    FOLLOWED = "followed", _("Replies to any followed account")
    LIST = "list", _("Replies to members of the list")
    NONE = "none", _("No replies")


class List(models.Model):
    """``account``'s list titled ``title``. ``exclusive`` asks that members' posts
    stay out of the home timeline (stored and returned; see docs/adr/0016)."""

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                related_name="owned_lists")
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    replies_policy = models.CharField(max_length=8, choices=RepliesPolicy.choices,
                                      default=RepliesPolicy.LIST)
    exclusive = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(replies_policy__in=RepliesPolicy.values),
                                   name="list_replies_policy_known"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.account_id})"


class ListAccount(models.Model):
    """``account`` is a member of ``list``; ``follow`` is the owner's follow of it
    (None only when the owner added themselves)."""

    id = IdField()
    list = models.ForeignKey(List, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                related_name="list_memberships")
    follow = models.ForeignKey("graph.Follow", on_delete=models.CASCADE, null=True,
                               blank=True, related_name="list_memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["list", "account"], name="list_account_once"),
        ]
        indexes = [models.Index(fields=["account", "list"])]

    def __str__(self) -> str:
        return f"{self.account_id} in list {self.list_id}"
