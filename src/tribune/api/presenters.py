"""Domain objects to Mastodon API entities (docs: entities/*.md), as plain dicts.

Datetimes are ISO 8601 UTC with exactly three fractional digits and ``Z``; dates are
``YYYY-MM-DD``; ids are strings (CLI-15 and CLI-12 in the cases).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from tribune import __version__
from tribune.accounts.models import Account
from tribune.accounts.selectors import (
    account_avatar_url,
    account_by_uri,
    account_header_url,
    account_profile_url,
    account_uri,
)
from tribune.core.urls import absolute
from tribune.graph.selectors import Relationship
from tribune.links.selectors import card_image_url, status_card
from tribune.notifications.push import vapid_public_key
from tribune.statuses.models import (
    Poll,
    QuotePolicy,
    QuoteState,
    ReplyPolicy,
    Status,
    StatusEdit,
    Visibility,
)
from tribune.statuses.policy import OPEN, quote_allowed, removal_hides
from tribune.statuses.selectors import (
    ViewerState,
    status_poll,
    status_quote,
    statuses_by_ids,
)
from tribune.trends.selectors import followed_tag_ids, tag_histories

MASTODON_VERSION = "4.3.0"
VERSION = f"{MASTODON_VERSION} (compatible; Tribune {__version__})"
API_VERSION = 2  # api_versions.mastodon of Mastodon 4.3


def iso(value: datetime | None) -> str | None:
    """``2024-01-02T03:04:05.123Z``, or None."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def account_out(account: Account, *, nested: bool = False) -> dict[str, Any]:
    """The Account entity; ``moved`` (the account it moved to, when known here)
    only on a moved account, and not within ``moved`` itself (``nested``)."""
    avatar, header = account_avatar_url(account), account_header_url(account)
    data = {
        "id": str(account.pk),
        "username": account.username,
        "acct": account.acct,
        "display_name": account.display_name,
        "locked": account.locked,
        "bot": account.bot,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "group": False,
        "created_at": iso(account.created_at),
        "note": account.note_html,
        "url": account_profile_url(account),
        "uri": account_uri(account),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "statuses_count": account.statuses_count,
        "last_status_at": account.last_status_at.date().isoformat() if account.last_status_at else None,
        "hide_collections": False,
        "noindex": not account.indexable,
        "emojis": [],
        "roles": [],
        "fields": [],
    }
    if account.moved_to_uri and not nested:
        target = account_by_uri(account.moved_to_uri)
        if target is not None:
            data["moved"] = account_out(target, nested=True)
    return data


def credential_account_out(account: Account, *, follow_requests_count: int = 0) -> dict[str, Any]:
    """The CredentialAccount entity (verify_credentials, update_credentials)."""
    data = account_out(account)
    data["source"] = {
        "privacy": account.default_visibility,
        "sensitive": account.default_sensitive,
        "language": account.default_language or None,
        "note": account.note,
        "fields": [],
        "follow_requests_count": follow_requests_count,
        "indexable": account.indexable,
        "discoverable": account.discoverable,
        "hide_collections": False,
        "quote_policy": account.default_quote_policy,
    }
    is_admin = bool(account.user and account.user.is_superuser)
    data["role"] = {
        "id": "3" if is_admin else "-99",
        "name": "Admin" if is_admin else "",
        "permissions": "1" if is_admin else "0",
        "color": "",
        "highlighted": is_admin,
    }
    return data


def status_url(status: Status) -> str:
    if status.account.is_local:
        return absolute(f"/@{status.account.username}/{status.pk}")
    return status.url or status.uri


def status_uri(status: Status) -> str:
    if status.account.is_local:
        return absolute(f"/users/{status.account.username}/statuses/{status.pk}")
    return status.uri


def preview_card_out(status: Status) -> dict[str, Any] | None:
    """The PreviewCard entity of the status's link, or None (tribune.links)."""
    card = status_card(status)
    if card is None:
        return None
    authors = ([{"name": card.author_name, "url": card.author_url, "account": None}]
               if card.author_name or card.author_url else [])
    return {
        "url": card.url, "title": card.title, "description": card.description,
        "type": card.type, "author_name": card.author_name, "author_url": card.author_url,
        "authors": authors, "provider_name": card.provider_name,
        "provider_url": card.provider_url, "html": "", "width": card.width,
        "height": card.height, "image": card_image_url(card), "embed_url": "",
        "blurhash": card.blurhash or None, "published_at": None,
    }


