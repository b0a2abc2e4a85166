"""Accounts and posts as ActivityStreams 2.0 objects, the way Mastodon writes them.

Pure functions over model instances: nothing here queries beyond the relations the
caller prefetched (``mentions__account``, ``tags``, ``media_attachments`` for posts;
``reblog_of__account`` for boosts), writes or fetches. The account export uses them
(Mastodon's BackupService serialises its outbox with its ActivityPub serialisers
the same way), and federation will send the same documents.

Sources: ActivityStreams 2.0 (W3C Recommendation; the vocabulary: §3.1 Object
types ``Note``, ``Document``, ``Image``, ``Person``, ``Service``; §3.2 activities
``Create``, ``Announce``; §5.3 ``OrderedCollection``), ActivityPub (W3C
Recommendation §4.1 actor objects: ``inbox``, ``outbox``, ``followers``,
``following``, ``preferredUsername``; §5.6 the ``Public`` collection), and
Mastodon's documentation of its extensions (spec/activitypub.md: ``sensitive``,
``Hashtag``, ``featured``, ``discoverable``, ``indexable``, ``blurhash``,
``focalPoint``, ``alsoKnownAs``, ``movedTo``; ``toot:`` namespace) and of the
``to``/``cc`` addressing by visibility (its TagManager, see ``audience``).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.files.storage import default_storage
from django.utils.html import format_html

from tribune.accounts.models import Account, Visibility
from tribune.accounts.selectors import account_profile_url, account_uri
from tribune.core.urls import absolute
from tribune.statuses.polls import poll_expired
from tribune.statuses.selectors import status_poll, status_quote

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

# The JSON-LD context Mastodon sends with documents that use its extensions.
CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    {
        "toot": "http://joinmastodon.org/ns#",
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        "votersCount": "toot:votersCount",
        # Quote posts: FEP-044f's ``quote``, and the older names others still read.
        "quote": {"@id": "https://w3id.org/fep/044f#quote", "@type": "@id"},
        "quoteUri": "http://fedibird.com/ns#quoteUri",
        "_misskey_quote": "https://misskey-hub.net/ns#_misskey_quote",
    },
]

Document = dict[str, Any]


def iso(value: datetime | None) -> str | None:
    """``2024-03-05T14:02:11Z`` (UTC, whole seconds, as Mastodon writes dates)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- ids -------------------------------------------------------------------------


def actor_id(account: Account) -> str:
    """The account's ActivityPub id: ``https://DOMAIN/users/NAME`` here."""
    return account_uri(account)


def followers_id(account: Account) -> str:
    """The followers collection: ``<actor>/followers`` (Mastodon's layout)."""
    return f"{actor_id(account)}/followers"


def status_id(status) -> str:
    """A post's ActivityPub id: ``https://DOMAIN/users/NAME/statuses/ID`` for posts
    written here (as the API's ``uri``), the stored one for others."""
    if status.account.is_local:
        return absolute(f"/users/{status.account.username}/statuses/{status.pk}")
    return status.uri


def status_url(status) -> str:
    """A post's page: ``https://DOMAIN/@NAME/ID`` here (as the API's ``url``)."""
    if status.account.is_local:
        return absolute(f"/@{status.account.username}/{status.pk}")
    return status.url or status.uri


# --- actors ----------------------------------------------------------------------


def _file_url(name: str) -> str:
    url = default_storage.url(name)
    return absolute(url) if url.startswith("/") else url


def _media_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def image(name: str, *, url: str | None = None) -> Document:
    """An ``Image`` for a stored picture (an avatar or header), at ``url`` when
    given (a path inside an archive) and at its public address otherwise."""
    return {"type": "Image", "mediaType": _media_type(name), "url": url or _file_url(name)}


