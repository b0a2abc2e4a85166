"""Followed hashtags and the review of trends: the one write path for the API, the
web pages and the command line (docs/adr/0031).

- ``tag_follow`` / ``tag_unfollow``: Mastodon's ``POST /api/v1/tags/:name/follow``
  and ``/unfollow`` (docs: methods/tags). Following twice, or unfollowing a tag one
  does not follow, changes nothing. Following takes effect for posts fanned out
  from then on (Mastodon does not back-fill either); a feed rebuilt later
  (``timelines.services.feeds_rebuild``) includes the tag's recent posts.
- ``trend_tag_review`` / ``trend_status_review``: staff approve or reject what may
  trend (Mastodon's ``/api/v1/admin/trends/tags/:id/approve``, ``/reject``).
- ``trends_refresh`` (in :mod:`tribune.trends.scoring`) computes the scores.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import Forbidden, NotFound, ValidationFailed
from tribune.core.ids import parse_id
from tribune.core.text import extract_hashtags, normalize_tag
from tribune.statuses.models import Status, Tag
from tribune.trends.models import Review, StatusTrend, TagFollow, TagTrend

__all__ = ["tag_follow", "tag_unfollow", "trend_status_review", "trend_tag_review"]


def tag_for_name(name: str, *, create: bool) -> Tag:
    """The hashtag called ``name`` (a leading ``#`` ignored; matched by its key,
    ``core.text.normalize_tag``), made when ``create`` and the name is a valid
    hashtag (the text rules of ``core.text``). Raises NotFound for an unknown name,
    or an invalid one when not ``create``, and ValidationFailed (422, Mastodon's
    "Name is invalid") for an invalid one to be made."""
    name = (name or "").strip().removeprefix("#")
    key = normalize_tag(name)[:200]
    tag = Tag.objects.filter(name=key).first() if key else None
    if tag is not None:
        return tag
    if not create:
        raise NotFound(_("Record not found"))
    if not key or [normalize_tag(t) for t in extract_hashtags("#" + name)] != [key]:
        raise ValidationFailed(_("Validation failed: Name is invalid"))
    tag, _created = Tag.objects.get_or_create(
        name=key, defaults={"display_name": name[:200]}
    )
    return tag


def tag_follow(*, account: Account, name: str) -> Tag:
    """``account`` follows the hashtag ``name`` (made if new and valid); returns the
    tag. NotFound for a name that is not a hashtag; Forbidden for a frozen
    account (it may read, not act)."""
    if account.frozen_at is not None or account.suspended_at is not None:
        raise Forbidden(_("This action is not allowed"))
    tag = tag_for_name(name, create=True)
    TagFollow.objects.get_or_create(account=account, tag=tag)
    return tag


def tag_unfollow(*, account: Account, name: str) -> Tag:
    """``account`` no longer follows the hashtag ``name``; returns the tag. Posts
    already on the home feed stay (as Mastodon's). NotFound for an unknown tag."""
    tag = tag_for_name(name, create=False)
    TagFollow.objects.filter(account=account, tag=tag).delete()
    return tag


def require_staff(account: Account | None) -> None:
    """Forbidden unless ``account`` is an active, unsuspended staff member's (the
    rule of ``moderation.decisions.require_moderator``, which sits above this app)."""
    user = getattr(account, "user", None)
    if user is None or not user.is_staff or not user.is_active or account.suspended_at:
        raise Forbidden(_("This action is not allowed"))


def _decision(approve: bool) -> str:
    return Review.APPROVED if approve else Review.REJECTED


def trend_tag_review(
    *, reviewer: Account, tag_id: int | str, approve: bool
) -> TagTrend:
    """Staff approve (``approve``) or reject the hashtag ``tag_id`` as a trend
    (Mastodon's ``Tag#trendable``); a rejected tag never trends, an approved one
    trends while its score is above zero. Forbidden for non-staff, NotFound for an
    unknown tag. Deciding again replaces the earlier decision."""
    require_staff(reviewer)
    try:
        tag = Tag.objects.get(pk=parse_id(tag_id))
    except (Tag.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("Record not found")) from None
    with transaction.atomic():
        trend, _created = TagTrend.objects.select_for_update().get_or_create(tag=tag)
        trend.review, trend.reviewed_at, trend.reviewed_by = (
            _decision(approve),
            timezone.now(),
            reviewer,
        )
        trend.save(update_fields=["review", "reviewed_at", "reviewed_by"])
    return trend


def trend_status_review(
    *, reviewer: Account, status_id: int | str, approve: bool
) -> StatusTrend:
    """Staff approve or reject the post ``status_id`` as a trend (Mastodon's
    ``Status#trendable``). Approval does not make an ineligible post trend (one
    not public, by a restricted or undiscoverable account: ``selectors.trendable_q``).
    Forbidden for non-staff, NotFound for an unknown post."""
    require_staff(reviewer)
    try:
        status = Status.objects.get(pk=parse_id(status_id))
    except (Status.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("Record not found")) from None
    with transaction.atomic():
        trend, _created = StatusTrend.objects.select_for_update().get_or_create(
            status=status
        )
        trend.review, trend.reviewed_at, trend.reviewed_by = (
            _decision(approve),
            timezone.now(),
            reviewer,
        )
        trend.save(update_fields=["review", "reviewed_at", "reviewed_by"])
    return trend