def _file_url(field) -> str | None:
    """A stored file's URL, made absolute when the storage gives a path."""
    if not field:
        return None
    url = field.url
    return absolute(url) if url.startswith("/") else url


def media_attachment_out(media) -> dict[str, Any]:
    """The MediaAttachment entity; ``url`` and ``preview_url`` are None until the
    upload is processed (docs: entities/MediaAttachment.md). An attachment of a
    remote post not (yet) copied here has its origin's URL as ``url`` and no
    ``preview_url``, as Mastodon answers; ``remote_url`` is always the origin's."""
    meta = dict(media.meta or {})
    if media.type == "image" or media.focus_x or media.focus_y:
        meta["focus"] = {"x": media.focus_x, "y": media.focus_y}
    return {
        "id": str(media.pk),
        "type": media.type,
        "url": _file_url(media.file) or media.remote_url or None,
        # A picture: audio without one has none (its file is not an image).
        "preview_url": _file_url(media.thumbnail) or (
            _file_url(media.file) if media.type == "image" else None),
        "remote_url": media.remote_url or None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": media.description or None,
        "blurhash": media.blurhash or None,
    }


def status_shared(status: Status) -> dict[str, Any]:
    """The viewer-independent part of the Status entity of ``status`` alone: no
    ``account`` (the author's Account entity is added by the caller), ``reblog``
    None, and none of the viewer's fields (:data:`VIEWER_FIELDS`)."""
    return {
        "id": str(status.pk),
        "uri": status_uri(status),
        "url": status_url(status),
        "created_at": iso(status.created_at),
        "edited_at": iso(status.edited_at),
        "content": status.content,
        "text": None,
        "visibility": status.visibility,
        # A moderators' content warning shows where clients show the author's.
        "sensitive": status.sensitive or bool(status.moderation_label),
        "spoiler_text": status.spoiler_text or status.moderation_label,
        "language": status.language,
        "in_reply_to_id": str(status.in_reply_to_id) if status.in_reply_to_id else None,
        "in_reply_to_account_id": (str(status.in_reply_to_account_id)
                                   if status.in_reply_to_account_id else None),
        "replies_count": status.replies_count,
        "reblogs_count": status.reblogs_count,
        "favourites_count": status.favourites_count,
        "media_attachments": [media_attachment_out(m) for m in
                              sorted(status.media_attachments.all(), key=lambda m: m.position)],
        "mentions": [
            {"id": str(m.account.pk), "username": m.account.username,
             "acct": m.account.acct, "url": account_profile_url(m.account)}
            for m in status.mentions.all()
        ],
        "tags": [{"name": t.name, "url": absolute(f"/tags/{t.name}")} for t in status.tags.all()],
        "emojis": [],
        "application": ({"name": status.application.name,
                         "website": status.application.website or None}
                        if status.application_id and status.application else None),
        "reblog": None,
        "poll": poll_shared(p) if (p := status_poll(status)) is not None else None,
        "card": preview_card_out(status),
        "local_only": status.local_only,
        "interaction_policy": interaction_policy_out(status),
        "quotes_count": status.quotes_count,
        # Finished per viewer by status_entity (quote_out, quote_approval_out).
        "_quote": quote_shared(status),
        "_quote_policy": status.quote_approval_policy,
    }


def quote_shared(status: Status) -> dict[str, Any] | None:
    """The stored facts of the quote ``status`` makes (None when it quotes
    nothing): its ``state`` and the quoted status's id (None once deleted)."""
    quote = status_quote(status)
    if quote is None:
        return None
    return {"state": quote.state,
            "quoted_status_id": str(quote.quoted_status_id) if quote.quoted_status_id else None}


