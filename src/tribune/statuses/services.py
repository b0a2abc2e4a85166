"""Writes to statuses: create, edit, delete, reblog, favourite, bookmark, pin, quote.

Each service checks the policy, writes in one transaction and publishes an event;
timelines and notifications follow from ``tribune.effects`` after commit.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account, Visibility
from tribune.accounts.selectors import account_profile_url, accounts_by_handles, can_act
from tribune.core.entity_cache import new_version
from tribune.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tribune.core.events import (
    Favourited,
    FavouriteRemoved,
    StatusCreated,
    StatusDeleted,
    StatusUpdated,
    publish,
)
from tribune.core.ids import new_id, parse_id
from tribune.core.languages import is_language_code
from tribune.core.ratelimit import Limit, Window, peek, spend
from tribune.core.text import (
    count_characters,
    extract_hashtags,
    extract_mentions,
    normalize_tag,
    render,
)
from tribune.core.urls import absolute
from tribune.media.services import (
    media_attach,
    media_delete_for_statuses,
    media_replace,
)
from tribune.statuses.models import (
    Bookmark,
    Favourite,
    Mention,
    Pin,
    Poll,
    Quote,
    QuotePolicy,
    QuoteState,
    ReplyPolicy,
    Status,
    StatusEdit,
    Tag,
)
from tribune.statuses.policy import can_reblog, can_view, quote_refusal, reply_refusal
from tribune.statuses.polls import (
    PollSpec,
    poll_create_for,
    poll_replace_for,
    poll_spec,
)

MAX_PINS = 5
# Mastodon's ``statuses`` family (app/lib/rate_limiter.rb): 300 posts and boosts per
# account every 3 hours, whatever the app, token or interface they come from.
POSTING = Limit("statuses", 300, 3 * 3600)


def _spend_posting(account: Account) -> None:
    """Count one new post or boost of a local account; RateLimited past the budget."""
    if account.is_local:
        spend(POSTING, f"account:{account.pk}")


def posting_window(*, account: Account) -> Window:
    """Where ``account`` stands in its posting budget (``POSTING``), counting
    nothing: for the ``X-RateLimit-*`` headers of a successful post."""
    return peek(POSTING, f"account:{account.pk}")


def ensure_can_act(account: Account) -> None:
    """Forbidden while a moderation decision freezes or suspends ``account``."""
    if not can_act(account):
        raise Forbidden(_("Your account is restricted by a moderation decision: you can "
                          "read, but not post, boost, favourite or follow"))
IDEMPOTENCY_SECONDS = 3600


def _render(text: str, mentioned: dict[str, Account]) -> str:
    def mention_url(handle: str) -> str | None:
        account = mentioned.get(handle.lower())
        return account_profile_url(account) if account else None

    return render(text, mention_url=mention_url,
                  tag_url=lambda name: absolute(f"/tags/{normalize_tag(name)}"))


def _validate(text: str, spoiler_text: str, visibility: str, language: str | None,
              *, has_media: bool = False, has_poll: bool = False) -> None:
    if has_media and has_poll:
        # Mastodon refuses both together (PostStatusService#validate_media!).
        raise ValidationFailed(_("Validation failed: A post with a poll cannot have media attachments"))
    if not text.strip() and not has_media:
        raise ValidationFailed(_("Validation failed: Text can't be blank"))
    limit = settings.TRIBUNE_MAX_CHARACTERS
    if count_characters(text) + count_characters(spoiler_text) > limit:
        raise ValidationFailed(
            _("Validation failed: Text character limit of %(limit)d exceeded") % {"limit": limit})
    if visibility not in Visibility.values:
        raise ValidationFailed(_("Validation failed: Visibility is not included in the list"))
    if language is not None and not is_language_code(language):
        raise ValidationFailed(_("Validation failed: Language is not a valid language code"))


def _tags_for(text: str) -> list[Tag]:
    tags = []
    for display in extract_hashtags(text):
        name = normalize_tag(display)[:200]
        tag, _created = Tag.objects.get_or_create(name=name, defaults={"display_name": display[:200]})
        tags.append(tag)
    return tags


# Looks up a ``user@domain`` handle unknown here on its server: a callable
# ``(handle) -> Account | None``, set by the federation app (federation.apps), which
# sits above this module; None leaves unknown remote mentions as plain text.
remote_mention_resolver: Callable[[str], Account | None] | None = None
MAX_MENTION_LOOKUPS = 5  # unknown remote handles looked up for one post


def _mentioned(text: str) -> dict[str, Account]:
    """The accounts mentioned in ``text``, keyed by the lower-cased handle as
    written: known ones, and up to MAX_MENTION_LOOKUPS unknown remote handles
    looked up on their servers (WebFinger, as Mastodon's ProcessMentionsService
    resolves them), except inside a transaction, which a network wait would hold."""
    handles = extract_mentions(text)
    found = accounts_by_handles(handles)
    resolver = remote_mention_resolver
    if resolver is None or transaction.get_connection().in_atomic_block:
        return found
    unknown = [h for h in dict.fromkeys(h.lower() for h in handles)
               if h not in found and h.partition("@")[2]
               and h.partition("@")[2] != settings.TRIBUNE_DOMAIN.lower()]
    for handle in unknown[:MAX_MENTION_LOOKUPS]:
        account = resolver(handle)
        if account is not None:
            found[handle] = account
    return found


def status_create(
    *, account: Account, text: str, visibility: str | None = None, spoiler_text: str = "",
    sensitive: bool | None = None, language: str | None = None,
    in_reply_to_id: int | str | None = None, application_id: int | None = None,
    idempotency_key: str | None = None, created_at=None, media_ids: list | None = None,
    poll: PollSpec | None = None, reply_policy: str | None = None,
    local_only: bool | None = None, quoted_status_id: int | str | None = None,
    quote_approval_policy: str | None = None,
) -> Status:
    """Post a status as ``account`` and return it.

    Text is plain text (at most TRIBUNE_MAX_CHARACTERS as Mastodon counts, spoiler
    included); mentions of known accounts and hashtags are linked. With
    ``idempotency_key``, a repeat within an hour returns the first status (Mastodon's
    Idempotency-Key header). ``media_ids`` attaches up to four of the author's
    processed uploads (``media.services.media_attach``); with media the text may be
    empty. ``poll`` (checked by ``statuses.polls.poll_spec``) is made in the same
    transaction; a post cannot have both a poll and media. Each new status spends
    one of the author's ``POSTING`` budget (Mastodon:
    300 per 3 hours; a repeat with the same idempotency key spends nothing).
    ``reply_policy`` (``ReplyPolicy``, everyone by default) says who may reply;
    ``local_only`` keeps the post on this instance (by default a reply to, or a
    quote of, a local-only post is one too). ``quoted_status_id`` quotes that post (the original
    of a reblog) as Mastodon 4.5 does: the quote is stored ``accepted`` and counted in
    the quoted post's ``quotes_count``; ``quote_approval_policy`` (``QuotePolicy``,
    by default the author's ``default_quote_policy``) says who may quote the new post. Raises ValidationFailed
    (422), NotFound (404) when the replied-to or quoted status is unknown, not
    visible, or deleted while this one was written, Forbidden (403) when its reply
    or quote policy leaves ``account`` out, and RateLimited (429) when the budget is
    spent (nothing is written then).
    """
    ensure_can_act(account)
    cache_key = f"idempotency:{account.pk}:{idempotency_key}" if idempotency_key else None
    if cache_key and (existing_id := cache.get(cache_key)):
        existing = Status.objects.filter(pk=existing_id).first()
        if existing is not None:
            return existing
    visibility = visibility or account.default_visibility
    spoiler_text = spoiler_text or ""
    language = language or account.default_language or None
    _validate(text, spoiler_text, visibility, language, has_media=bool(media_ids),
              has_poll=poll is not None)
    reply_policy = _checked_reply_policy(reply_policy)
    quote_approval_policy = _checked_quote_policy(quote_approval_policy
                                                  or account.default_quote_policy)
    in_reply_to = _reply_target(in_reply_to_id, account)
    quoted = _quote_target(quoted_status_id, account)
    if local_only is None:
        local_only = bool((in_reply_to and in_reply_to.local_only)
                          or (quoted and quoted.local_only))
    mentioned = _mentioned(text)
    _spend_posting(account)
    now = created_at or timezone.now()
    with transaction.atomic():
        status_id = new_id(created_at)
        status = Status.objects.create(
            id=status_id, account=account, text=text, content=_render(text, mentioned),
            spoiler_text=spoiler_text, sensitive=bool(sensitive) or bool(spoiler_text) or (
                sensitive is None and account.default_sensitive),
            language=language, visibility=visibility, in_reply_to=in_reply_to,
            in_reply_to_account_id=in_reply_to.account_id if in_reply_to else None,
            thread_id=(in_reply_to.thread_id or in_reply_to.pk) if in_reply_to else status_id,
            application_id=application_id, created_at=now, reply_policy=reply_policy,
            local_only=bool(local_only), quote_approval_policy=quote_approval_policy,
        )
        Mention.objects.bulk_create(
            [Mention(status=status, account=a) for a in {a.pk: a for a in mentioned.values()}.values()],
            ignore_conflicts=True)
        status.tags.set(_tags_for(text))
        if media_ids:
            media_attach(account=account, media_ids=media_ids, status=status)
        if poll is not None:
            poll_create_for(status=status, spec=poll, now=now)
        Account.objects.filter(pk=account.pk).update(
            version=new_version(), statuses_count=F("statuses_count") + 1, last_status_at=now)
        # The update locks the parent row (PostgreSQL; SQLite serialises writers), so a
        # concurrent delete of the parent either waits for this reply or has already
        # removed the parent, and then the reply is not made.
        if in_reply_to is not None and not Status.objects.filter(pk=in_reply_to.pk).update(
                replies_count=F("replies_count") + 1, version=new_version()):
            raise NotFound(_("Record not found"))
        if quoted is not None:
            # Locks the quoted row as the reply's update does its parent.
            if not Status.objects.filter(pk=quoted.pk).update(
                    quotes_count=F("quotes_count") + 1, version=new_version()):
                raise NotFound(_("Record not found"))
            Quote.objects.create(status=status, quoted_status=quoted,
                                 quoted_account_id=quoted.account_id,
                                 state=QuoteState.ACCEPTED, created_at=now)
        publish(StatusCreated(status_id=status.pk))
    if cache_key:
        cache.set(cache_key, status.pk, IDEMPOTENCY_SECONDS)
    return status


def _checked_reply_policy(reply_policy: str | None) -> str:
    if reply_policy in (None, ""):
        return ReplyPolicy.EVERYONE
    if reply_policy not in ReplyPolicy.values:
        raise ValidationFailed(_("Validation failed: Reply policy is not included in the list"))
    return reply_policy


def _checked_quote_policy(policy: str | None) -> str:
    if policy in (None, ""):
        return QuotePolicy.PUBLIC
    if policy not in QuotePolicy.values:
        raise ValidationFailed(
            _("Validation failed: Quote approval policy is not included in the list"))
    return policy


def _quote_target(quoted_status_id: int | str | None, account: Account) -> Status | None:
    """The status ``account`` quotes (the original, for a reblog): NotFound when it
    cannot see it, Forbidden when the status's quote policy leaves it out
    (``statuses.policy.quote_refusal``)."""
    if quoted_status_id in (None, ""):
        return None
    quoted = _visible_or_404(quoted_status_id, account)
    if quoted.reblog_of_id:
        quoted = quoted.reblog_of
    if refusal := quote_refusal(account, quoted):
        raise Forbidden(refusal)
    return quoted


def quote_revoke(*, account: Account, status: Status, quoting_status_id: int | str) -> Status:
    """Detach ``account``'s post ``status`` from the post ``quoting_status_id`` that
    quotes it (Mastodon 4.5's POST /api/v1/statuses/:id/quotes/:quoting_status_id/revoke):
    the quote's state becomes ``revoked``, it no longer shows the quoted post, and
    ``quotes_count`` drops. Only the quoted post's author may. Returns the quoting
    status. Raises NotFound when ``status`` is not ``account``'s or no such quote of
    it exists; revoking twice changes nothing more."""
    if status.account_id != account.pk:
        raise NotFound(_("Record not found"))
    try:
        quoting_pk = parse_id(quoting_status_id)
    except (ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None
    with transaction.atomic():
        quote = (Quote.objects.select_for_update()
                 .filter(status_id=quoting_pk, quoted_status_id=status.pk).first())
        if quote is None:
            raise NotFound(_("Record not found"))
        if quote.state != QuoteState.REVOKED:
            was_counted = quote.state == QuoteState.ACCEPTED
            Quote.objects.filter(pk=quote.pk).update(state=QuoteState.REVOKED)
            Status.objects.filter(pk=quoting_pk).update(version=new_version())
            if was_counted:
                Status.objects.filter(pk=status.pk, quotes_count__gt=0).update(
                    quotes_count=F("quotes_count") - 1, version=new_version())
    return Status.objects.select_related("account").get(pk=quoting_pk)


def status_quote_policy_update(*, account: Account, status: Status,
                               quote_approval_policy: str | None) -> Status:
    """Change who may quote ``account``'s own ``status`` (Mastodon 4.5's PUT
    /api/v1/statuses/:id/interaction_policy); quotes already made stay. Raises
    NotFound for someone else's status or a reblog, ValidationFailed (422) for a
    policy other than public, followers or nobody."""
    if status.account_id != account.pk or status.reblog_of_id is not None:
        raise NotFound(_("Record not found"))
    if quote_approval_policy in (None, ""):
        return status
    policy = _checked_quote_policy(quote_approval_policy)
    Status.objects.filter(pk=status.pk).update(quote_approval_policy=policy,
                                               version=new_version())
    status.refresh_from_db()
    return status


def _reply_target(in_reply_to_id: int | str | None, account: Account) -> Status | None:
    """The status ``account`` replies to (the original, for a reblog): NotFound when
    it cannot see it, Forbidden when the status's reply policy leaves it out."""
    if in_reply_to_id in (None, ""):
        return None
    in_reply_to = _visible_or_404(in_reply_to_id, account)
    if in_reply_to.reblog_of_id:  # a reply to a reblog answers its original
        in_reply_to = in_reply_to.reblog_of
    if refusal := reply_refusal(account, in_reply_to):
        raise Forbidden(refusal)
    return in_reply_to