def person(account: Account, *, icon_url: str | None = None,
           image_url: str | None = None) -> Document:
    """The account as an actor (ActivityPub §4.1; Mastodon's ActorSerializer).

    ``Service`` for bots, ``Person`` otherwise. ``published`` is midnight of the
    day the account was made, as Mastodon writes it. ``icon``/``image`` only when a
    picture is set; ``icon_url``/``image_url`` replace their addresses (an
    archive's own paths). No ``publicKey`` yet: keys come with federation.
    """
    uri = actor_id(account)
    document: Document = {
        "@context": CONTEXT,
        "id": uri,
        "type": "Service" if account.bot else "Person",
        "following": f"{uri}/following",
        "followers": followers_id(account),
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "featured": f"{uri}/collections/featured",
        "preferredUsername": account.username,
        "name": account.display_name,
        "summary": account.note_html,
        "url": account_profile_url(account),
        "manuallyApprovesFollowers": account.locked,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "published": iso(account.created_at.astimezone(UTC).replace(
            hour=0, minute=0, second=0, microsecond=0)),
    }
    if account.avatar:
        document["icon"] = image(account.avatar.name, url=icon_url)
    if account.header:
        document["image"] = image(account.header.name, url=image_url)
    if account.also_known_as:
        document["alsoKnownAs"] = list(account.also_known_as)
    if account.moved_to_uri:
        document["movedTo"] = account.moved_to_uri
    return document


# --- posts -----------------------------------------------------------------------


def audience(status, *, mentioned: list[str]) -> tuple[list[str], list[str]]:
    """``(to, cc)`` for a post of ``status.visibility`` mentioning the actor ids
    ``mentioned``, by Mastodon's convention (TagManager#to / #cc):

    ========  ===================  ==========================
    public    Public               followers, mentioned
    unlisted  followers            Public, mentioned
    private   followers            mentioned
    direct    mentioned            (none)
    ========  ===================  ==========================
    """
    followers = followers_id(status.account)
    match status.visibility:
        case Visibility.PUBLIC:
            return [PUBLIC], [followers, *mentioned]
        case Visibility.UNLISTED:
            return [followers], [PUBLIC, *mentioned]
        case Visibility.PRIVATE:
            return [followers], list(mentioned)
        case _:
            return list(mentioned), []


def visibility_of(to: list[str], cc: list[str], *, followers: str | None = None) -> str:
    """The visibility that ``to`` and ``cc`` express (the inverse of ``audience``):
    Public in ``to`` is public, in ``cc`` unlisted; otherwise a followers
    collection (``followers``, or any id ending in ``/followers``) makes it
    private, and anything else is direct."""
    def is_public(uri: str) -> bool:
        return uri in (PUBLIC, "as:Public", "Public")

    def is_followers(uri: str) -> bool:
        return uri == followers if followers else uri.endswith("/followers")

    if any(is_public(u) for u in to):
        return Visibility.PUBLIC
    if any(is_public(u) for u in cc):
        return Visibility.UNLISTED
    if any(is_followers(u) for u in [*to, *cc]):
        return Visibility.PRIVATE
    return Visibility.DIRECT


def attachment(media, *, url: str | None = None) -> Document:
    """A ``Document`` for one processed attachment (Mastodon's MediaAttachment
    serialiser): media type, address (``url`` if given), alt text as ``name``,
    BlurHash, focal point and the original's size and duration."""
    name = media.file.name or ""
    original = (media.meta or {}).get("original", {})
    document: Document = {
        "type": "Document",
        "mediaType": _media_type(name),
        "url": url or (_file_url(name) if name else media.remote_url),
        "name": media.description or None,
        "blurhash": media.blurhash or None,
        "focalPoint": [media.focus_x, media.focus_y],
    }
    for key in ("width", "height", "duration"):
        if original.get(key) is not None:
            document[key] = original[key]
    return document


def _tags(status) -> list[Document]:
    tags: list[Document] = []
    for mention in status.mentions.all():
        target = mention.account
        handle = f"{target.username}@{target.domain or _domain()}"
        tags.append({"type": "Mention", "href": actor_id(target), "name": f"@{handle}"})
    for tag in status.tags.all():
        tags.append({"type": "Hashtag", "href": absolute(f"/tags/{tag.name}"),
                     "name": f"#{tag.display_name or tag.name}"})
    return tags


def _domain() -> str:
    from django.conf import settings

    return settings.TRIBUNE_DOMAIN


