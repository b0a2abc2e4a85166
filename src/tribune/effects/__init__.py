"""What happens after each domain event: the one place that says "after X, do Y".

Services publish events (tribune.core.events); on commit, one background task per
event runs :func:`handle`. Handlers are idempotent, so a task that runs twice does
no harm. Tasks may run out of order, so a handler that undoes a notification first
checks that the action is still undone (an unreblog handled after a new reblog must
not take the new reblog's notification away).
"""

from __future__ import annotations

import logging
from typing import Any

from tribune.core.events import (
    AccountMoved,
    Blocked,
    DomainBlocked,
    EmailConfirmationRequested,
    Event,
    Favourited,
    FavouriteRemoved,
    FiltersChanged,
    Followed,
    FollowRejected,
    FollowRequested,
    FollowRequestWithdrawn,
    PasswordResetRequested,
    PollRefreshed,
    PollVoted,
    ProfileUpdated,
    ReportForwarded,
    StatusCreated,
    StatusDeleted,
    StatusImported,
    StatusUpdated,
    Unblocked,
    Unfollowed,
)

logger = logging.getLogger(__name__)


def handle(event: Event) -> None:
    """Apply the consequences of ``event``."""
    from tribune.accounts import emails
    from tribune.conversations.services import (
        conversation_add_status,
        conversations_repair,
    )
    from tribune.effects import streams
    from tribune.federation import outbox
    from tribune.federation.outbox import follow_accept_send
    from tribune.graph.models import Follow, FollowRequest
    from tribune.moderation.services import status_scan
    from tribune.notifications.models import NotificationType as N
    from tribune.notifications.services import (
        notifications_retract,
        notify,
        notify_many,
    )
    from tribune.statuses.models import Favourite, Mention, Quote, QuoteState, Status
    from tribune.timelines import services as timelines
    from tribune.trends.scoring import trends_refresh_soon

    match event:
        case StatusCreated(status_id=sid):
            poll_end_schedule(status_id=sid)
            audience = timelines.fanout_status_to(status_id=sid)
            streams.status_created_stream(status_id=sid, audience=audience)
            trends_refresh_soon()
            status_scan(status_id=sid)  # detectors may only open or raise a case
            _preview_card(sid, new=True)
            status = Status.objects.filter(pk=sid).select_related("reblog_of").first()
            if status is None:
                return
            outbox.status_create_send(status_id=sid)  # local posts only
            if status.reblog_of_id:
                notify(account_id=status.reblog_of.account_id, from_account_id=status.account_id,
                       type=N.REBLOG, status_id=status.reblog_of_id)
                return
            if status.visibility == "direct":
                conversation_add_status(status_id=sid)
                streams.conversations_stream(status_id=sid)
            for account_id in Mention.objects.filter(status=status).values_list("account_id", flat=True):
                notify(account_id=account_id, from_account_id=status.account_id,
                       type=N.MENTION, status_id=sid)
            # Mastodon 4.5: the quoted post's author hears of an accepted quote.
            quoted_author = (Quote.objects.filter(status_id=sid, state=QuoteState.ACCEPTED,
                                                  quoted_status__isnull=False)
                             .values_list("quoted_status__account_id", flat=True).first())
            if quoted_author is not None:
                notify(account_id=quoted_author, from_account_id=status.account_id,
                       type=N.QUOTE, status_id=sid)
            for follower_id in Follow.objects.filter(target_id=status.account_id, notify=True).values_list("account_id", flat=True):
                if status.visibility != "direct":
                    notify(account_id=follower_id, from_account_id=status.account_id,
                           type=N.STATUS, status_id=sid)
        case StatusImported(status_id=sid):
            # An old post brought back: no feeds, no notifications, no card fetch;
            # only the detectors see it, as they see every new post.
            status_scan(status_id=sid)
        case StatusUpdated(status_id=sid):
            status = Status.objects.filter(pk=sid).first()
            if status is None:
                return
            poll_end_schedule(status_id=sid)  # an edit may have changed the poll's end
            status_scan(status_id=sid)
            outbox.status_update_send(status_id=sid)  # local posts only
            streams.status_updated_stream(status_id=sid)
            interested = set(Status.objects.filter(reblog_of_id=sid).values_list("account_id", flat=True))
            interested |= set(Favourite.objects.filter(status_id=sid).values_list("account_id", flat=True))
            notify_many(account_ids=interested, from_account_id=status.account_id,
                        type=N.UPDATE, status_id=sid)
            # Mastodon 4.5: those who quote the post hear that it changed (about
            # their quoting post).
            for quoting_id, quoter_id in Quote.objects.filter(
                    quoted_status_id=sid, state=QuoteState.ACCEPTED).values_list(
                    "status_id", "status__account_id"):
                notify(account_id=quoter_id, from_account_id=status.account_id,
                       type=N.QUOTED_UPDATE, status_id=quoting_id)
            _preview_card(sid)
        case StatusDeleted(status_id=sid, account_id=aid, reblog_of_id=original_id,
                           local_only=local_only, reblog_of_uri=original_uri):
            timelines.unfanout_status(status_id=sid, account_id=aid, reblog_of_id=original_id)
            streams.status_deleted_stream(status_id=sid, account_id=aid)
            if not local_only:
                outbox.status_delete_send(account_id=aid, status_id=sid,
                                          reblog_of_id=original_id, reblog_of_uri=original_uri)
            if original_id is None:
                conversations_repair()  # conversations whose last status it was
            if original_id is not None and not Status.objects.filter(
                    account_id=aid, reblog_of_id=original_id).exists():
                _retract_about_status(original_id, from_account_id=aid, type=N.REBLOG)
        case Favourited(favourite_id=fid):
            trends_refresh_soon()
            favourite = (Favourite.objects.filter(pk=fid)
                         .select_related("account", "status__account").first())
            if favourite is not None:
                outbox.favourite_send(account=favourite.account, status=favourite.status)
                notify(account_id=favourite.status.account_id, from_account_id=favourite.account_id,
                       type=N.FAVOURITE, status_id=favourite.status_id)
        case FavouriteRemoved(account_id=aid, status_id=sid):
            if not Favourite.objects.filter(account_id=aid, status_id=sid).exists():
                _retract_about_status(sid, from_account_id=aid, type=N.FAVOURITE)
                _unfavourite_send(aid, sid)
        case Followed(follow_id=fid, from_request=from_request):
            follow = Follow.objects.select_related("account", "target").filter(pk=fid).first()
            if follow is not None:
                if follow.account.is_local:
                    # A remote follower's home feed is on its own server.
                    timelines.feed_merge_author(feed_account_id=follow.account_id,
                                                author_id=follow.target_id)
                if from_request:
                    # Accepting a request answers its notification (Mastodon drops it
                    # with the request) and sends no second "follow" one.
                    notifications_retract(account_id=follow.target_id,
                                          from_account_id=follow.account_id,
                                          type=N.FOLLOW_REQUEST)
                    # A remote follower's server learns of it by an Accept.
                    follow_accept_send(follower=follow.account, target=follow.target)
                else:
                    notify(account_id=follow.target_id, from_account_id=follow.account_id,
                           type=N.FOLLOW)
        case FollowRequested(follow_request_id=rid):
            request = (FollowRequest.objects.select_related("account", "target")
                       .filter(pk=rid).first())
            if request is None:
                return
            if request.target.is_local:
                notify(account_id=request.target_id, from_account_id=request.account_id,
                       type=N.FOLLOW_REQUEST)
            else:
                # The remote account's server decides: an Accept or a Reject comes back.
                outbox.follow_send(follower=request.account, target=request.target)
        case FollowRequestWithdrawn(account_id=requester, target_id=target):
            if not FollowRequest.objects.filter(account_id=requester, target_id=target).exists():
                notifications_retract(account_id=target, from_account_id=requester,
                                      type=N.FOLLOW_REQUEST)
                _follow_undo(requester, target)
        case Unfollowed(follower_id=follower, target_id=target):
            timelines.feed_forget_author(feed_account_id=follower, author_id=target)
            if not Follow.objects.filter(account_id=follower, target_id=target).exists():
                notifications_retract(account_id=target, from_account_id=follower, type=N.FOLLOW)
                _follow_undo(follower, target)
        case FollowRejected(account_id=target, follower_id=follower):
            _follow_reject_send(target, follower)
        case Blocked(account_id=a, target_id=b):
            timelines.feed_forget_author(feed_account_id=a, author_id=b)
            timelines.feed_forget_author(feed_account_id=b, author_id=a)
            _block_send(a, b, undo=False)
        case Unblocked(account_id=a, target_id=b):
            _block_send(a, b, undo=True)
        case ProfileUpdated(account_id=aid):
            outbox.profile_update_send(account_id=aid)
        case ReportForwarded(report_id=rid):
            outbox.report_forward_send(report_id=rid)
        case DomainBlocked(domain=domain, severity=severity):
            if severity == "suspend":
                from tribune.graph.services import domain_follows_sever

                domain_follows_sever(domain=domain)
        case AccountMoved(account_id=aid, target_uri=uri):
            _account_moved(aid, uri)
        case EmailConfirmationRequested(user_id=uid, email=email, language=language,
                                        change=change):
            emails.confirmation_mail_send(user_id=uid, email=email, language=language,
                                          change=change)
        case PasswordResetRequested(user_id=uid, language=language):
            emails.password_reset_mail_send(user_id=uid, language=language)
        case FiltersChanged(account_id=aid):
            streams.filters_changed_stream(account_id=aid)
        case PollVoted(poll_id=pid, account_id=aid):
            _poll_voted(pid, aid)
        case PollRefreshed(status_id=sid, end_changed=end_changed):
            if end_changed:  # a remote poll's end moved, or it was closed early
                poll_end_schedule(status_id=sid)
        case _:
            logger.info("no effects for %s", type(event).__name__)