def _visible_or_404(status_id: int | str, viewer: Account) -> Status:
    try:
        status = Status.objects.select_related("account", "reblog_of__account").get(pk=parse_id(status_id))
    except (Status.DoesNotExist, ValueError):
        raise NotFound(_("Record not found")) from None
    if not can_view(viewer, status):
        raise NotFound(_("Record not found"))
    return status


def _snapshot(status: Status, at) -> StatusEdit:
    return StatusEdit(status=status, text=status.text, content=status.content,
                      spoiler_text=status.spoiler_text, sensitive=status.sensitive,
                      created_at=at)


UNCHANGED = object()
"""``status_update``'s ``poll`` when the edit leaves the poll as it is."""


def status_update(
    *, account: Account, status: Status, text: str, spoiler_text: str | None = None,
    sensitive: bool | None = None, language: str | None = None, media_ids: list | None = None,
    poll: PollSpec | object | None = UNCHANGED,
) -> Status:
    """Edit ``status`` (its author only) and keep the previous version in its history.

    ``media_ids`` (None: unchanged) becomes the list of attachments: kept ones stay,
    new uploads are attached, removed ones are deleted with their files. ``poll``
    (default :data:`UNCHANGED`) replaces the poll, None removing it, as Mastodon's
    edit does: other options or another ``multiple`` drop the votes cast
    (``statuses.polls.poll_replace_for``).

    Raises NotFound for someone else's status (Mastodon looks only among the
    caller's own), Forbidden for a reblog, ValidationFailed for bad input. New
    mentions are added; removed ones stay (Mastodon does not un-notify).
    """
    ensure_can_act(account)
    if status.account_id != account.pk:
        raise NotFound(_("Record not found"))
    if status.reblog_of_id is not None:
        raise Forbidden(_("This action is not allowed"))
    spoiler_text = status.spoiler_text if spoiler_text is None else spoiler_text
    has_media = bool(media_ids) if media_ids is not None else status.media_attachments.exists()
    has_poll = (poll is not None if poll is not UNCHANGED
                else Poll.objects.filter(status=status).exists())
    _validate(text, spoiler_text, status.visibility, language, has_media=has_media,
              has_poll=has_poll)
    mentioned = _mentioned(text)
    now = timezone.now()
    with transaction.atomic():
        if not status.edits.exists():
            _snapshot(status, status.created_at).save()
        status.text = text
        status.content = _render(text, mentioned)
        status.spoiler_text = spoiler_text
        if sensitive is not None:
            status.sensitive = sensitive
        status.sensitive = status.sensitive or bool(spoiler_text)
        if language:
            status.language = language
        status.edited_at = now
        status.save()
        _snapshot(status, now).save()
        Mention.objects.bulk_create(
            [Mention(status=status, account=a) for a in {a.pk: a for a in mentioned.values()}.values()],
            ignore_conflicts=True)
        status.tags.set(_tags_for(text))
        if media_ids is not None:
            media_replace(account=account, media_ids=media_ids, status=status)
        if poll is not UNCHANGED:
            poll_replace_for(status=status, spec=poll, now=now)  # type: ignore[arg-type]
        publish(StatusUpdated(status_id=status.pk))
    return status


