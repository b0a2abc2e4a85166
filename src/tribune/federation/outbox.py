"""Activities Tribune sends to other servers, and to whom (docs/adr/0023, 0024).
Each is delivered by ``tasks.deliver`` on the ``federation`` queue after the
current transaction commits; ``effects`` calls these after local accounts act."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tribune.accounts.models import Account
from tribune.federation import activities, documents
from tribune.federation.models import RemoteActor
from tribune.federation.tasks import delivery_enqueue


def _inbox(account: Account) -> str | None:
    """The personal inbox of the remote ``account``, None when it is local or its
    actor is not known here."""
    if account.is_local:
        return None
    return RemoteActor.objects.filter(account=account).values_list("inbox", flat=True).first()


def follow_accept_send(*, follower: Account, target: Account,
                       follow_id: str | None = None) -> bool:
    """Send the ``Accept`` of the remote ``follower``'s follow of the local
    ``target`` to the follower's inbox; ``follow_id`` is the Follow activity's id
    when it is known. False (nothing sent) when the follower is local or its actor
    is not known here."""
    if follower.is_local or not target.is_local:
        return False
    inbox = _inbox(follower)
    if inbox is None:
        return False
    accept = documents.accept_follow(target, follower_uri=follower.uri, follow_id=follow_id)
    delivery_enqueue(account_id=target.pk, inbox=inbox, activity=accept)
    return True


def follow_reject_send(*, follower: Account, target: Account) -> bool:
    """Send the ``Reject`` of the remote ``follower``'s follow of the local
    ``target`` (a request turned down, or the follower removed) to the follower's
    inbox, so its server stops showing the follow as pending or made. False
    (nothing sent) when the follower is local or its actor is not known here."""
    if follower.is_local or not target.is_local:
        return False
    inbox = _inbox(follower)
    if inbox is None:
        return False
    reject = documents.accept_follow(target, follower_uri=follower.uri, follow_id=None,
                                     kind="Reject")
    delivery_enqueue(account_id=target.pk, inbox=inbox, activity=reject)
    return True


def follow_send(*, follower: Account, target: Account) -> bool:
    """Send the local ``follower``'s ``Follow`` to the remote ``target``'s inbox
    (its request stays pending until the Accept). False when there is nothing to
    send: a local target, a remote follower, an actor not known here."""
    inbox = _inbox(target) if follower.is_local else None
    if inbox is None:
        return False
    delivery_enqueue(account_id=follower.pk, inbox=inbox,
                     activity=activities.follow(follower, target))
    return True


def follow_undo_send(*, follower: Account, target: Account) -> bool:
    """Send the ``Undo`` of the local ``follower``'s Follow to the remote
    ``target`` (an unfollow, or a request withdrawn). False as ``follow_send``."""
    inbox = _inbox(target) if follower.is_local else None
    if inbox is None:
        return False
    delivery_enqueue(account_id=follower.pk, inbox=inbox,
                     activity=activities.undo_follow(follower, target))
    return True


# --- posts, boosts and favourites ------------------------------------------------------


def _preferred_inboxes(account_ids) -> set[str]:
    """The shared inbox, else the personal one, of each remote account among
    ``account_ids`` (a list or a queryset of ids), each address once: one
    delivery per server that has a shared inbox (Mastodon's
    ``preferred_inbox_url``). One query."""
    rows = RemoteActor.objects.filter(account_id__in=account_ids).values_list(
        "shared_inbox", "inbox")
    return {shared or inbox for shared, inbox in rows}


def _followers_inboxes(account: Account) -> set[str]:
    from tribune.graph.models import Follow

    return _preferred_inboxes(Follow.objects.filter(target=account)
                              .exclude(account__domain="").values("account_id"))


def status_inboxes(status) -> set[str]:
    """Where a local post goes (Mastodon's ActivityPub::DistributionWorker and
    its audience): its author's remote followers unless it is direct, the remote
    accounts it mentions, and the remote author of the post it replies to; by
    shared inbox where there is one, each address once. A constant number of
    queries."""
    from tribune.statuses.models import Mention

    inboxes = set() if status.visibility == "direct" else _followers_inboxes(status.account)
    others = list(Mention.objects.filter(status=status).exclude(account__domain="")
                  .values_list("account_id", flat=True))
    if status.in_reply_to_account_id:
        others.append(status.in_reply_to_account_id)
    if status.reblog_of_id:
        others.append(status.reblog_of.account_id)
    return inboxes | _preferred_inboxes(others)


def _send(account: Account, inboxes: set[str], activity: dict) -> int:
    for inbox in sorted(inboxes):
        delivery_enqueue(account_id=account.pk, inbox=inbox, activity=activity)
    return len(inboxes)


def _loaded(status_id: int):
    from tribune.statuses.models import Status

    return (Status.objects.select_related("account", "in_reply_to__account",
                                          "reblog_of__account")
            .prefetch_related("mentions__account", "tags", "media_attachments")
            .filter(pk=status_id, account__domain="").first())


def status_create_send(*, status_id: int) -> int:
    """Deliver the ``Create`` of the local post ``status_id`` (or the
    ``Announce`` of a local boost) to ``status_inboxes``; returns how many
    deliveries were queued (0 for a remote or vanished post, an imported one,
    which was never new, or a local-only one, which stays here)."""
    status = _loaded(status_id)
    if status is None or status.imported or status.local_only:
        return 0
    if status.reblog_of_id:
        return _send(status.account, status_inboxes(status), activities.announce(status))
    return _send(status.account, status_inboxes(status), activities.create(status))


def status_update_send(*, status_id: int) -> int:
    """Deliver the ``Update`` of the edited local post ``status_id`` to the same
    audience as its ``Create`` (none for a local-only post)."""
    status = _loaded(status_id)
    if status is None or status.reblog_of_id or status.local_only:
        return 0
    return _send(status.account, status_inboxes(status), activities.update(status))


def status_delete_send(*, account_id: int, status_id: int,
                       reblog_of_id: int | None, reblog_of_uri: str = "") -> int:
    """Deliver what follows the deletion of the local post or boost
    ``status_id``: a ``Delete`` of the post, or the ``Undo`` of the boost (to the
    boosted author as well), to the author's remote followers. The post is gone,
    so its mentions are not known any more: mentioned accounts that do not follow
    the author are not told. A boost that went with its original (deleted, so
    unreadable) is undone by ``reblog_of_uri``, the original's id, to the
    booster's followers alone (../shared/cases TIM-26)."""
    from tribune.accounts.selectors import account_uri
    from tribune.statuses.models import Status

    account = Account.objects.filter(pk=account_id, domain="").first()
    if account is None:
        return 0
    inboxes = _followers_inboxes(account)
    uri = f"{account_uri(account)}/statuses/{status_id}"
    if reblog_of_id is None:
        return _send(account, inboxes, activities.delete(account, uri))
    original = Status.objects.select_related("account").filter(pk=reblog_of_id).first()
    if original is None:
        if not reblog_of_uri:
            return 0
        return _send(account, inboxes, activities.undo_announce(account, uri, reblog_of_uri))
    from tribune.federation.serializers import status_id as object_id

    inboxes |= _preferred_inboxes([original.account_id])
    return _send(account, inboxes, activities.undo_announce(account, uri, object_id(original)))