def quoted_id(shared: dict[str, Any]) -> int | None:
    """The id of the status that a status (its :func:`status_shared`) quotes with an
    accepted quote, to be loaded with it; None otherwise."""
    quote = shared.get("_quote")
    if quote and quote["state"] == QuoteState.ACCEPTED and quote["quoted_status_id"]:
        return int(quote["quoted_status_id"])
    return None


def relation_authors(shared: list[tuple[int, dict[str, Any]]], quoted_author_ids: set[int],
                     viewer_id: int | None) -> set[int]:
    """The authors whose relation to the viewer a page's quotes need
    (``ViewerState.with_relations``): those of quoted statuses, and those of
    followers-only-quotable posts (``shared``: (author id, status_shared) pairs)."""
    if viewer_id is None:
        return set()
    return quoted_author_ids | {author_id for author_id, data in shared
                                if data.get("_quote_policy") == QuotePolicy.FOLLOWERS
                                and author_id != viewer_id}


# Mastodon 4.5's QuoteApproval ``automatic`` for each quote policy.
QUOTE_AUTOMATIC = {QuotePolicy.PUBLIC: ["public"], QuotePolicy.FOLLOWERS: ["followers"],
                   QuotePolicy.NOBODY: []}


def quote_approval_out(shared: dict[str, Any], *, author_id: int, state: ViewerState,
                       viewer_id: int | None) -> dict[str, Any]:
    """The QuoteApproval entity (docs: entities/QuoteApproval.md) of a status for
    one viewer: who is expected to quote it without review (nobody for private and
    direct posts), nobody with review (nothing waits for approval here), and
    whether the viewer may (``unknown`` for a visitor)."""
    policy = shared["_quote_policy"]
    open_post = shared["visibility"] in OPEN
    if viewer_id is None:
        current = "unknown"
    else:
        allowed = quote_allowed(viewer_id=viewer_id, author_id=author_id,
                                visibility=shared["visibility"], policy=policy,
                                following=author_id in state.following)
        current = "automatic" if allowed else "denied"
    return {"automatic": list(QUOTE_AUTOMATIC[policy]) if open_post else [],
            "manual": [], "current_user": current}


def quote_out(quote: dict[str, Any] | None, *, quoted: dict[str, Any] | None,
              quoted_author_id: int | None, quoted_removed: bool, state: ViewerState,
              viewer_id: int | None) -> dict[str, Any] | None:
    """The Quote entity (docs: entities/Quote.md) of a status for one viewer, from
    :func:`quote_shared` and the quoted status's finished entity ``quoted`` (None
    when it could not be loaded). The quoted status is shown only for an accepted
    quote the viewer may see: ``unauthorized`` when they may not (a followers-only
    post they cannot read, one removed by moderation or by a suspended author:
    ``quoted_removed``), ``blocked_account`` (and not
    shown) when either blocks the other, ``muted_account`` (shown, for clients to
    hide) when the viewer mutes its author."""
    if quote is None:
        return None
    if quote["state"] != QuoteState.ACCEPTED:
        return {"state": quote["state"], "quoted_status": None}
    if quoted is None or quoted_author_id is None:
        return {"state": "unauthorized", "quoted_status": None}
    if quoted_author_id in state.blocked:
        return {"state": "blocked_account", "quoted_status": None}
    readable = (quoted["visibility"] in OPEN or viewer_id == quoted_author_id
                or (quoted["visibility"] == Visibility.PRIVATE
                    and quoted_author_id in state.following))
    if quoted_removed or not readable or (quoted["local_only"] and viewer_id is None):
        return {"state": "unauthorized", "quoted_status": None}
    if quoted_author_id in state.muted:
        return {"state": "muted_account", "quoted_status": quoted}
    return {"state": QuoteState.ACCEPTED, "quoted_status": quoted}