def _status_destroy(*, status_id: int) -> bool:
    """Delete status ``status_id`` with its reblogs, favourites, bookmarks, feed entries,
    notifications and media attachments (their files after commit), and adjust the
    counters; call inside a transaction.

    Returns False, changing nothing, when the status is already gone. The row is
    re-read under a lock (IMMEDIATE transactions serialise writers on SQLite; SELECT
    ... FOR UPDATE does on PostgreSQL), so of two concurrent deletions only the one
    that removes it changes the counters.
    """
    row = (Status.objects.select_for_update().filter(pk=status_id)
           .values("account_id", "in_reply_to_id", "reblog_of_id", "local_only", "uri",
                   "account__username", "account__domain").first())
    if row is None:
        return False
    # Its reblogs go with it; locked too, so a concurrent unreblog is not counted twice.
    # Each account reblogs a status at most once (reblog_once).
    reblogs = list(Status.objects.select_for_update().filter(reblog_of_id=status_id)
                   .values_list("pk", "account_id", "local_only", "account__domain"))
    rebloggers = [account_id for _pk, account_id, _local_only, _domain in reblogs]
    # Attachments would only be unlinked (SET_NULL): delete them and their files.
    media_delete_for_statuses(status_ids=[status_id])
    # The posts quoting it show it deleted; the post it quoted counts one quote less.
    quoting = list(Quote.objects.filter(quoted_status_id=status_id)
                   .values_list("status_id", flat=True))
    if quoting:
        Quote.objects.filter(quoted_status_id=status_id).update(
            state=QuoteState.DELETED, quoted_status=None)
        Status.objects.filter(pk__in=quoting).update(version=new_version())
    own_quote = Quote.objects.filter(status_id=status_id, state=QuoteState.ACCEPTED,
                                     quoted_status__isnull=False).values_list(
        "quoted_status_id", flat=True).first()
    if own_quote is not None:
        Status.objects.filter(pk=own_quote, quotes_count__gt=0).update(
            quotes_count=F("quotes_count") - 1, version=new_version())
    Status.objects.filter(pk=status_id).delete()
    for account_ids in ([row["account_id"]], rebloggers):  # the author may be a reblogger
        Account.objects.filter(pk__in=account_ids, statuses_count__gt=0).update(
            statuses_count=F("statuses_count") - 1, version=new_version())
    if row["in_reply_to_id"]:
        Status.objects.filter(pk=row["in_reply_to_id"], replies_count__gt=0).update(
            replies_count=F("replies_count") - 1, version=new_version())
    if row["reblog_of_id"]:
        Status.objects.filter(pk=row["reblog_of_id"], reblogs_count__gt=0).update(
            reblogs_count=F("reblogs_count") - 1, version=new_version())
    publish(StatusDeleted(status_id=status_id, account_id=row["account_id"],
                          reblog_of_id=row["reblog_of_id"], local_only=row["local_only"]))
    # Local reblogs are gone too, and their audiences are told (the Undo of each
    # Announce, ../shared/cases TIM-26); remote ones are their servers' to undo.
    uri = row["uri"] or (absolute(f"/users/{row['account__username']}/statuses/{status_id}")
                         if not row["account__domain"] else "")
    for reblog_id, account_id, local_only, domain in reblogs:
        if not domain:
            publish(StatusDeleted(status_id=reblog_id, account_id=account_id,
                                  reblog_of_id=status_id, local_only=local_only,
                                  reblog_of_uri=uri))
    return True