def favourite_send(*, account: Account, status, undo: bool = False) -> bool:
    """Deliver the local ``account``'s ``Like`` of ``status`` (its ``Undo`` when
    ``undo``) to the status's remote author. False when there is no one to tell
    (a local author, a remote account liking)."""
    if not account.is_local:
        return False
    inbox = _inbox(status.account)
    if inbox is None:
        return False
    document = (activities.undo_like if undo else activities.like)(account, status)
    delivery_enqueue(account_id=account.pk, inbox=inbox, activity=document)
    return True


def move_send(*, account: Account) -> int:
    """Deliver the ``Move`` of the local ``account`` to where it moved
    (``moved_to_uri``) to its remote followers, one delivery per shared inbox
    (Mastodon's MoveService); their servers then move the follows themselves.
    Returns how many deliveries were queued (0 when it has not moved)."""
    if not account.is_local or not account.moved_to_uri:
        return 0
    return _send(account, _followers_inboxes(account),
                 activities.move(account, account.moved_to_uri))


# --- blocks, profiles, reports (docs/adr/0029) -----------------------------------------


def block_send(*, account: Account, target: Account, undo: bool = False) -> bool:
    """Send the local ``account``'s ``Block`` of the remote ``target`` (its
    ``Undo`` when ``undo``) to the target's inbox, as Mastodon does (the other
    server then ends its follows both ways and hides the blocker's posts from
    the blocked). False when there is nothing to send (a local target, a remote
    blocker, an actor not known here)."""
    inbox = _inbox(target) if account.is_local else None
    if inbox is None:
        return False
    document = (activities.undo_block if undo else activities.block)(account, target)
    delivery_enqueue(account_id=account.pk, inbox=inbox, activity=document)
    return True


def profile_update_send(*, account_id: int) -> int:
    """Deliver the ``Update`` of the local account ``account_id``'s actor (its
    document as served now) to its remote followers' shared inboxes, once each;
    returns how many deliveries were queued (0 for a remote or vanished account)."""
    from tribune.federation.keys import actor_key_get_or_create

    account = Account.objects.filter(pk=account_id, domain="").first()
    if account is None:
        return 0
    inboxes = _followers_inboxes(account)
    if not inboxes:
        return 0
    key = actor_key_get_or_create(account=account)
    document = documents.actor(account, public_key_pem=key.public_key_pem)
    stamp = timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return _send(account, inboxes, activities.update_actor(account, document, stamp=stamp))


