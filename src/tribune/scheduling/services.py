"""Writes to scheduled posts (Mastodon's PostStatusService#schedule_status!,
ScheduledStatusValidator, Api::V1::ScheduledStatusesController and
PublishScheduledStatusWorker).

A post is scheduled at least five minutes ahead, at most 25 for one (UTC) day and
300 in all per account. At its time a task publishes it through
``statuses.services.status_create``, so every rule of a new post applies then
too; the row is deleted in the transaction that creates the status, so the post
is published once however many times the task runs. When the rules refuse it
then (a restricted account, a deleted parent), Mastodon drops it without a word;
Tribune keeps it, marked failed with the reason, for its author to see, move or
cancel (docs/adr/0025).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import DomainError, NotFound, ValidationFailed
from tribune.core.ids import parse_id
from tribune.media.services import media_release, media_reserve
from tribune.scheduling.models import DAILY_LIMIT, TOTAL_LIMIT, ScheduledStatus
from tribune.statuses.models import Status
from tribune.statuses.polls import PollSpec, poll_spec
from tribune.statuses.services import status_check, status_create

logger = logging.getLogger(__name__)

# Mastodon's PostStatusService::MIN_SCHEDULE_OFFSET.
MIN_SCHEDULE_OFFSET = timedelta(minutes=5)


def parse_scheduled_at(value: str | datetime) -> datetime:
    """An aware datetime in UTC from ISO 8601 text (``2026-12-01T12:00:00Z``, with
    an offset, or without one meaning UTC) or a datetime; ValidationFailed for
    anything else, and for the last day a datetime can hold."""
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(
            str(value).strip())
        if timezone.is_naive(when):
            when = when.replace(tzinfo=UTC)
        # In UTC, and a day to spare, so the daily limit's day cannot overflow.
        when = when.astimezone(UTC)
        when + timedelta(days=1)
    except (ValueError, OverflowError):
        raise ValidationFailed(
            _("Validation failed: Scheduled at is not a valid date and time")) from None
    return when


def _check_time(account: Account, when: datetime, now: datetime, *,
                excluding: int | None = None) -> None:
    """The rules of ScheduledStatusValidator: five minutes ahead, and room under the
    daily and total limits (the account's row is locked by the caller)."""
    if when < now + MIN_SCHEDULE_OFFSET:
        raise ValidationFailed(_("Validation failed: Scheduled at must be at least 5 "
                                 "minutes from now"))
    mine = ScheduledStatus.objects.filter(account=account)
    if excluding is not None:
        mine = mine.exclude(pk=excluding)
    if mine.count() >= TOTAL_LIMIT:
        raise ValidationFailed(
            _("Validation failed: You have exceeded the limit of %(limit)d scheduled "
              "posts") % {"limit": TOTAL_LIMIT})
    day = datetime.combine(when.date(), time.min, tzinfo=UTC)
    if mine.filter(scheduled_at__gte=day,
                   scheduled_at__lt=day + timedelta(days=1)).count() >= DAILY_LIMIT:
        raise ValidationFailed(
            _("Validation failed: You have exceeded the limit of %(limit)d scheduled "
              "posts for today") % {"limit": DAILY_LIMIT})


def _enqueue_on_commit(row: ScheduledStatus) -> None:
    """After commit, queue the publication at ``row.scheduled_at`` (``run_after``:
    both the database backend and RQ defer). A backend that cannot defer, or a
    queue that fails, leaves it to :func:`scheduled_statuses_publish_due`."""
    from tribune.scheduling.tasks import publish_scheduled_status

    pk, when = str(row.pk), row.scheduled_at

    def enqueue() -> None:
        if publish_scheduled_status.get_backend().supports_defer:
            publish_scheduled_status.using(run_after=when).enqueue(pk)

    transaction.on_commit(enqueue, robust=True)


def _poll_params(spec: PollSpec) -> dict:
    """A checked poll as the row keeps it (Mastodon's ``params.poll``)."""
    return {"options": list(spec.options), "expires_in": spec.expires_in,
            "multiple": spec.multiple, "hide_totals": spec.hide_totals}


def _poll_of(row: ScheduledStatus) -> PollSpec | None:
    """The row's poll checked again (ValidationFailed, so the publication fails
    with the reason, should the rules have changed since)."""
    if not row.poll:
        return None
    return poll_spec(options=row.poll.get("options"), expires_in=row.poll.get("expires_in"),
                     multiple=row.poll.get("multiple", False),
                     hide_totals=row.poll.get("hide_totals", False))


def _optional_id(value: int | str | None) -> int | None:
    return parse_id(value) if value not in (None, "") else None


def scheduled_status_create(
    *, account: Account, scheduled_at: str | datetime, text: str,
    visibility: str | None = None, spoiler_text: str = "", sensitive: bool | None = None,
    language: str | None = None, in_reply_to_id: int | str | None = None,
    media_ids: list | None = None, poll: PollSpec | None = None,
    local_only: bool | None = None, reply_policy: str | None = None,
    quoted_status_id: int | str | None = None, quote_approval_policy: str | None = None,
    idempotency_key: str | None = None, application_id: int | None = None,
    now: datetime | None = None,
) -> ScheduledStatus:
    """Keep a post of ``account``'s to be published at ``scheduled_at`` (ISO 8601
    text or an aware datetime) and return it.

    The parameters are those of ``statuses.services.status_create`` and are checked
    as it checks them now (``statuses.services.status_check``), and again at
    publication: ``poll`` (a ``PollSpec``; not with media; its time counts from
    publication, as Mastodon's), ``local_only`` (None: as ``status_create``
    decides then), ``reply_policy`` (``ReplyPolicy``), ``quoted_status_id`` (a
    post ``account`` may see and quote) and ``quote_approval_policy`` (by
    default the author's ``default_quote_policy`` now, as ``visibility`` is
    theirs now). ``media_ids`` are reserved for the post
    (``media.services.media_reserve``). A repeat with the same
    ``idempotency_key`` returns the post already scheduled. Raises
    ValidationFailed (422) for a time under five minutes ahead, past 25 scheduled
    posts that day (UTC) or 300 in all, or bad parameters; NotFound for a
    replied-to or quoted status that is unknown or not visible; Forbidden for a
    restricted account or a reply or quote its target's policy refuses.
    """
    now = now or timezone.now()
    when = parse_scheduled_at(scheduled_at)
    visibility = visibility or account.default_visibility
    quote_approval_policy = quote_approval_policy or account.default_quote_policy or None
    poll = status_check(
        account=account, text=text, visibility=visibility, spoiler_text=spoiler_text,
        language=language, in_reply_to_id=in_reply_to_id, has_media=bool(media_ids),
        poll=poll, reply_policy=reply_policy, quoted_status_id=quoted_status_id,
        quote_approval_policy=quote_approval_policy)
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        if idempotency_key:
            existing = ScheduledStatus.objects.filter(account=account,
                                                      idempotency=idempotency_key).first()
            if existing is not None:
                return existing
        _check_time(account, when, now)
        row = ScheduledStatus.objects.create(
            account=account, scheduled_at=when, text=text, visibility=visibility,
            spoiler_text=spoiler_text or "", sensitive=sensitive, language=language or None,
            in_reply_to_id=_optional_id(in_reply_to_id), idempotency=idempotency_key or None,
            application_id=application_id, poll=_poll_params(poll) if poll else None,
            local_only=local_only, reply_policy=reply_policy or "",
            quoted_status_id=_optional_id(quoted_status_id),
            quote_approval_policy=quote_approval_policy)
        if media_ids:
            row.media_ids = media_reserve(account=account, media_ids=media_ids,
                                          scheduled_status_id=row.pk)
            row.save(update_fields=["media_ids"])
        _enqueue_on_commit(row)
    return row


def _own_for_update(account: Account, scheduled_status_id: int | str) -> ScheduledStatus:
    try:
        return ScheduledStatus.objects.select_for_update().get(
            pk=parse_id(scheduled_status_id), account=account)
    except (ScheduledStatus.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None


def scheduled_status_update(*, account: Account, scheduled_status_id: int | str,
                            scheduled_at: str | datetime,
                            now: datetime | None = None) -> ScheduledStatus:
    """Move one of ``account``'s scheduled posts to ``scheduled_at`` (the rules of
    :func:`scheduled_status_create`, the post itself not counted) and return it; a
    post that failed is tried again at its new time. NotFound for anyone else's or
    an unknown id."""
    now = now or timezone.now()
    when = parse_scheduled_at(scheduled_at)
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        row = _own_for_update(account, scheduled_status_id)
        _check_time(account, when, now, excluding=row.pk)
        row.scheduled_at, row.failed_at, row.error = when, None, ""
        row.save(update_fields=["scheduled_at", "failed_at", "error"])
        _enqueue_on_commit(row)
    return row


def scheduled_status_delete(*, account: Account, scheduled_status_id: int | str) -> None:
    """Cancel one of ``account``'s scheduled posts; its attachments become unused
    uploads again (removed after a day unless attached). NotFound for anyone
    else's or an unknown id."""
    with transaction.atomic():
        row = _own_for_update(account, scheduled_status_id)
        media_release(scheduled_status_id=row.pk)
        row.delete()


def scheduled_status_publish(*, scheduled_status_id: int | str,
                             now: datetime | None = None) -> Status | None:
    """Publish scheduled post ``scheduled_status_id`` if it is due at ``now`` and
    return the new status; None when it is gone (published or cancelled), not due
    yet (moved later) or failed.

    The row is locked, its media released and ``status_create`` called, and the
    row deleted, in one transaction: of two runs at once the second finds no row.
    When ``status_create`` refuses (DomainError: a restricted account, a deleted or
    hidden parent or quoted post, a reply or quote policy that now leaves the
    author out, the posting budget spent), nothing of that is kept and the row
    is marked failed with the reason. A poll's time counts from publication
    (Mastodon's PublishScheduledStatusWorker posts it then).
    """
    now = now or timezone.now()
    try:
        pk = parse_id(scheduled_status_id)
    except (ValueError, TypeError, OverflowError):
        return None
    try:
        with transaction.atomic():
            row = (ScheduledStatus.objects.select_for_update().filter(pk=pk)
                   .select_related("account").first())
            if row is None or row.failed_at is not None or row.scheduled_at > now:
                return None
            media_release(scheduled_status_id=row.pk)
            status = status_create(
                account=row.account, text=row.text, visibility=row.visibility,
                spoiler_text=row.spoiler_text, sensitive=row.sensitive, language=row.language,
                in_reply_to_id=row.in_reply_to_id, application_id=row.application_id,
                idempotency_key=row.idempotency, media_ids=row.media_ids or None,
                poll=_poll_of(row), local_only=row.local_only,
                reply_policy=row.reply_policy or None,
                quoted_status_id=row.quoted_status_id,
                quote_approval_policy=row.quote_approval_policy or None)
            row.delete()
            return status
    except DomainError as exc:
        logger.info("scheduled status %s not published: %s", pk, exc)
        ScheduledStatus.objects.filter(pk=pk, failed_at__isnull=True).update(
            failed_at=now, error=str(exc)[:500])
        return None


def scheduled_statuses_publish_due(*, now: datetime | None = None) -> int:
    """Publish every scheduled post due at ``now`` that has not failed, oldest time
    first, and return how many were published: the catch-up for a backend that
    cannot defer tasks or a queue that lost them."""
    now = now or timezone.now()
    due = list(ScheduledStatus.objects.filter(scheduled_at__lte=now, failed_at__isnull=True)
               .order_by("scheduled_at", "id").values_list("pk", flat=True))
    return sum(1 for pk in due if scheduled_status_publish(scheduled_status_id=pk, now=now))