def shallow_quote_out(quote: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ShallowQuote entity (docs: entities/ShallowQuote.md): the quote of a
    status shown inside another's quote, by id only, so quotes never nest."""
    if quote is None:
        return None
    accepted = quote["state"] == QuoteState.ACCEPTED
    return {"state": quote["state"],
            "quoted_status_id": quote["quoted_status_id"] if accepted else None}


# GoToSocial's ``can_reply.always`` for each reply policy ("me" is the author).
CAN_REPLY = {
    ReplyPolicy.EVERYONE: ["public", "me"],
    ReplyPolicy.FOLLOWERS: ["followers", "mentioned", "me"],
    ReplyPolicy.MENTIONED: ["mentioned", "me"],
}


def interaction_policy_out(status: Status) -> dict[str, Any]:
    """GoToSocial's InteractionPolicy entity for ``status``: who may reply (its
    ``reply_policy``), favourite (everyone who sees it) and boost (everyone for
    public and unlisted posts, else the author only); nothing waits for approval
    (https://docs.gotosocial.org/en/latest/federation/interaction_policy/)."""
    open_post = status.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
    return {
        "can_favourite": {"always": ["public", "me"], "with_approval": []},
        "can_reply": {"always": list(CAN_REPLY[status.reply_policy]), "with_approval": []},
        "can_reblog": {"always": ["public", "me"] if open_post else ["me"],
                       "with_approval": []},
    }


def poll_shared(poll: Poll) -> dict[str, Any]:
    """The viewer-independent part of the Poll entity (docs: entities/Poll.md), as
    the entity cache keeps it: every count, and the private ``_hide_totals`` that
    :func:`poll_entity` needs to finish it for one viewer."""
    return {
        "id": str(poll.pk),
        "expires_at": iso(poll.expires_at),
        "multiple": poll.multiple,
        "votes_count": poll.votes_count,
        "voters_count": poll.voters_count,
        "options": [{"title": title, "votes_count": count}
                    for title, count in zip(poll.options, poll.tallies, strict=False)],
        "emojis": [],
        "_hide_totals": poll.hide_totals,
    }


def poll_entity(shared: dict[str, Any], *, viewer_id: int | None, author_id: int,
                own_votes: tuple[int, ...] | None, now: str | None = None) -> dict[str, Any]:
    """The Poll entity for one viewer from :func:`poll_shared`: ``expired`` as of
    ``now`` (an :func:`iso` string; the present by default: the cached part may be
    older than the poll's end), ``voted`` and ``own_votes`` only for a signed-in
    viewer (as Mastodon's REST::PollSerializer), and the options' counts null while
    a poll with hidden totals runs, except for its author."""
    now = now or iso(datetime.now(UTC))
    expired = shared["expires_at"] is not None and shared["expires_at"] <= now
    hidden = shared["_hide_totals"] and not expired and viewer_id != author_id
    data = {key: value for key, value in shared.items() if not key.startswith("_")}
    data["expired"] = expired
    if hidden:
        data["options"] = [{"title": o["title"], "votes_count": None} for o in shared["options"]]
    if viewer_id is not None:
        data["voted"] = own_votes is not None or viewer_id == author_id
        data["own_votes"] = list(own_votes or ())
    return data


VIEWER_FIELDS = ("favourited", "reblogged", "bookmarked", "muted", "pinned", "filtered")


def status_entity(shared: dict[str, Any], account: dict[str, Any], *, author_id: int,
                  state: ViewerState, viewer_id: int | None,
                  original: dict[str, Any] | None = None, quoted: dict[str, Any] | None = None,
                  quoted_author_id: int | None = None, quoted_removed: bool = False,
                  nested: bool = False) -> dict[str, Any]:
    """The Status entity from its parts: ``shared`` (:func:`status_shared`), the
    author's Account entity, and the viewer's state; a reblog passes its original's
    finished entity as ``original``, which it wraps in ``reblog``. A quoting status
    passes the quoted status's finished entity (made with ``nested``, so its own
    quote is a ShallowQuote), its author and whether moderation hides it from the
    viewer (:func:`quote_out`)."""
    original_id = int(shared["id"])
    data = {
        **{key: value for key, value in shared.items() if not key.startswith("_")},
        "account": account,
        "favourited": original_id in state.favourited,
        "reblogged": original_id in state.reblogged,
        "bookmarked": original_id in state.bookmarked,
        "muted": False,
        "pinned": original_id in state.pinned if viewer_id == author_id else None,
        "filtered": [],
        "quote": (shallow_quote_out(shared["_quote"]) if nested else
                  quote_out(shared["_quote"], quoted=quoted, quoted_author_id=quoted_author_id,
                            quoted_removed=quoted_removed, state=state, viewer_id=viewer_id)),
        "quote_approval": quote_approval_out(shared, author_id=author_id, state=state,
                                             viewer_id=viewer_id),
    }
    if shared["poll"] is not None:
        data["poll"] = poll_entity(shared["poll"], viewer_id=viewer_id, author_id=author_id,
                                   own_votes=state.poll_votes.get(original_id))
    if original is not None:
        data.update(
            content="", spoiler_text="", sensitive=False, language=None,
            mentions=[], tags=[], in_reply_to_id=None, in_reply_to_account_id=None,
            replies_count=0, reblogs_count=0, favourites_count=0, edited_at=None,
            favourited=original["favourited"], reblogged=original["reblogged"],
            bookmarked=original["bookmarked"], pinned=None, reblog=original,
            url=original["url"], quote=None, quotes_count=0,
            quote_approval=original["quote_approval"],
        )
    return data


def status_out(status: Status, state: ViewerState, viewer_id: int | None,
               quoted: dict[int, Status] | None = None, *, nested: bool = False) -> dict[str, Any]:
    """The Status entity; a reblog wraps its original in ``reblog``; a quote shows
    the quoted status when it is in ``quoted`` (by id, see :func:`quote_context`)."""
    original = None
    if status.reblog_of_id:
        original = status_out(status.reblog_of, state, viewer_id, quoted, nested=nested)
    shared = status_shared(status)
    quoted_status = (quoted or {}).get(quoted_id(shared) or 0) if not nested else None
    return status_entity(
        shared, account_out(status.account), author_id=status.account_id, state=state,
        viewer_id=viewer_id, original=original, nested=nested,
        quoted=(status_out(quoted_status, state, viewer_id, nested=True)
                if quoted_status is not None else None),
        quoted_author_id=quoted_status.account_id if quoted_status is not None else None,
        quoted_removed=quoted_status is not None and (removal_hides(
            viewer_id, author_id=quoted_status.account_id,
            removed=quoted_status.removed_at is not None)
            or quoted_status.account.suspended_at is not None))


def quote_context(statuses: list[Status], viewer: Account | None
                  ) -> tuple[ViewerState, dict[int, Status]]:
    """The viewer's state of ``statuses`` and of the statuses they quote, and those
    quoted statuses by id: no query for a page without quotes or followers-only
    quote policies, else at most the ``statuses_by_ids`` shape and one query of
    the viewer's relations to the authors involved."""
    originals = [s.reblog_of if s.reblog_of_id else s for s in statuses]
    wanted = [i for s in originals if (i := quoted_id({"_quote": quote_shared(s)}))]
    quoted = {s.pk: s for s in statuses_by_ids(wanted)} if wanted else {}
    state = ViewerState.for_statuses([*statuses, *quoted.values()], viewer)
    viewer_id = viewer.pk if viewer else None
    pairs = [(s.account_id, {"_quote_policy": s.quote_approval_policy})
             for s in [*originals, *quoted.values()]]
    state = state.with_relations(viewer_id, relation_authors(
        pairs, {s.account_id for s in quoted.values()}, viewer_id))
    return state, quoted


def statuses_out(statuses: list[Status], viewer: Account | None) -> list[dict[str, Any]]:
    """Many statuses with the viewer's state fetched in bulk (constant queries)."""
    state, quoted = quote_context(statuses, viewer)
    viewer_id = viewer.pk if viewer else None
    return [status_out(s, state, viewer_id, quoted) for s in statuses]


def status_edit_out(edit: StatusEdit, account: Account) -> dict[str, Any]:
    """The StatusEdit entity (one version in /history)."""
    return {
        "content": edit.content,
        "spoiler_text": edit.spoiler_text,
        "sensitive": edit.sensitive,
        "created_at": iso(edit.created_at),
        "account": account_out(account),
        "poll": None,
        "media_attachments": [],
        "emojis": [],
    }


def relationship_out(rel: Relationship) -> dict[str, Any]:
    """The Relationship entity."""
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.showing_reblogs,
        "notifying": rel.notifying,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting_notifications,
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


# Our restrictions as Mastodon's AccountWarning actions (the nearest each has).
WARNING_ACTIONS = {"none": "none", "label": "mark_statuses_as_sensitive", "reduce": "silence",
                   "remove": "delete_statuses", "freeze": "disable", "suspend": "suspend"}
APPEAL_STATES = {"pending": "pending", "assigned": "pending", "reversed": "approved",
                 "upheld": "rejected", "withdrawn": "rejected"}


def account_warning_out(decision, appeal) -> dict[str, Any]:
    """Mastodon's AccountWarning entity for a moderation decision (its statement
    of reasons as ``text``; the affected user's appeal, if any)."""
    return {
        "id": str(decision.pk),
        "action": WARNING_ACTIONS[decision.restriction],
        "text": decision.statement_text,
        "status_ids": [str(decision.status_id)] if decision.status_id else [],
        "target_account": account_out(decision.target_account),
        "appeal": ({"state": APPEAL_STATES[appeal.state], "text": appeal.text}
                   if appeal is not None else None),
        "created_at": iso(decision.created_at),
    }


def _warnings(notifications: list) -> dict[int, dict[str, Any]]:
    """AccountWarnings for the ``moderation_warning`` notifications, in two queries."""
    from tribune.moderation.models import Appeal, Decision

    ids = [n.subject_id for n in notifications
           if n.type == "moderation_warning" and n.subject_id is not None]
    if not ids:
        return {}
    decisions = Decision.objects.filter(pk__in=ids).select_related("target_account")
    appeals = {a.decision_id: a for a in Appeal.objects.filter(decision_id__in=ids,
                                                               appellant_role="author")}
    return {d.pk: account_warning_out(d, appeals.get(d.pk)) for d in decisions}


def notification_out(notification, state: ViewerState, viewer_id: int | None,
                     warnings: dict[int, dict[str, Any]] | None = None,
                     quoted: dict[int, Status] | None = None) -> dict[str, Any]:
    """The Notification entity."""
    status = notification.status
    out = {
        "id": str(notification.pk),
        "type": notification.type,
        "group_key": f"ungrouped-{notification.pk}",
        "created_at": iso(notification.created_at),
        "account": account_out(notification.from_account),
        "status": status_out(status, state, viewer_id, quoted) if status is not None else None,
    }
    if notification.type == "moderation_warning":
        if warnings is None:
            warnings = _warnings([notification])
        out["moderation_warning"] = warnings.get(notification.subject_id)
    return out


def notifications_out(notifications: list, viewer: Account) -> list[dict[str, Any]]:
    statuses = [n.status for n in notifications if n.status is not None]
    state, quoted = quote_context(statuses, viewer)
    warnings = _warnings(notifications)
    return [notification_out(n, state, viewer.pk, warnings, quoted) for n in notifications]


def rule_out(rule) -> dict[str, Any]:
    return {"id": str(rule.pk), "text": rule.text, "hint": rule.hint}


def domain() -> str:
    return settings.TRIBUNE_DOMAIN


# --- accounts, graph, apps, markers, search ---------------------------------------------


def muted_account_out(mute) -> dict[str, Any]:
    """The MutedAccount entity: the muted Account plus when the mute ends."""
    data = account_out(mute.target)
    data["mute_expires_at"] = iso(mute.expires_at)
    return data


def preferences_out(account: Account) -> dict[str, Any]:
    """The Preferences entity (keys with colons, as Mastodon names them)."""
    return {
        "posting:default:visibility": account.default_visibility,
        "posting:default:sensitive": account.default_sensitive,
        "posting:default:language": account.default_language or None,
        "posting:default:quote_policy": account.default_quote_policy,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }


def application_out(application) -> dict[str, Any]:
    """The Application entity (no credentials)."""
    uris = application.redirect_uris.split()
    return {
        "id": str(application.pk),
        "name": application.name,
        "website": application.website or None,
        "scopes": application.scopes.split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": vapid_public_key(),
    }


def credential_application_out(application, client_secret: str) -> dict[str, Any]:
    """The CredentialApplication entity; ``client_secret`` is shown this once."""
    return {
        **application_out(application),
        "client_id": application.client_id,
        "client_secret": client_secret,
        "client_secret_expires_at": 0,
    }


def marker_out(marker) -> dict[str, Any]:
    """The Marker entity."""
    return {
        "last_read_id": str(marker.last_read_id),
        "version": marker.version,
        "updated_at": iso(marker.updated_at),
    }


def tag_out(tag, *, history: list[dict[str, str]] | None = None,
            following: bool | None = None) -> dict[str, Any]:
    """The Tag entity: ``history`` as ``trends.selectors.tag_histories`` gives it
    (empty when not computed), ``following`` for a signed-in viewer (None else)."""
    return {
        "id": str(tag.pk),
        "name": tag.display_name or tag.name,
        "url": absolute(f"/tags/{tag.name}"),
        "history": history or [],
        "following": following,
    }


def tags_out(tags: list, viewer: Account | None) -> list[dict[str, Any]]:
    """Tag entities with their week of history and whether ``viewer`` follows each
    (two queries for the whole list)."""
    ids = [t.pk for t in tags]
    histories = tag_histories(ids)
    followed = followed_tag_ids(account=viewer, tag_ids=ids)
    return [tag_out(t, history=histories[t.pk],
                    following=(t.pk in followed) if viewer is not None else None) for t in tags]


def list_out(lst) -> dict[str, Any]:
    """The List entity."""
    return {
        "id": str(lst.pk),
        "title": lst.title,
        "replies_policy": lst.replies_policy,
        "exclusive": lst.exclusive,
    }


# --- conversations and scheduled posts ------------------------------------------------


def conversations_out(rows: list, viewer: Account) -> list[dict[str, Any]]:
    """Conversation entities for rows of ``conversations.selectors`` (participants
    and last statuses loaded), the viewer's state of the statuses in bulk."""
    statuses = statuses_out([row.last_status for row in rows], viewer)
    return [{"id": str(row.pk), "unread": row.unread,
             "accounts": [account_out(a) for a in row.participants],
             "last_status": status}
            for row, status in zip(rows, statuses, strict=True)]


def scheduled_status_out(row) -> dict[str, Any]:
    """The ScheduledStatus entity: the time and the parameters the post will be
    published with (``params`` as Mastodon stores them; ``application_id`` 0 for a
    post scheduled from the web interface, which has no application). ``poll`` is
    ``{"options": [str], "expires_in": seconds, "multiple": bool, "hide_totals":
    bool}`` or null; ``quoted_status_id`` a string id or null; a
    ``quote_approval_policy`` the row lacks (posts scheduled before quotes could
    be) is left out, as Mastodon leaves out parameters not given."""
    media = sorted(row.media_attachments.all(), key=lambda m: row.media_ids.index(str(m.pk))
                   if str(m.pk) in row.media_ids else len(row.media_ids))
    return {
        "id": str(row.pk),
        "scheduled_at": iso(row.scheduled_at),
        "params": {
            "text": row.text,
            "poll": _scheduled_poll_out(row.poll),
            "media_ids": list(row.media_ids) or None,
            "sensitive": row.sensitive,
            "spoiler_text": row.spoiler_text or None,
            "visibility": row.visibility,
            "in_reply_to_id": row.in_reply_to_id,
            "language": row.language,
            "application_id": row.application_id or 0,
            "scheduled_at": None,
            "idempotency": row.idempotency,
            "with_rate_limit": False,
            "quoted_status_id": (str(row.quoted_status_id)
                                 if row.quoted_status_id is not None else None),
            "quote_approval_policy": row.quote_approval_policy or None,
        },
        "media_attachments": [media_attachment_out(m) for m in media],
    }


def _scheduled_poll_out(poll: dict | None) -> dict[str, Any] | None:
    """A scheduled post's poll as Mastodon's ``params.poll`` (``expires_in`` in
    seconds, an integer as the reference schema has it)."""
    if not poll:
        return None
    return {"options": list(poll["options"]), "expires_in": int(poll["expires_in"]),
            "multiple": bool(poll.get("multiple")),
            "hide_totals": bool(poll.get("hide_totals"))}
