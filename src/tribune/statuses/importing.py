"""Posts brought back from an archive (a Mastodon account archive, an X/Twitter
archive): written as they were, on their original dates, and announced to no one.

An imported post is an old post: it is not written to followers' home feeds, it
notifies nobody (mentioned accounts included) and it spends nothing of the
posting budget. It publishes ``StatusImported``, whose only effect is the
automated flaggers' scan, so imported content meets the same detectors as new
posts. Its id is made from its original date (``core.ids.ids_of_millisecond``), so
it sorts among the author's posts where it was written; the low bits come from a
hash of where the post came from, moved on to the next free id of that millisecond
when taken, so posts of one date (X dates tweets to the second) never collide.
It is marked ``imported``. Whether a post was imported already is the caller's
question, answered by where it came from (``portability.models.ImportedItem``),
never by its id.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account, Visibility
from tribune.accounts.selectors import accounts_by_handles
from tribune.core.entity_cache import new_version
from tribune.core.errors import NotFound, ValidationFailed
from tribune.core.events import StatusImported, publish
from tribune.core.ids import ids_of_millisecond
from tribune.core.languages import is_language_code
from tribune.core.text import count_characters, extract_mentions
from tribune.media.services import media_attach
from tribune.statuses.models import Mention, Status
from tribune.statuses.policy import can_view
from tribune.statuses.polls import PollResults, poll_import_for
from tribune.statuses.services import _render, _tags_for, ensure_can_act

# Imported posts were valid where they were written, which may allow longer posts
# than this instance does; this is only a bound (the highest TRIBUNE_MAX_CHARACTERS).
IMPORT_MAX_CHARACTERS = 100_000


def status_import(
    *, account: Account, text: str, created_at: datetime, visibility: str,
    spoiler_text: str = "", sensitive: bool = False, language: str | None = None,
    in_reply_to: Status | None = None, media_ids: list | None = None,
    link_mentions: bool = True, origin: str = "", poll: PollResults | None = None,
) -> Status:
    """Write one of ``account``'s earlier posts, dated ``created_at``, and return it.

    ``text`` is plain text, rendered as every post is (links, hashtags; mentions of
    known accounts unless ``link_mentions`` is False, for handles of another
    network). ``in_reply_to`` is a post ``account`` can see (an earlier imported
    one, for threads within an archive). ``media_ids`` attaches up to four of
    ``account``'s processed uploads. A ``language`` that is not a language code is
    dropped rather than refused. ``origin`` names where the post came from (e.g.
    ``mastodon:<its ActivityPub id>``); it picks the id's low bits, so that posts of
    the same millisecond get different ids. ``poll`` (``statuses.polls.poll_results``)
    comes back closed, with its counts (``poll_import_for``). Call inside the caller's transaction to
    write more beside it atomically.

    Raises Forbidden for an account restricted by a moderation decision,
    ValidationFailed for an empty post, an unknown visibility, a date in the future
    or before 1970 (ids cannot hold it), over ``IMPORT_MAX_CHARACTERS`` characters
    (and what ``media_attach`` refuses), NotFound when ``in_reply_to`` is not
    visible or was deleted meanwhile. Messages are written for the person whose
    import it is.
    """
    ensure_can_act(account)
    spoiler_text = spoiler_text or ""
    if not text.strip() and not media_ids:
        raise ValidationFailed(_("The post has neither text nor media files."))
    if count_characters(text) + count_characters(spoiler_text) > IMPORT_MAX_CHARACTERS:
        raise ValidationFailed(_("The post is longer than %(limit)d characters.")
                               % {"limit": IMPORT_MAX_CHARACTERS})
    if visibility not in Visibility.values:
        raise ValidationFailed(_("Validation failed: Visibility is not included in the list"))
    if timezone.is_naive(created_at):
        raise ValidationFailed(_("The post's date has no time zone."))
    if created_at > timezone.now():
        raise ValidationFailed(_("The post is dated %(date)s, which is not a past date.")
                               % {"date": f"{created_at:%Y-%m-%d %H:%M}"})
    try:
        ids = ids_of_millisecond(created_at)
    except ValueError:
        raise ValidationFailed(_("The post is dated %(date)s; posts dated before 1970 "
                                 "cannot be kept here.")
                               % {"date": f"{created_at:%Y-%m-%d %H:%M}"}) from None
    if language is not None and not is_language_code(language):
        language = None
    if in_reply_to is not None and not can_view(account, in_reply_to):
        raise NotFound(_("The post it replies to is no longer here."))
    mentioned = accounts_by_handles(extract_mentions(text)) if link_mentions else {}
    fields = dict(
        account=account, text=text, content=_render(text, mentioned),
        spoiler_text=spoiler_text[:1000], sensitive=bool(sensitive) or bool(spoiler_text),
        language=language, visibility=visibility, in_reply_to=in_reply_to,
        in_reply_to_account_id=in_reply_to.account_id if in_reply_to else None,
        created_at=created_at, imported=True,
    )
    with transaction.atomic():
        status = _create_at_free_id(ids, origin, fields, in_reply_to)
        Mention.objects.bulk_create(
            [Mention(status=status, account=a) for a in {a.pk: a for a in mentioned.values()}.values()],
            ignore_conflicts=True)
        status.tags.set(_tags_for(text))
        if media_ids:
            media_attach(account=account, media_ids=media_ids, status=status)
        if poll is not None:
            poll_import_for(status=status, results=poll)
        Account.objects.filter(pk=account.pk).update(
            version=new_version(), statuses_count=F("statuses_count") + 1)
        # last_status_at only moves forward: an old post does not make one look idle.
        Account.objects.filter(Q(last_status_at__isnull=True) | Q(last_status_at__lt=created_at),
                               pk=account.pk).update(last_status_at=created_at)
        if in_reply_to is not None and not Status.objects.filter(pk=in_reply_to.pk).update(
                replies_count=F("replies_count") + 1, version=new_version()):
            raise NotFound(_("The post it replies to is no longer here."))
        publish(StatusImported(status_id=status.pk))
    return status


def _low_bits(origin: str) -> int:
    """Where to start looking for a free id in a millisecond: 16 bits of a hash of
    ``origin``, so that posts of one millisecond start apart, or at random without
    one."""
    if not origin:
        return secrets.randbits(16)
    digest = hashlib.blake2b(origin.encode("utf-8"), digest_size=2, person=b"tribune-import")
    return int.from_bytes(digest.digest(), "big")


def _create_at_free_id(ids: range, origin: str, fields: dict,
                       in_reply_to: Status | None) -> Status:
    """The Status made with ``fields`` at the first free id of ``ids`` after the
    newest post of that millisecond, so that posts of one time (archives date them
    to the second) keep the order they are imported in; in an empty millisecond
    from ``origin``'s low bits (in the lower half, leaving room after it). Wraps
    round. A twin process may take the id between the look and the insert: the
    insert then fails in its savepoint and the next free id is tried.
    ValidationFailed when all 65,536 ids of the millisecond are taken."""
    for _attempt in range(5):
        taken = set(Status.objects.filter(pk__gte=ids.start, pk__lt=ids.stop)
                    .values_list("pk", flat=True))
        start = (max(taken) + 1 - ids.start) if taken else _low_bits(origin) % (len(ids) // 2)
        candidates = (ids[(start + step) % len(ids)] for step in range(len(ids)))
        free = next((pk for pk in candidates if pk not in taken), None)
        if free is None:
            break
        thread_id = (in_reply_to.thread_id or in_reply_to.pk) if in_reply_to else free
        try:
            with transaction.atomic():
                return Status.objects.create(id=free, thread_id=thread_id, **fields)
        except IntegrityError:
            if not Status.objects.filter(pk=free).exists():
                raise  # another constraint: not a matter of ids
    raise ValidationFailed(_("Too many posts have this exact time; this one cannot be "
                             "added among them."))