def report_forward_send(*, report_id: int) -> bool:
    """Send the forwarded report ``report_id`` about a remote account to that
    account's server as a ``Flag`` from the instance actor, naming the account
    and the reported posts that came from there (Mastodon's
    ReportService#forward_to_origin!). False when there is nothing to send: the
    report is gone or not forwarded, or its target is local or not known here.
    A suspended domain gets nothing (``tasks``)."""
    from tribune.federation.instance_actor import instance_actor_id
    from tribune.federation.tasks import deliver_as_instance
    from tribune.moderation.models import Report

    report = Report.objects.select_related("target_account").filter(pk=report_id).first()
    if report is None or not report.forward or report.target_account.is_local:
        return False
    inbox = _inbox(report.target_account)
    if inbox is None:
        return False
    uris = [u for u in report.statuses.values_list("uri", flat=True) if u]
    document = activities.flag(actor=instance_actor_id(), report_id=report.pk,
                               target=report.target_account, status_uris=uris,
                               comment=report.comment)
    deliver_as_instance.enqueue(inbox=inbox, activity=document)
    return True


# --- polls (docs/adr/0036) -------------------------------------------------------------

# Seconds between two Updates of a local poll's Question while votes arrive:
# Mastodon's DistributePollUpdateWorker runs 3 minutes after a vote, once.
POLL_UPDATE_DELAY = 180


def poll_vote_send(*, account_id: int, poll_id: int) -> int:
    """Deliver the local account ``account_id``'s vote in the remote poll
    ``poll_id`` to the poll author's inbox: one ``Create`` of a ``Note`` per
    chosen option (``activities.vote``; Mastodon's VoteService#deliver_votes!).
    Returns how many deliveries were queued (0 for a local poll, a remote voter,
    an author whose actor is not known here)."""
    from tribune.statuses.models import Poll, PollVote

    poll = Poll.objects.select_related("status__account").filter(pk=poll_id).first()
    account = Account.objects.filter(pk=account_id, domain="").first()
    if poll is None or account is None or poll.status.account.is_local:
        return 0
    inbox = _inbox(poll.status.account)
    if inbox is None:
        return 0
    votes = [v for v in PollVote.objects.filter(poll=poll, account=account).order_by("choice")
             if v.choice < len(poll.options)]
    for v in votes:
        delivery_enqueue(account_id=account.pk, inbox=inbox, activity=activities.vote(
            account, vote_pk=v.pk, title=poll.options[v.choice], status=poll.status,
            published=v.created_at))
    return len(votes)


def poll_update_send(*, poll_id: int) -> int:
    """Deliver the ``Update`` of the local post whose poll is ``poll_id``, its
    ``Question`` with the counts as they are now, to the post's audience
    (``status_inboxes``) and the poll's remote voters (Mastodon's
    DistributePollUpdateWorker). Returns how many deliveries were queued (0 for
    a remote or local-only post, or a vanished poll)."""
    from tribune.statuses.models import Poll, PollVote

    status_id = Poll.objects.filter(pk=poll_id).values_list("status_id", flat=True).first()
    status = _loaded(status_id) if status_id is not None else None
    if status is None or status.local_only or status.reblog_of_id:
        return 0
    voters = PollVote.objects.filter(poll_id=poll_id).exclude(
        account__domain="").values("account_id")
    stamp = timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return _send(status.account, status_inboxes(status) | _preferred_inboxes(voters),
                 activities.update_poll(status, stamp=stamp))


def poll_update_soon(*, poll_id: int) -> bool:
    """After a vote in a local poll: send its ``Update`` at most once per
    ``POLL_UPDATE_DELAY`` seconds (one cache ``add`` claims the window; the
    Update goes at the window's end, with every vote made meanwhile, where the
    task backend can defer, else at once). Nothing while a poll with hidden
    totals runs (Mastodon's VoteService); its end sends the final counts
    (``effects.poll_ended``). Returns whether an Update was sent or queued."""
    from django.core.cache import cache

    from tribune.federation.tasks import poll_update
    from tribune.statuses.models import Poll

    if Poll.objects.filter(pk=poll_id, hide_totals=True).exists():
        return False
    if not cache.add(f"federation:poll-update:{poll_id}", 1, timeout=POLL_UPDATE_DELAY):
        return False
    if poll_update.get_backend().supports_defer:
        poll_update.using(run_after=timezone.now() + timedelta(seconds=POLL_UPDATE_DELAY)
                          ).enqueue(poll_id=poll_id)
    else:
        poll_update_send(poll_id=poll_id)
    return True