def status_delete(*, account: Account, status: Status) -> None:
    """Delete ``status`` for real, with its reblogs, favourites, bookmarks, feed entries
    and notifications. Only its author may.

    Raises NotFound for someone else's status (Mastodon looks only among the
    caller's own) and when it is already gone (a concurrent delete won).
    """
    if status.account_id != account.pk:
        raise NotFound(_("Record not found"))
    with transaction.atomic():
        if not _status_destroy(status_id=status.pk):
            raise NotFound(_("Record not found"))


def reblog_create(*, account: Account, status: Status, visibility: str = Visibility.PUBLIC,
                  uri: str = "") -> Status:
    """Reblog ``status`` (or the original of a reblog) and return the reblog; idempotent.

    ``uri`` is the id of a remote account's ``Announce`` (the reblog's own id
    elsewhere, by which its ``Undo`` names it).

    Raises NotFound when not visible or deleted meanwhile, Forbidden when it may not
    be reblogged (private posts of others, direct posts), ValidationFailed for a
    direct or unknown ``visibility`` and RateLimited when a new reblog would go past
    the ``POSTING`` budget, which reblogs share with posts (as in Mastodon).
    """
    ensure_can_act(account)
    original = status.reblog_of if status.reblog_of_id else status
    if not can_view(account, original):
        raise NotFound(_("Record not found"))
    if not can_reblog(account, original):
        raise Forbidden(_("This action is not allowed"))
    if visibility not in Visibility.values or visibility == Visibility.DIRECT:
        raise ValidationFailed(_("Validation failed: Visibility is not included in the list"))
    if original.visibility == Visibility.PRIVATE:
        visibility = Visibility.PRIVATE
    for attempt in range(3):
        existing = Status.objects.filter(account=account, reblog_of=original).first()
        if existing:
            return existing
        if attempt == 0:
            _spend_posting(account)
        try:
            with transaction.atomic():
                # A concurrent duplicate fails here on reblog_once, before any counter moves.
                reblog = Status.objects.create(account=account, reblog_of=original,
                                               visibility=visibility, created_at=timezone.now(),
                                               thread_id=None, uri=uri[:500],
                                               local_only=original.local_only)
                if not Status.objects.filter(pk=original.pk).update(
                        reblogs_count=F("reblogs_count") + 1, version=new_version()):
                    raise NotFound(_("Record not found"))  # the original was deleted meanwhile
                Account.objects.filter(pk=account.pk).update(
                    version=new_version(), statuses_count=F("statuses_count") + 1, last_status_at=reblog.created_at)
                publish(StatusCreated(status_id=reblog.pk))
            return reblog
        except IntegrityError:
            if not Status.objects.filter(pk=original.pk).exists():
                raise NotFound(_("Record not found")) from None
            # A duplicate won, and may already be undone again: look once more.
    raise Conflict(_("The reblog changed too often; try again"))