def _account_moved(account_id: int, target_uri: str) -> None:
    """After a move (docs/adr/0030): a local account's remote followers' servers
    get the ``Move``; its local followers, and a remote account's local
    followers, follow the new account. Nothing when the move has since been
    undone or changed, or the new account is not known here."""
    from tribune.accounts.models import Account
    from tribune.accounts.selectors import account_by_uri
    from tribune.federation import outbox
    from tribune.graph.services import followers_move

    account = Account.objects.filter(pk=account_id).first()
    if account is None or account.moved_to_uri != target_uri:
        return
    if account.is_local:
        outbox.move_send(account=account)
    target = account_by_uri(target_uri)
    if target is not None:
        followers_move(account=account, target=target)


def poll_end_schedule(*, status_id: int) -> None:
    """Queue the end of the poll of ``status_id`` (if it has one still to notify) to
    run at its end, with ``run_after`` (docs/adr/0026). On a backend that cannot
    defer (the tests' immediate one) nothing is queued; a poll already ended is
    handled now. Queuing it twice is harmless: the end is claimed once."""
    from django.utils import timezone

    from tribune.effects.tasks import poll_end
    from tribune.statuses.models import Poll

    poll = (Poll.objects.filter(status_id=status_id, ended_notified_at__isnull=True)
            .values("id", "expires_at").first())
    if poll is None or poll["expires_at"] is None:
        return
    if poll["expires_at"] <= timezone.now():
        poll_ended(poll_id=poll["id"])
        return
    if not poll_end.get_backend().supports_defer:
        logger.info("polls: the task backend cannot defer the end of poll %s", poll["id"])
        return
    poll_end.using(run_after=poll["expires_at"]).enqueue(poll_id=poll["id"])


