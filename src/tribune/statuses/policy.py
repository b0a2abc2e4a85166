"""Who may see and do what with a status (Mastodon's StatusPolicy).

* public and unlisted: anyone who is not blocked either way;
* private (followers-only): the author, accepted followers and mentioned accounts;
* direct: the author and the mentioned accounts;
* blocks hide everything both ways, including reblogs of a blocked author;
* a status removed by a moderation decision is seen by its author only (with the
  notice), and so are reblogs of it; one with reduced reach stays visible but is
  left out of public timelines, hashtags and search (``public_q``);
* a local-only post is seen by local accounts only: never by visitors nor other
  servers (``visible_q``, ``can_view``);
* who may reply follows the post's ``reply_policy`` (``reply_refusal``);
* who may quote follows the post's ``quote_approval_policy`` (``quote_refusal``).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from tribune.accounts.models import Account, Visibility
from tribune.accounts.selectors import limited_domains_q
from tribune.graph.models import Block, Follow
from tribune.graph.selectors import (
    blocked_either_way_ids,
    is_blocked_either_way,
    is_following,
)
from tribune.statuses.models import Mention, QuotePolicy, ReplyPolicy, Status

OPEN = [Visibility.PUBLIC, Visibility.UNLISTED]


def visible_q(viewer: Account | None, *, blocked: set[int] | None = None) -> Q:
    """A filter for Status rows that ``viewer`` (None: a visitor) may see."""
    if viewer is None:
        return Q(visibility__in=OPEN, removed_at__isnull=True, reblog_of__removed_at__isnull=True,
                 local_only=False)
    followed = Follow.objects.filter(account_id=viewer.pk, target_id=OuterRef("account_id"))
    mentioned = Mention.objects.filter(status_id=OuterRef("pk"), account_id=viewer.pk)
    q = (
        Q(visibility__in=OPEN)
        | Q(account_id=viewer.pk)
        | (Q(visibility=Visibility.PRIVATE) & (Exists(followed) | Exists(mentioned)))
        | (Q(visibility=Visibility.DIRECT) & Exists(mentioned))
    )
    q &= (Q(removed_at__isnull=True) | Q(account_id=viewer.pk)) & (
        Q(reblog_of__removed_at__isnull=True) | Q(reblog_of__account_id=viewer.pk))
    if viewer.domain:
        q &= Q(local_only=False)
    if blocked is None:
        blocked = blocked_either_way_ids(viewer.pk)
    if blocked:
        q &= ~Q(account_id__in=blocked) & ~Q(reblog_of__account_id__in=blocked)
    return q


def public_q() -> Q:
    """A filter for statuses that may appear in public timelines, hashtag pages and
    search: public, not removed, reach not reduced, author not suspended, and the
    author's server not silenced or suspended by a domain block (Mastodon's
    "limited" servers stay out of public timelines; the block's own domain, not
    its subdomains, as a query cannot walk parent domains)."""
    return Q(visibility=Visibility.PUBLIC, removed_at__isnull=True,
             reach_reduced_at__isnull=True, account__suspended_at__isnull=True) & ~Q(
        account__domain__in=limited_domains_q())


def removed_for(viewer: Account | None, status: Status) -> bool:
    """Whether a moderation decision hides ``status`` (or the original it
    reblogs) from ``viewer``: everyone but the author."""
    if status.reblog_of_id is not None and removed_for(viewer, status.reblog_of):
        return True
    return removal_hides(viewer.pk if viewer else None, author_id=status.account_id,
                         removed=status.removed_at is not None)


def removal_hides(viewer_id: int | None, *, author_id: int, removed: bool) -> bool:
    """Whether a status by ``author_id`` that is ``removed`` is hidden from
    ``viewer_id`` (None: a visitor): from everyone but its author."""
    return removed and viewer_id != author_id


def can_view(viewer: Account | None, status: Status) -> bool:
    """Whether ``viewer`` may see ``status`` (for a reblog, also its original)."""
    if status.reblog_of_id is not None and not can_view(viewer, status.reblog_of):
        return False
    if status.account.suspended_at is not None:
        return False
    if removed_for(viewer, status):
        return False
    if status.local_only and (viewer is None or viewer.domain):
        return False
    if viewer is None:
        return status.visibility in OPEN
    if viewer.pk == status.account_id:
        return True
    if is_blocked_either_way(viewer.pk, status.account_id):
        return False
    if status.visibility in OPEN:
        return True
    if status.visibility == Visibility.PRIVATE and is_following(viewer.pk, status.account_id):
        return True
    return Mention.objects.filter(status=status, account_id=viewer.pk).exists()


def can_reblog(account: Account, status: Status) -> bool:
    """Public and unlisted statuses may be reblogged; a private one only by its author."""
    if status.visibility in OPEN:
        return True
    return status.visibility == Visibility.PRIVATE and status.account_id == account.pk


def _refusal_message(policy: str) -> str:
    from django.utils.translation import gettext as _

    if policy == ReplyPolicy.FOLLOWERS:
        return _("Only followers of the author can reply to this post.")
    return _("Only the accounts this post mentions can reply to it.")


def reply_refusals(account: Account, statuses: list[Status]) -> dict[int, str]:
    """``reply_refusal`` for a page of ``statuses`` (their mentions prefetched) at
    once: {status id: reason} for those ``account`` may not reply to; one query."""
    limited = [s for s in statuses if s.reply_policy != ReplyPolicy.EVERYONE
               and s.account_id != account.pk
               and not any(m.account_id == account.pk for m in s.mentions.all())]
    if not limited:
        return {}
    followed = set(Follow.objects.filter(
        account_id=account.pk, target_id__in={s.account_id for s in limited})
        .values_list("target_id", flat=True))
    return {s.pk: _refusal_message(s.reply_policy) for s in limited
            if not (s.reply_policy == ReplyPolicy.FOLLOWERS and s.account_id in followed)}


def reply_refusal(account: Account, status: Status) -> str | None:
    """Why ``account`` may not reply to ``status``, or None when it may: its author
    and the accounts it mentions always may; ``followers`` adds the author's
    followers, ``everyone`` everyone who can see it. The reason is a sentence for
    the person refused (GoToSocial's ``can_reply`` levels, enforced here)."""
    if status.reply_policy == ReplyPolicy.EVERYONE or account.pk == status.account_id:
        return None
    if Mention.objects.filter(status=status, account_id=account.pk).exists():
        return None
    if status.reply_policy == ReplyPolicy.FOLLOWERS and is_following(account.pk,
                                                                       status.account_id):
        return None
    return _refusal_message(status.reply_policy)


def viewers_who_can_view(status: Status, viewer_ids: set[int | None]) -> set[int | None]:
    """The rule of :func:`can_view` for many viewers at once (None: a visitor), in
    a fixed number of queries: those of ``viewer_ids`` who may see ``status``. For
    the streaming API, which renders one event for everyone connected."""
    if status.reblog_of_id is not None:
        viewer_ids = viewers_who_can_view(status.reblog_of, viewer_ids)
    if not viewer_ids or status.account.suspended_at is not None:
        return set()
    if status.local_only:  # for this instance's accounts only, as in can_view
        viewer_ids = set(Account.objects.filter(
            pk__in=[v for v in viewer_ids if v is not None], domain="")
            .values_list("pk", flat=True))
    author = status.account_id
    allowed = {v for v in viewer_ids
               if not removal_hides(v, author_id=author, removed=status.removed_at is not None)}
    accounts = {v for v in allowed if v is not None and v != author}
    if accounts:
        blocks = Block.objects.filter(Q(account_id__in=accounts, target_id=author)
                                      | Q(account_id=author, target_id__in=accounts))
        allowed -= {a if a != author else t for a, t in blocks.values_list("account_id",
                                                                          "target_id")}
    if status.visibility in OPEN:
        return allowed
    others = {v for v in allowed if v is not None and v != author}
    seeing = set(Mention.objects.filter(status_id=status.pk, account_id__in=others)
                 .values_list("account_id", flat=True))
    if status.visibility == Visibility.PRIVATE:
        seeing |= set(Follow.objects.filter(account_id__in=others, target_id=author)
                      .values_list("account_id", flat=True))
    return {v for v in allowed if v == author} | seeing


def quote_allowed(*, viewer_id: int | None, author_id: int, visibility: str, policy: str,
                  following: bool) -> bool:
    """Whether ``viewer_id`` may quote a post of ``author_id`` it can see, from the
    post's facts alone (Mastodon 4.5's StatusPolicy#quote?): its author may quote
    any of its posts but a direct one; others only public and unlisted posts, and
    only as ``policy`` (``QuotePolicy``) allows: anyone, the author's followers
    (``following``: the viewer follows the author), or nobody."""
    if viewer_id is None or visibility == Visibility.DIRECT:
        return False
    if viewer_id == author_id:
        return True
    if visibility not in OPEN or policy == QuotePolicy.NOBODY:
        return False
    return policy == QuotePolicy.PUBLIC or following


def quote_refusal(account: Account, status: Status) -> str | None:
    """Why ``account`` may not quote ``status`` (an original, which it can see), or
    None when it may (:func:`quote_allowed`); the reason is a sentence for the person
    refused."""
    from django.utils.translation import gettext as _

    following = (status.quote_approval_policy == QuotePolicy.FOLLOWERS
                 and is_following(account.pk, status.account_id))
    if quote_allowed(viewer_id=account.pk, author_id=status.account_id,
                     visibility=status.visibility, policy=status.quote_approval_policy,
                     following=following):
        return None
    if status.visibility == Visibility.DIRECT:
        return _("Direct posts cannot be quoted.")
    if status.visibility not in OPEN:
        return _("Only its author can quote a followers-only post.")
    if status.quote_approval_policy == QuotePolicy.FOLLOWERS:
        return _("Only followers of the author can quote this post.")
    return _("The author of this post does not allow quotes.")