def reblog_delete(*, account: Account, status: Status) -> None:
    """Undo ``account``'s reblog of ``status`` (or of its original); a no-op if there is
    none, including when a concurrent unreblog removed it first."""
    original_id = status.reblog_of_id or status.pk
    with transaction.atomic():
        reblog_id = (Status.objects.filter(account=account, reblog_of_id=original_id)
                     .values_list("pk", flat=True).first())
        if reblog_id is not None:
            _status_destroy(status_id=reblog_id)


def favourite_create(*, account: Account, status: Status) -> Favourite:
    """Favourite ``status`` (the original of a reblog) and return the favourite;
    favouriting twice changes nothing. Raises NotFound when not visible or deleted
    meanwhile."""
    ensure_can_act(account)
    original = status.reblog_of if status.reblog_of_id else status
    if not can_view(account, original):
        raise NotFound(_("Record not found"))
    try:
        with transaction.atomic():
            # get_or_create absorbs a concurrent duplicate (favourite_once) as created=False.
            favourite, created = Favourite.objects.get_or_create(account=account, status=original)
            if created:
                if not Status.objects.filter(pk=original.pk).update(
                        favourites_count=F("favourites_count") + 1, version=new_version()):
                    raise NotFound(_("Record not found"))  # the status was deleted meanwhile
                publish(Favourited(favourite_id=favourite.pk))
    except IntegrityError:
        found = Favourite.objects.filter(account=account, status=original).first()
        if found is None:  # not a duplicate: the status went away before commit
            raise NotFound(_("Record not found")) from None
        favourite = found
    return favourite