def poll_ended(*, poll_id: int) -> int:
    """Send the ``poll`` notifications of poll ``poll_id`` if it has ended and they
    were not sent yet: to its author and every local voter (a remote poll's
    author is told by its own server), and a local poll's final ``Update`` to
    other servers. The claim and the
    notifications are one transaction, so a run that fails sends nothing and a
    second run after a success sends nothing again. Returns how many were sent."""
    from django.db import transaction

    from tribune.federation import outbox
    from tribune.notifications.services import notify_poll_ended
    from tribune.statuses.polls import poll_end_claim

    with transaction.atomic():
        claimed = poll_end_claim(poll_id=poll_id)
        if claimed is None:
            return 0
        poll, voter_ids = claimed
        sent = notify_poll_ended(author_id=poll.status.account_id, status_id=poll.status_id,
                                 voter_ids=voter_ids)
    # The other servers get a local poll's final counts, closed (docs/adr/0036).
    outbox.poll_update_send(poll_id=poll_id)  # local posts only
    return sent


def _poll_voted(poll_id: int, account_id: int) -> None:
    """After a vote (docs/adr/0036): in a local poll, the other servers get its
    new counts (an ``Update`` of its Question, at most once per
    ``outbox.POLL_UPDATE_DELAY``); in a remote poll, the local voter's choices go
    to the poll's server."""
    from tribune.federation import outbox
    from tribune.statuses.models import Poll

    poll = Poll.objects.select_related("status__account").filter(pk=poll_id).first()
    if poll is None:
        return
    if poll.status.account.is_local:
        outbox.poll_update_soon(poll_id=poll_id)
    else:
        outbox.poll_vote_send(account_id=account_id, poll_id=poll_id)