def note(status, *, attachment_url: Callable[[Any], str] | None = None) -> Document:
    """The post as a ``Note`` (AS2 §3.1; Mastodon's NoteSerializer), without
    ``@context`` (it travels inside an activity).

    ``summary`` is the content warning (None without one), ``contentMap`` the
    content under its language, ``updated`` only for an edited post. A post quoting
    another (an accepted quote of a post still there) names it in FEP-044f's
    ``quote`` and in Misskey's ``_misskey_quote`` and Fedibird's ``quoteUri``, and its
    content ends with Mastodon's fallback paragraph
    ``<p class="quote-inline">RE: <a href="...">...</a></p>`` for servers that show
    no quotes.
    ``attachment_url(media)`` gives each attachment's address when given (an
    archive's own paths).
    """
    mentioned = [actor_id(m.account) for m in status.mentions.all()]
    to, cc = audience(status, mentioned=mentioned)
    parent = status.in_reply_to
    document: Document = {
        "id": status_id(status),
        "type": "Note",
        "summary": status.spoiler_text or None,
        "inReplyTo": status_id(parent) if parent is not None else None,
        "published": iso(status.created_at),
        "url": status_url(status),
        "attributedTo": actor_id(status.account),
        "to": to,
        "cc": cc,
        "sensitive": status.sensitive,
        "content": status.content,
    }
    quote = status_quote(status)
    if quote is not None and quote.state == "accepted" and quote.quoted_status is not None:
        quoted, link = status_id(quote.quoted_status), status_url(quote.quoted_status)
        document.update(quote=quoted, _misskey_quote=quoted, quoteUri=quoted)
        document["content"] = status.content + format_html(
            '<p class="quote-inline">RE: <a href="{}">{}</a></p>', link, link)
    if status.language:
        document["contentMap"] = {status.language: document["content"]}
    if status.edited_at:
        document["updated"] = iso(status.edited_at)
    document["attachment"] = [
        attachment(m, url=attachment_url(m) if attachment_url else None)
        for m in sorted(status.media_attachments.all(), key=lambda m: m.position)]
    document["tag"] = _tags(status)
    if (poll := status_poll(status)) is not None:
        document.update(question(poll))
    return document


def question(poll) -> Document:
    """What a post with a poll adds to its ``Note``, which becomes a ``Question``
    (AS2 §3.1 Question; Mastodon's NoteSerializer): the options under ``oneOf``
    or, when several may be chosen, ``anyOf``, each a ``Note`` with its title as
    ``name`` and its votes as ``replies.totalItems``; ``endTime``, ``closed`` once
    it has ended, and ``votersCount`` (toot:votersCount)."""
    options = [{"type": "Note", "name": title,
                "replies": {"type": "Collection", "totalItems": count}}
               for title, count in zip(poll.options, poll.tallies, strict=False)]
    document: Document = {"type": "Question", "anyOf" if poll.multiple else "oneOf": options,
                          "endTime": iso(poll.expires_at), "votersCount": poll.voters_count}
    if poll_expired(poll):
        document["closed"] = iso(poll.expires_at)
    return document


def create(status, *, attachment_url: Callable[[Any], str] | None = None) -> Document:
    """``Create`` of the post (AS2 §3.2), addressed as its ``Note`` is; its id is
    the post's id plus ``/activity``, as Mastodon's."""
    obj = note(status, attachment_url=attachment_url)
    return {"id": f"{obj['id']}/activity", "type": "Create", "actor": obj["attributedTo"],
            "published": obj["published"], "to": obj["to"], "cc": obj["cc"], "object": obj}


def announce(reblog) -> Document:
    """``Announce`` of a boost (AS2 §3.2): ``object`` is only the boosted post's
    id, the boosted author is in ``cc`` (Mastodon's ActivitySerializer)."""
    original = reblog.reblog_of
    to, cc = audience(reblog, mentioned=[actor_id(original.account)])
    return {"id": f"{status_id(reblog)}/activity", "type": "Announce",
            "actor": actor_id(reblog.account), "published": iso(reblog.created_at),
            "to": to, "cc": cc, "object": status_id(original)}


def ordered_collection(collection_id: str, items: list[Any], *,
                       total: bool = True) -> Document:
    """An ``OrderedCollection`` (AS2 §5.3) of ``items`` with ``@context``."""
    document: Document = {"@context": CONTEXT, "id": collection_id,
                          "type": "OrderedCollection"}
    if total:
        document["totalItems"] = len(items)
    document["orderedItems"] = items
    return document