def favourite_delete(*, account: Account, status: Status) -> None:
    """Remove ``account``'s favourite of ``status`` (the original of a reblog); a no-op
    if there is none. The counter moves only when this call deletes the row."""
    original_id = status.reblog_of_id or status.pk
    with transaction.atomic():
        deleted, _by_model = Favourite.objects.filter(account=account, status_id=original_id).delete()
        if deleted:
            Status.objects.filter(pk=original_id, favourites_count__gt=0).update(
                favourites_count=F("favourites_count") - 1, version=new_version())
            publish(FavouriteRemoved(account_id=account.pk, status_id=original_id))


def bookmark_create(*, account: Account, status: Status) -> Bookmark:
    """Bookmark ``status`` (the original of a reblog); idempotent."""
    original = status.reblog_of if status.reblog_of_id else status
    if not can_view(account, original):
        raise NotFound(_("Record not found"))
    bookmark, _created = Bookmark.objects.get_or_create(account=account, status=original)
    return bookmark


def bookmark_delete(*, account: Account, status: Status) -> None:
    """Remove a bookmark; a no-op if there is none."""
    Bookmark.objects.filter(account=account, status_id=status.reblog_of_id or status.pk).delete()


def pin_create(*, account: Account, status: Status) -> Pin:
    """Pin one of ``account``'s own statuses to its profile (at most 5; not direct, not
    a reblog). Raises ValidationFailed (422) otherwise."""
    if status.account_id != account.pk or status.reblog_of_id:
        raise ValidationFailed(_("Validation failed: You can only pin your own posts"))
    if status.visibility == Visibility.DIRECT:
        raise ValidationFailed(_("Validation failed: Direct posts cannot be pinned"))
    with transaction.atomic():
        existing = Pin.objects.filter(account=account, status=status).first()
        if existing:
            return existing
        if Pin.objects.filter(account=account).count() >= MAX_PINS:
            raise ValidationFailed(
                _("Validation failed: You have already pinned the maximum number of posts"))
        return Pin.objects.create(account=account, status=status)


