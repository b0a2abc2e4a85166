"""Writes to conversations (Mastodon's AccountConversation.add_status and
remove_status, Api::V1::ConversationsController#read and #destroy).

The effects of a direct post call :func:`conversation_add_status` and those of a
deletion :func:`conversations_repair`; people call :func:`conversation_read` and
:func:`conversation_delete`, which touch only their own row.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from tribune.accounts.models import Account, Visibility
from tribune.conversations.models import AccountConversation, ConversationStatus
from tribune.core.errors import NotFound
from tribune.core.ids import parse_id
from tribune.graph.selectors import notification_muted_ids
from tribune.statuses.models import Mention, Status


def _own(account: Account, conversation_id: int | str):
    """``account``'s conversations with the id ``conversation_id`` (a queryset of at
    most one row); NotFound for a malformed id."""
    try:
        pk = parse_id(conversation_id)
    except (ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None
    return AccountConversation.objects.filter(pk=pk, account=account)


def conversation_add_status(*, status_id: int) -> int:
    """File the direct status ``status_id`` in the conversations of its author
    (read) and of each local account it mentions (unread), and return how many
    conversations it joined.

    Each recipient's conversation is the one of the status's thread with the same
    other participants (the author and the mentioned accounts, less the recipient),
    made if needed; its ``last_status`` moves only forward, so a late or repeated
    run changes nothing. A mentioned account that blocks or is blocked by the
    author, or mutes the author's notifications, gets nothing, as for a
    notification (``notifications.services.notify``). Statuses that are not direct,
    reblogs and unknown ids are ignored.
    """
    status = (Status.objects.filter(pk=status_id, visibility=Visibility.DIRECT,
                                    reblog_of__isnull=True)
              .only("id", "account_id", "thread_id").first())
    if status is None:
        return 0
    author = status.account_id
    everyone = set(Mention.objects.filter(status_id=status.pk).values_list("account_id",
                                                                          flat=True))
    everyone.add(author)
    local = set(Account.objects.filter(pk__in=everyone, domain="").values_list("pk", flat=True))
    joined = 0
    for recipient in sorted(local):
        if recipient != author and author in notification_muted_ids(recipient):
            continue
        participants = sorted(everyone - {recipient})
        with transaction.atomic():
            row, _created = AccountConversation.objects.get_or_create(
                account_id=recipient, thread_id=status.thread_id or status.pk,
                participants_key=",".join(map(str, participants)),
                defaults={"participant_ids": participants})
            ConversationStatus.objects.bulk_create(
                [ConversationStatus(conversation=row, status_id=status.pk)],
                ignore_conflicts=True)
            AccountConversation.objects.filter(
                Q(last_status_id__isnull=True) | Q(last_status_id__lt=status.pk), pk=row.pk,
            ).update(last_status_id=status.pk, unread=recipient != author)
        joined += 1
    return joined


def conversations_repair() -> int:
    """After statuses were deleted: each conversation that lost its last status
    (``last_status`` null) gets the newest status it still holds, or is deleted
    when none is left (Mastodon's AccountConversation.remove_status). Returns how
    many conversations changed. Idempotent."""
    changed = 0
    for pk in list(AccountConversation.objects.filter(last_status__isnull=True)
                   .values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            row = (AccountConversation.objects.select_for_update()
                   .filter(pk=pk, last_status__isnull=True).first())
            if row is None:
                continue
            newest = (ConversationStatus.objects.filter(conversation=row)
                      .order_by("-status_id").values_list("status_id", flat=True).first())
            if newest is None:
                row.delete()
            else:
                AccountConversation.objects.filter(pk=pk).update(last_status_id=newest)
            changed += 1
    return changed


def conversation_read(*, account: Account, conversation_id: int | str) -> AccountConversation:
    """Mark one of ``account``'s conversations read and return it; NotFound for
    anyone else's or an unknown id."""
    rows = _own(account, conversation_id)
    rows.update(unread=False)
    row = rows.first()
    if row is None:
        raise NotFound(_("Record not found"))
    return row


def conversation_delete(*, account: Account, conversation_id: int | str) -> None:
    """Remove one of ``account``'s conversations for ``account`` only (the other
    participants keep theirs, and the statuses stay); NotFound for anyone else's
    or an unknown id. A new direct status in the thread brings it back."""
    deleted, _by_model = _own(account, conversation_id).delete()
    if not deleted:
        raise NotFound(_("Record not found"))
