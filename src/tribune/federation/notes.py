"""Posts from other servers (docs/adr/0024): a ``Note`` read, checked and
stored through ``statuses.remote``, or fetched from its origin when it is not
known here.

Trust (Mastodon's ActivityPub::Activity::Create and FetchRemoteStatusService):
a Note is stored only from where its origin vouches for it: delivered by its
own author in a signed activity (the caller checks the signer; ``note_store``
checks that its ``id`` is on the author's host), or fetched from its ``id``,
whose host must be the host that finally served it and its author's host.
Replies are stored under their parent, which is fetched when unknown, at most
``MAX_PARENT_DEPTH`` levels up.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_by_uri
from tribune.core.errors import DomainError
from tribune.federation.actors import ActorError, remote_actor_fetch
from tribune.federation.client import (
    FederationRequestError,
    FetchedDocument,
    get_object,
)
from tribune.federation.models import RemoteActor
from tribune.federation.serializers import visibility_of
from tribune.media.remote import MAX_REMOTE_ATTACHMENTS, RemoteMedia, remote_media_url
from tribune.statuses.models import Status
from tribune.statuses.polls import (
    MAX_IMPORTED_OPTIONS,
    RemotePoll,
    poll_remote,
    poll_remote_refresh,
)
from tribune.statuses.remote import status_remote_create, status_remote_update
from tribune.statuses.selectors import status_by_uri

logger = logging.getLogger(__name__)

# A Question is a Note with a poll (Mastodon's NoteSerializer; docs/adr/0036).
NOTE_TYPES = frozenset({"Note", "Article", "Question"})
MAX_PARENT_DEPTH = 3  # replies above this many unknown parents are stored unthreaded


class NoteRefused(Exception):
    """A Note that is not stored: not a Note, from the wrong host or author,
    or not to be had from its origin."""


def host(url: Any) -> str:
    """The lower-cased host (with port) of ``url``, ``""`` when it has none."""
    if not isinstance(url, str):
        return ""
    try:
        return urlsplit(url).netloc.rpartition("@")[2].lower()
    except ValueError:
        return ""


def ref_id(value: Any) -> str | None:
    """The id of an AS2 reference: a string, or an object's ``id``; the first of
    a list."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [i for i in (ref_id(item) for item in items) if i]


def _content(note: dict[str, Any]) -> tuple[str, str | None]:
    """The note's HTML and its language (``contentMap``'s first key)."""
    content = note.get("content")
    language = None
    content_map = note.get("contentMap")
    if isinstance(content_map, dict) and content_map:
        language, mapped = next(iter(content_map.items()))
        if not isinstance(content, str):
            content = mapped
    return (content if isinstance(content, str) else ""), (
        language if isinstance(language, str) else None)