def pin_delete(*, account: Account, status: Status) -> None:
    """Unpin; a no-op if not pinned."""
    Pin.objects.filter(account=account, status=status).delete()


def status_check(*, account: Account, text: str, visibility: str | None = None,
                 spoiler_text: str = "", language: str | None = None,
                 in_reply_to_id: int | str | None = None, has_media: bool = False,
                 poll: PollSpec | None = None, reply_policy: str | None = None,
                 quoted_status_id: int | str | None = None,
                 quote_approval_policy: str | None = None) -> PollSpec | None:
    """Check a post's parameters as :func:`status_create` will, writing nothing:
    for a post kept to be published later (``tribune.scheduling``), where
    ``status_create`` checks them all again. Returns the poll checked again by
    ``statuses.polls.poll_spec`` (a PollSpec may be built without it), or None.

    Raises Forbidden for a restricted account, or a reply or quote its target's
    policy refuses (``statuses.policy.reply_refusal``, ``quote_refusal``);
    ValidationFailed (text, character limit, visibility, language, a poll with
    media or a bad poll, reply or quote policy); NotFound for a replied-to or
    quoted status ``account`` cannot see.
    """
    ensure_can_act(account)
    _validate(text, spoiler_text or "", visibility or account.default_visibility,
              language or account.default_language or None, has_media=has_media,
              has_poll=poll is not None)
    checked = None
    if poll is not None:
        checked = poll_spec(options=list(poll.options), expires_in=poll.expires_in,
                            multiple=poll.multiple, hide_totals=poll.hide_totals)
    _checked_reply_policy(reply_policy)
    _checked_quote_policy(quote_approval_policy)
    _reply_target(in_reply_to_id, account)
    _quote_target(quoted_status_id, account)
    return checked