def _unfavourite_send(account_id: int, status_id: int) -> None:
    """Tell a remote author's server that the local ``account_id`` no longer
    favourites its post ``status_id``."""
    from tribune.accounts.models import Account
    from tribune.federation import outbox
    from tribune.statuses.models import Status

    account = Account.objects.filter(pk=account_id).first()
    status = Status.objects.select_related("account").filter(pk=status_id).first()
    if account is not None and status is not None:
        outbox.favourite_send(account=account, status=status, undo=True)


def _follow_reject_send(target_id: int, follower_id: int) -> None:
    """Tell a remote follower's server that ``target_id`` turned its follow down,
    unless it follows again meanwhile (the task may run late)."""
    from tribune.accounts.models import Account
    from tribune.federation import outbox
    from tribune.graph.models import Follow

    if Follow.objects.filter(account_id=follower_id, target_id=target_id).exists():
        return
    accounts = Account.objects.in_bulk([follower_id, target_id])
    if follower_id in accounts and target_id in accounts:
        outbox.follow_reject_send(follower=accounts[follower_id], target=accounts[target_id])


def _follow_undo(follower_id: int, target_id: int) -> None:
    """Tell a remote account's server that the local ``follower_id`` no longer
    follows it (nor asks to), unless a new request or follow came since."""
    from tribune.accounts.models import Account
    from tribune.federation import outbox
    from tribune.graph.models import Follow, FollowRequest

    if (Follow.objects.filter(account_id=follower_id, target_id=target_id).exists()
            or FollowRequest.objects.filter(account_id=follower_id,
                                            target_id=target_id).exists()):
        return
    accounts = Account.objects.in_bulk([follower_id, target_id])
    if follower_id in accounts and target_id in accounts:
        outbox.follow_undo_send(follower=accounts[follower_id], target=accounts[target_id])


def _block_send(account_id: int, target_id: int, *, undo: bool) -> None:
    """Tell a remote account's server that the local ``account_id`` blocks it
    (``undo``: no longer does), unless the block changed again since."""
    from tribune.accounts.models import Account
    from tribune.federation import outbox
    from tribune.graph.models import Block

    if Block.objects.filter(account_id=account_id, target_id=target_id).exists() == undo:
        return
    accounts = Account.objects.in_bulk([account_id, target_id])
    if account_id in accounts and target_id in accounts:
        outbox.block_send(account=accounts[account_id], target=accounts[target_id], undo=undo)


def _preview_card(status_id: int, *, new: bool = False) -> None:
    """Queue the fetch of the status's link preview (tribune.links); it fetches
    other sites, so it runs as its own task. Nothing is queued while previews are
    off, nor for a ``new`` status without a link (an edit always queues, as it may
    have removed the link). A failure to queue is logged only."""
    from django.conf import settings

    from tribune.links.services import first_link
    from tribune.links.tasks import fetch_card
    from tribune.statuses.models import Status

    if not settings.TRIBUNE_LINK_PREVIEWS:
        return
    if new:
        content = Status.objects.filter(pk=status_id).values_list("content", flat=True).first()
        if not content or first_link(content) is None:
            return
    try:
        fetch_card.enqueue(status_id=status_id)
    except Exception:
        logger.exception("links: cannot queue the card of status %s", status_id)


def _retract_about_status(status_id: int, *, from_account_id: int, type: str) -> None:
    """Take back the ``type`` notification ``from_account_id`` gave the author of
    ``status_id``. A deleted status took its notifications with it already."""
    from tribune.notifications.services import notifications_retract
    from tribune.statuses.models import Status

    author = Status.objects.filter(pk=status_id).values_list("account_id", flat=True).first()
    if author is not None:
        notifications_retract(account_id=author, from_account_id=from_account_id, type=type,
                              status_id=status_id)


def dispatch(name: str, payload: dict[str, Any]) -> None:
    """Enqueue the task that runs ``handle`` for one published event."""
    from tribune.effects.tasks import handle_event

    queue = "timelines" if name in {"StatusCreated", "StatusDeleted"} else "default"
    handle_event.using(queue_name=queue).enqueue(name, payload)
