"""Posts written on other servers, as their servers tell us (docs/adr/0024):
stored, edited and deleted through here only, by ``federation``'s inbox.

A remote post keeps its ActivityPub id (``uri``, unique) and page (``url``);
its HTML is sanitised with the allow-list of every post (``core.text.sanitize``,
Mastodon's) and bounded in length; it has no source text. It publishes the
same events as a local post, so it reaches the home feeds of its author's local
followers, threads under its parent and notifies the local accounts it
mentions; ``effects`` sends nothing out for it (only local posts are
delivered).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account, Visibility
from tribune.core.entity_cache import new_version
from tribune.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tribune.core.events import StatusCreated, StatusUpdated, publish
from tribune.core.ids import new_id
from tribune.core.languages import is_language_code
from tribune.core.text import normalize_tag, sanitize
from tribune.media.remote import RemoteMedia, media_remote_replace
from tribune.statuses.models import Mention, Quote, QuotePolicy, QuoteState, Status, Tag
from tribune.statuses.policy import reply_refusal
from tribune.statuses.polls import RemotePoll, poll_remote_create_for
from tribune.statuses.services import _snapshot, _status_destroy

# Bounds on what another server may make us store (characters). Mastodon bounds
# its own posts at 500 but takes longer remote ones; these only stop abuse.
MAX_CONTENT = 100_000  # sanitised HTML
MAX_SPOILER = 1_000  # the column's size
MAX_URI = 500
MAX_TAGS = 50
MAX_MENTIONS = 100


def _http_url(value: str) -> bool:
    return value.startswith(("https://", "http://")) and len(value) <= MAX_URI


def _clean(content_html: str, spoiler_text: str, language: str | None,
           visibility: str) -> tuple[str, str, str | None]:
    if visibility not in Visibility.values:
        raise ValidationFailed(_("Validation failed: Visibility is not included in the list"))
    content = sanitize(content_html)
    if len(content) > MAX_CONTENT:
        raise ValidationFailed(_("Validation failed: Text character limit of %(limit)d "
                                 "exceeded") % {"limit": MAX_CONTENT})
    language = language[:10] if language and is_language_code(language[:10]) else None
    return content, spoiler_text[:MAX_SPOILER], language


def _tags(names: list[str]) -> list[Tag]:
    tags = []
    for display in names[:MAX_TAGS]:
        name = normalize_tag(display.lstrip("#"))[:200]
        if name:
            tag, _created = Tag.objects.get_or_create(
                name=name, defaults={"display_name": display.lstrip("#")[:200]})
            tags.append(tag)
    return tags


def _quote_accepted(account: Account, quoted: Status) -> bool:
    """Whether a remote post by ``account`` may quote ``quoted`` without an
    approval from its author: its own post, or a public post anyone may quote."""
    if quoted.reblog_of_id is not None or quoted.removed_at is not None:
        return False
    if quoted.account_id == account.pk:
        return quoted.visibility != Visibility.DIRECT
    return (quoted.visibility == Visibility.PUBLIC and not quoted.local_only
            and quoted.quote_approval_policy == QuotePolicy.PUBLIC)


def status_remote_create(
    *, account: Account, uri: str, url: str = "", content_html: str,
    spoiler_text: str = "", sensitive: bool = False, language: str | None = None,
    visibility: str = Visibility.PUBLIC, created_at: datetime | None = None,
    in_reply_to: Status | None = None, mentioned: list[Account] | None = None,
    tag_names: list[str] | None = None, quoted: Status | None = None,
    poll: RemotePoll | None = None, attachments: list[RemoteMedia] | None = None,
) -> Status:
    """Store the post ``uri`` that the remote ``account`` wrote and return it;
    the stored one when it is known already (a Create delivered twice).

    ``content_html`` is sanitised; ``created_at`` (the post's ``published``)
    may not be in the future (now instead); a ``language`` that is not a code
    is dropped; ``mentioned`` are the known accounts it mentions,
    ``tag_names`` its hashtags. Raises ValidationFailed for a local account, a
    URI or URL that is not http(s) or longer than 500 characters, an unknown
    visibility or content over ``MAX_CONTENT``; Conflict when ``uri`` is
    another account's post (a Create never overwrites someone else's post);
    Forbidden for a reply that ``in_reply_to``'s reply policy leaves out (the
    policy holds on this instance whatever the other server allows).
    ``quoted`` is the post it quotes: the quote is kept (``accepted``) only when
    that post is the author's own or public with a public quote policy, since
    approvals are not negotiated with other servers yet; otherwise the post is
    stored without it (its content keeps the quoting server's link).
    ``poll`` (``polls.poll_remote``, checked) is its poll, written in the same
    transaction (a ``Question``; docs/adr/0036). ``attachments`` are its media,
    stored through ``media.remote`` (at most four, http(s) only) and copied to our
    storage after commit.
    """
    if account.is_local or not _http_url(uri):
        raise ValidationFailed(_("Validation failed: not a remote post"))
    if in_reply_to is not None and (refusal := reply_refusal(account, in_reply_to)):
        raise Forbidden(refusal)
    existing = Status.objects.filter(uri=uri).first()
    if existing is not None:
        if existing.account_id != account.pk:
            raise Conflict(_("This post belongs to another account"))
        return existing
    content, spoiler_text, language = _clean(content_html, spoiler_text, language, visibility)
    now = timezone.now()
    created_at = min(created_at or now, now)
    try:
        with transaction.atomic():
            status_id = new_id(created_at)
            status = Status.objects.create(
                id=status_id, account=account, content=content, spoiler_text=spoiler_text,
                sensitive=sensitive or bool(spoiler_text), language=language,
                visibility=visibility, in_reply_to=in_reply_to,
                in_reply_to_account_id=in_reply_to.account_id if in_reply_to else None,
                thread_id=(in_reply_to.thread_id or in_reply_to.pk) if in_reply_to
                else status_id,
                created_at=created_at, uri=uri, url=url if _http_url(url) else "")
            unique = {a.pk: a for a in (mentioned or [])[:MAX_MENTIONS]}
            Mention.objects.bulk_create([Mention(status=status, account=a)
                                         for a in unique.values()], ignore_conflicts=True)
            status.tags.set(_tags(tag_names or []))
            if attachments:
                media_remote_replace(status=status, attachments=attachments)
            Account.objects.filter(pk=account.pk).update(
                version=new_version(), statuses_count=F("statuses_count") + 1,
                last_status_at=created_at)
            if in_reply_to is not None and not Status.objects.filter(
                    pk=in_reply_to.pk).update(replies_count=F("replies_count") + 1,
                                              version=new_version()):
                raise NotFound(_("Record not found"))
            if quoted is not None and _quote_accepted(account, quoted):
                Status.objects.filter(pk=quoted.pk).update(
                    quotes_count=F("quotes_count") + 1, version=new_version())
                Quote.objects.create(status=status, quoted_status=quoted,
                                     quoted_account_id=quoted.account_id,
                                     state=QuoteState.ACCEPTED, created_at=now)
            if poll is not None:
                poll_remote_create_for(status=status, poll=poll, now=now)
            publish(StatusCreated(status_id=status.pk))
    except IntegrityError:  # the same post stored concurrently (status_uri_once)
        found = Status.objects.filter(uri=uri, account=account).first()
        if found is None:
            raise Conflict(_("This post belongs to another account")) from None
        return found
    return status


def status_remote_update(
    *, account: Account, status: Status, content_html: str, spoiler_text: str = "",
    sensitive: bool = False, language: str | None = None,
    edited_at: datetime | None = None, mentioned: list[Account] | None = None,
    tag_names: list[str] | None = None, attachments: list[RemoteMedia] | None = None,
) -> Status:
    """Apply an edit of the remote ``status`` by its author ``account``, keeping
    the previous version in its history (as ``status_update``). ``attachments``
    (None: unchanged) replace its media (``media.remote.media_remote_replace``:
    kept by URL, new ones fetched after commit). Raises NotFound
    when ``account`` is not the author (only the owner edits), ValidationFailed
    as ``status_remote_create``."""
    if status.account_id != account.pk or account.is_local or status.reblog_of_id:
        raise NotFound(_("Record not found"))
    content, spoiler_text, language = _clean(content_html, spoiler_text, language,
                                             status.visibility)
    now = timezone.now()
    edited_at = min(edited_at or now, now)
    with transaction.atomic():
        if not status.edits.exists():
            _snapshot(status, status.created_at).save()
        status.content = content
        status.spoiler_text = spoiler_text
        status.sensitive = sensitive or bool(spoiler_text)
        if language:
            status.language = language
        status.edited_at = edited_at
        status.save()
        _snapshot(status, edited_at).save()
        unique = {a.pk: a for a in (mentioned or [])[:MAX_MENTIONS]}
        Mention.objects.bulk_create([Mention(status=status, account=a)
                                     for a in unique.values()], ignore_conflicts=True)
        status.tags.set(_tags(tag_names or []))
        if attachments is not None:
            media_remote_replace(status=status, attachments=attachments)
        publish(StatusUpdated(status_id=status.pk))
    return status


def status_remote_delete(*, account: Account, status: Status) -> bool:
    """Delete the remote ``status`` (or boost) at its author's word, as
    ``status_delete`` does; False when it was gone already. Raises NotFound when
    ``account`` is not its author (only the owner deletes)."""
    if status.account_id != account.pk or account.is_local:
        raise NotFound(_("Record not found"))
    with transaction.atomic():
        return _status_destroy(status_id=status.pk)
