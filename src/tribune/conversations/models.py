"""Conversations: each person's view of the threads of direct posts they are in
(Mastodon's AccountConversation, docs: entities/Conversation.md).

A row is one account's conversation: the direct posts of one thread
(``thread_id``, the thread's root) exchanged with one set of other participants.
Like Mastodon's ``account_conversations`` (``conversation_id`` plus
``participant_account_ids``), a reply that mentions a different set of people
starts another conversation. ``ConversationStatus`` remembers which posts a
conversation holds, so deleting its last post leaves the one before it as
``last_status`` (and deleting every post removes the conversation).
"""

from __future__ import annotations

from django.db import models

from tribune.core.fields import IdField


class AccountConversation(models.Model):
    """``account``'s conversation with ``participant_ids`` (the other accounts,
    ascending ids) in the thread ``thread_id``; ``unread`` until ``account`` reads
    it. ``participants_key`` is ``participant_ids`` joined by commas, for the
    uniqueness constraint."""

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                related_name="conversations")
    thread_id = models.BigIntegerField()
    participant_ids = models.JSONField(default=list)
    participants_key = models.CharField(max_length=2000)
    # SET_NULL: the deletion's effects pick the post before it (effects.handle).
    last_status = models.ForeignKey("statuses.Status", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    unread = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "thread_id", "participants_key"],
                                    name="account_conversation_once"),
        ]
        indexes = [models.Index(fields=["account", "-last_status"],
                                name="account_conversation_page")]

    def __str__(self) -> str:
        return f"conversation {self.pk} of {self.account_id}"


class ConversationStatus(models.Model):
    """``status`` is one of the posts of ``conversation``."""

    conversation = models.ForeignKey(AccountConversation, on_delete=models.CASCADE,
                                     related_name="entries")
    status = models.ForeignKey("statuses.Status", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "status"],
                                    name="conversation_status_once"),
        ]

    def __str__(self) -> str:
        return f"{self.status_id} in conversation {self.conversation_id}"