def _published(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _tags(note: dict[str, Any]) -> tuple[list[Account], list[str]]:
    """The known accounts the note mentions and its hashtags' names."""
    mentioned: dict[int, Account] = {}
    hashtags: list[str] = []
    tags = note.get("tag")
    for tag in (tags if isinstance(tags, list) else [tags])[:200]:
        if not isinstance(tag, dict):
            continue
        if tag.get("type") == "Mention" and isinstance(tag.get("href"), str):
            account = account_by_uri(tag["href"])
            if account is not None:
                mentioned[account.pk] = account
        elif tag.get("type") == "Hashtag" and isinstance(tag.get("name"), str):
            hashtags.append(tag["name"])
    return list(mentioned.values()), hashtags


def _parent(note: dict[str, Any], depth: int) -> Status | None:
    uri = ref_id(note.get("inReplyTo"))
    if uri is None:
        return None
    parent = status_by_uri(uri)
    if parent is None and depth < MAX_PARENT_DEPTH:
        try:
            parent = note_fetch(uri, depth=depth + 1)
        except NoteRefused as error:
            logger.info("the parent %s of a reply cannot be had: %s", uri, error)
    return parent


QUOTE_PROPERTIES = ("quote", "_misskey_quote", "quoteUri")  # FEP-044f, Misskey, Fedibird


def _quoted(note: dict[str, Any], depth: int) -> Status | None:
    """The post ``note`` quotes (FEP-044f's ``quote`` or the older names), known
    here or fetched from its origin as a parent is; None when it names none or it
    cannot be had."""
    uri = next((u for name in QUOTE_PROPERTIES if (u := ref_id(note.get(name)))), None)
    if uri is None:
        return None
    quoted = status_by_uri(uri)
    if quoted is None and depth < MAX_PARENT_DEPTH:
        try:
            quoted = note_fetch(uri, depth=depth + 1)
        except NoteRefused as error:
            logger.info("the quoted post %s cannot be had: %s", uri, error)
    return quoted


def _checked(note: dict[str, Any], author: RemoteActor) -> str:
    """The note's id, when ``note`` is a Note on its author's host and
    attributed to ``author``; NoteRefused otherwise."""
    if note.get("type") not in NOTE_TYPES:
        raise NoteRefused(f"{note.get('type')!r} is not a Note")
    uri = ref_id(note.get("id"))
    if uri is None or host(uri) != host(author.account.uri):
        raise NoteRefused(f"{uri} is not on its author's host")
    if ref_id(note.get("attributedTo")) != author.account.uri:
        raise NoteRefused(f"{uri} is not attributed to {author.account.uri}")
    return uri


MEDIA_TYPES = frozenset({"Document", "Image", "Video", "Audio"})
MAX_ATTACHMENT_ITEMS = 20  # entries of ``attachment`` looked at; the rest are not read


def _media_link(value: Any) -> tuple[str, str]:
    """The first http(s) URL (``media.remote.remote_media_url``) of an attachment's ``url`` (a string, a Link with
    ``href`` and ``mediaType``, or a list of them) and its declared MIME type."""
    for item in (value if isinstance(value, list) else [value])[:MAX_ATTACHMENT_ITEMS]:
        href, media_type = item, ""
        if isinstance(item, dict):
            href, media_type = item.get("href"), item.get("mediaType")
        if isinstance(href, str) and remote_media_url(href):
            return href, media_type if isinstance(media_type, str) else ""
    return "", ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _dimension(value: Any) -> int:
    number = _number(value)
    return int(number) if number is not None and 0 < number < 2**31 else 0


def note_attachments(note: dict[str, Any]) -> list[RemoteMedia]:
    """The media of ``note``'s ``attachment`` as Mastodon writes them (Document,
    Image, Video or Audio with ``url``, ``mediaType``, ``name`` as alt text,
    ``blurhash``, ``width``, ``height`` and ``focalPoint`` [x, y]): the first
    four with an http(s) URL (Mastodon's limit), in order; others are ignored.
    ``media.remote`` bounds each value."""
    found: list[RemoteMedia] = []
    items = note.get("attachment")
    for item in (items if isinstance(items, list) else [items])[:MAX_ATTACHMENT_ITEMS]:
        if not isinstance(item, dict) or item.get("type") not in MEDIA_TYPES:
            continue
        url, link_type = _media_link(item.get("url"))
        if not url:
            continue
        declared = item.get("mediaType")
        focal = item.get("focalPoint")
        focus = None
        if isinstance(focal, list) and len(focal) == 2:
            x, y = _number(focal[0]), _number(focal[1])
            focus = (x, y) if x is not None and y is not None else None
        name, blurhash = item.get("name"), item.get("blurhash")
        found.append(RemoteMedia(
            url=url, media_type=(declared if isinstance(declared, str) else link_type)[:100],
            kind=item["type"].lower(), description=name if isinstance(name, str) else "",
            blurhash=blurhash if isinstance(blurhash, str) else "",
            width=_dimension(item.get("width")), height=_dimension(item.get("height")),
            focus=focus))
        if len(found) == MAX_REMOTE_ATTACHMENTS:
            break
    return found


def note_fields(note: dict[str, Any], author: RemoteActor) -> dict[str, Any]:
    """What ``statuses.remote`` takes of ``note``: content, warning, language,
    sensitivity, mentions, hashtags and attachments."""
    content, language = _content(note)
    mentioned, hashtags = _tags(note)
    summary = note.get("summary")
    return {"content_html": content, "spoiler_text": summary if isinstance(summary, str) else "",
            "sensitive": note.get("sensitive") is True, "language": language,
            "mentioned": mentioned, "tag_names": hashtags,
            "attachments": note_attachments(note)}


def _closed(value: Any) -> datetime | None:
    """``closed`` of a Question: a time, or ``true`` (some servers' word for
    "ended", taken as ended now)."""
    if value is True:
        from django.utils import timezone

        return timezone.now()
    return _published(value)


def question_poll(note: dict[str, Any]) -> RemotePoll | None:
    """The poll of ``note`` when it is a ``Question`` (AS2 §3.1; Mastodon's
    NoteSerializer, as ``serializers.question`` writes it): the options under
    ``oneOf`` (one choice) or ``anyOf`` (several), each with its title as
    ``name`` and its votes as ``replies.totalItems`` (0 when absent); the end
    from ``endTime``, or ``closed`` when earlier or alone; ``votersCount``. None
    for another type. Raises NoteRefused for a Question whose poll cannot be read
    (no options, too many, a title that is not a text, a count that is not a
    number): the post is not stored at all, so nothing is half-written."""
    if note.get("type") != "Question":
        return None
    multiple = isinstance(note.get("anyOf"), list) and not isinstance(note.get("oneOf"), list)
    items = note.get("anyOf") if multiple else note.get("oneOf")
    if not isinstance(items, list) or not items or len(items) > MAX_IMPORTED_OPTIONS:
        raise NoteRefused(f"{ref_id(note.get('id'))}: the Question's options cannot be read")
    titles: list[Any] = []
    tallies: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            raise NoteRefused(f"{ref_id(note.get('id'))}: an option is not an object")
        replies = item.get("replies")
        titles.append(item.get("name"))
        tallies.append(replies.get("totalItems", 0) if isinstance(replies, dict) else 0)
    ends = [t for t in (_published(note.get("endTime")), _closed(note.get("closed"))) if t]
    try:
        return poll_remote(options=titles, tallies=tallies, multiple=multiple,
                           expires_at=min(ends) if ends else None,
                           voters_count=note.get("votersCount"))
    except DomainError as error:
        raise NoteRefused(f"{ref_id(note.get('id'))}: {error}") from None


def note_store(note: dict[str, Any], *, author: RemoteActor, depth: int = 0) -> Status:
    """Store the ``note`` that ``author`` vouches for (see the module's
    docstring) and return its status; the stored one if it is known. Raises
    NoteRefused for a note that is not ``author``'s or that the statuses
    service refuses."""
    uri = _checked(note, author)
    known = status_by_uri(uri)
    if known is not None:
        if known.account_id != author.account_id:
            raise NoteRefused(f"{uri} is another account's post")
        return known
    poll = question_poll(note)
    to, cc = _ids(note.get("to")), _ids(note.get("cc"))
    url = ref_id(note.get("url")) or ""
    if isinstance(note.get("url"), dict):
        url = note["url"].get("href") or ""
    try:
        return status_remote_create(
            account=author.account, uri=uri, url=url if host(url) == host(uri) else "",
            visibility=visibility_of(to, cc, followers=author.followers_url or None),
            created_at=_published(note.get("published")),
            in_reply_to=_parent(note, depth), quoted=_quoted(note, depth), poll=poll,
            **note_fields(note, author))
    except DomainError as error:
        raise NoteRefused(f"{uri}: {error}") from None


def note_update(note: dict[str, Any], *, author: RemoteActor) -> Status | None:
    """Apply an ``Update`` of a Note by ``author``: only the author's own, known
    post changes (None when it is not known: nothing to update). A ``Question``'s
    poll takes the counts and end it carries (``polls.poll_remote_refresh``);
    its text is edited only when its ``updated`` is newer than the stored edit,
    since Mastodon sends the whole Question again as votes arrive. Raises
    NoteRefused for another author's note or a poll that cannot be read."""
    uri = _checked(note, author)
    status = status_by_uri(uri)
    if status is None:
        return None
    poll = question_poll(note)
    edited = _published(note.get("updated"))
    try:
        if poll is None or (edited is not None and (status.edited_at is None
                                                   or edited > status.edited_at)):
            status = status_remote_update(account=author.account, status=status,
                                          edited_at=edited, **note_fields(note, author))
        if poll is not None:
            poll_remote_refresh(account=author.account, status=status, poll=poll)
        return status
    except DomainError as error:
        raise NoteRefused(f"{uri}: {error}") from None


def _author(uri: str | None, *, note_host: str) -> RemoteActor:
    """The remote actor ``uri``, known or fetched, on ``note_host``."""
    if uri is None or host(uri) != note_host:
        raise NoteRefused(f"the author {uri} is not on {note_host}")
    actor = RemoteActor.objects.select_related("account").filter(account__uri=uri).first()
    if actor is not None:
        return actor
    try:
        return remote_actor_fetch(uri)
    except ActorError as error:
        raise NoteRefused(f"the author {uri} cannot be had: {error}") from None


def note_fetch(uri: str, *, depth: int = 0) -> Status:
    """The status ``uri``: known, or fetched from its origin and stored (its
    author fetched too when unknown), signed by the instance actor. The document
    must come from ``uri``'s host after redirects and carry an ``id`` on it.
    Raises NoteRefused, also for a post of a suspended domain."""
    known = status_by_uri(uri)
    if known is not None:
        return known
    from tribune.accounts.selectors import domain_suspended

    if domain_suspended(host(uri)):
        raise NoteRefused(f"{host(uri)} is suspended here")
    try:
        from tribune.federation.instance_actor import instance_signer

        fetched = get_object(uri, signer=instance_signer())
    except FederationRequestError as error:
        raise NoteRefused(f"{uri} cannot be fetched: {error}") from None
    return note_store_fetched(fetched, asked=uri, depth=depth)


def note_store_fetched(fetched: FetchedDocument, *, asked: str, depth: int = 0) -> Status:
    """Store the Note that was ``fetched`` (``client.get_object``) when ``asked``
    for: its ``id`` must be on the host that served it, which must be ``asked``'s,
    and its author on that host (fetched when unknown). Raises NoteRefused."""
    note = fetched.document
    if note.get("type") not in NOTE_TYPES:
        raise NoteRefused(f"{asked} is not a Note")
    note_id = ref_id(note.get("id"))
    if note_id is None or host(note_id) != host(fetched.url) or host(asked) != host(fetched.url):
        raise NoteRefused(f"{asked} was served by another host ({host(fetched.url)})")
    author = _author(ref_id(note.get("attributedTo")), note_host=host(note_id))
    return note_store(note, author=author, depth=depth)
