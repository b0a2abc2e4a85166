"""Mastodon's account archive ("Request your archive"; BackupService), as zip or,
from older releases, gzip tar: what of it comes back.

* ``outbox.json``: each ``Create`` of a ``Note`` is a post, imported with its
  original date, visibility (read back from ``to``/``cc``,
  ``federation.serializers.visibility_of``), content warning, sensitivity,
  language (``contentMap``) and attachments (the archive's files, processed as
  uploads). Replies to posts of the same archive become replies again; replies
  to others' posts are imported on their own. The HTML content becomes the plain
  text it was written as: mentions keep their full ``@user@domain`` from the
  ``tag`` list, so they link only to the account they meant. A post with a poll
  (a ``Question``) comes back with its poll closed, with its counts
  (``oneOf``/``anyOf``, ``endTime``, ``votersCount``). Boosts (``Announce``) are
  reported, not imported, and so is a post whose ``attributedTo`` is another
  actor than the archive's.
* ``bookmarks.json``: posts of this server bookmarked again (your own imported
  posts included, found by their old ids).
* ``likes.json``: reported, not imported (favouriting notifies the author).
* ``move.json`` (an archive of a Tribune instance the account moved away from):
  the signed move statement, checked with the old instance (``moving``).
* ``actor.json``: display name, bio and pictures (``archive_profile``).
* the CSV files Tribune's own archive carries (``exports``): following, blocks,
  mutes, bookmarks and lists, each line applied as the same file imported on its
  own would be (``imports.csv_steps``); bookmarks that ``bookmarks.json`` lists
  already are not repeated. ``follower_accounts.csv`` is reported, not imported:
  followers choose to follow.

Rows are numbered in file order: the outbox's items, then the bookmarks, then a
row for the likes and one for the move statement, then the profile's rows, then
each CSV file's lines. Posts are applied oldest first and never before their
parent in the archive (``archive_posts.parents_first``), so a reply finds its
parent. A JSON member nested too deeply fails the import with that reason.
"""

from __future__ import annotations

from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribune.accounts.models import Account
from tribune.core.errors import ValidationFailed
from tribune.federation.serializers import visibility_of
from tribune.portability.archive_posts import (
    ArchivedMedia,
    ArchivedPost,
    Planned,
    parents_first,
    post_step,
)
from tribune.portability.archive_profile import profile_steps
from tribune.portability.archive_reader import Archive, ArchiveError, parse_json
from tribune.portability.csvfiles import read_rows
from tribune.portability.imports import bookmark_steps, csv_steps
from tribune.portability.models import Import, ImportKind, RowResult
from tribune.portability.moving import move_statement_accept
from tribune.portability.rows import Outcome, Plan, Step
from tribune.statuses.polls import PollResults, poll_results

SOURCE = "mastodon"
JSON_LIMIT = 256 * 1024 * 1024
_FIRST = float("-inf")
# The CSV files of Tribune's own archive that come back, in the order applied
# (follows before lists, which hold only followed accounts), and their kinds.
ARCHIVE_CSVS = (("following_accounts.csv", ImportKind.FOLLOWING),
                ("blocked_accounts.csv", ImportKind.BLOCKS),
                ("muted_accounts.csv", ImportKind.MUTES),
                ("bookmarks.csv", ImportKind.BOOKMARKS),
                ("lists.csv", ImportKind.LISTS))
FOLLOWERS_CSV = "follower_accounts.csv"


def check(archive: Archive) -> None:
    """Raise ArchiveError unless ``archive`` looks like a Mastodon archive."""
    if archive.locate("outbox.json") is None:
        raise ArchiveError(_("This is not a Mastodon archive: it has no outbox.json."))


def _json(archive: Archive, name: str, *, required: bool = False) -> Any:
    member = archive.locate(name)
    if member is None:
        if required:
            raise ArchiveError(_("This is not a Mastodon archive: it has no %(name)s.")
                               % {"name": name})
        return None
    return parse_json(archive.read(member, limit=JSON_LIMIT), name)


def _items(document: Any, name: str) -> list:
    items = document.get("orderedItems") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ArchiveError(_("%(name)s in the archive has no list of items.") % {"name": name})
    return items


# --- from HTML back to text ---------------------------------------------------------


class _Text(HTMLParser):
    """Mastodon's post HTML back to the text it was written as: paragraphs and line
    breaks, links as their full address (the hidden spans hold the rest), mentions
    as ``@user@domain``."""

    def __init__(self, mentions: dict[str, str]):
        super().__init__(convert_charrefs=True)
        self.mentions = mentions
        self.parts: list[str] = []
        self.anchor: dict[str, str] | None = None
        self.anchor_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self._add("\n")
        elif tag == "p" and self.parts:
            self._add("\n\n")
        elif tag == "a":
            self.anchor = {k: v or "" for k, v in attrs}
            self.anchor_text = []

    def handle_endtag(self, tag):
        if tag == "a" and self.anchor is not None:
            text = "".join(self.anchor_text)
            classes = self.anchor.get("class", "").split()
            href = self.anchor.get("href", "")
            if "mention" in classes and "hashtag" not in classes:
                text = self.mentions.get(href) or _handle_from(href) or text
            self.anchor = None
            self.parts.append(text)

    def handle_data(self, data):
        self._add(data)

    def _add(self, text: str) -> None:
        if self.anchor is not None:
            self.anchor_text.append(text)
        else:
            self.parts.append(text)


def _handle_from(href: str) -> str | None:
    """``@user@host`` from a profile address ``https://host/@user`` or
    ``https://host/users/user``; None for anything else."""
    parts = urlsplit(href)
    path = parts.path.rstrip("/")
    if not parts.netloc:
        return None
    for prefix in ("/@", "/users/"):
        user = path[len(prefix):]
        if path.startswith(prefix) and user and "/" not in user:
            return _handle(user, parts.netloc)
    return None


def _handle(user: str, host: str) -> str:
    """``@user@host``, or ``@user`` when ``host`` is this instance (an archive made
    here), so that the mention links to the account it meant."""
    if host.lower() == settings.TRIBUNE_DOMAIN.lower():
        return f"@{user}"
    return f"@{user}@{host}"


def _mentions(tags: Any) -> dict[str, str]:
    """Mention hrefs to ``@user@domain``. Mastodon names local mentions without
    their domain (``@carol``); the domain is then the href's host, never this
    instance's."""
    found = {}
    for tag in tags if isinstance(tags, list) else []:
        if not isinstance(tag, dict) or tag.get("type") != "Mention":
            continue
        href, name = str(tag.get("href", "")), str(tag.get("name", ""))
        if not href or not name.startswith("@"):
            continue
        user, _at, host = name[1:].partition("@")
        host = host or urlsplit(href).netloc
        found[href] = _handle(user, host) if host else name
    return found


def note_text(content: str, tags: Any) -> str:
    parser = _Text(_mentions(tags))
    parser.feed(content or "")
    parser.close()
    return "".join(parser.parts).strip()


# --- posts ---------------------------------------------------------------------------


def _date(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValidationFailed(_("The post has no date."))
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(_("The post's date %(date)s cannot be read.")
                               % {"date": value[:40]}) from None
    if parsed.tzinfo is None:
        raise ValidationFailed(_("The post's date %(date)s has no time zone.")
                               % {"date": value[:40]})
    return parsed


def _media(archive: Archive, attachments: Any) -> tuple[list[ArchivedMedia], int]:
    found, missing = [], 0
    for item in attachments if isinstance(attachments, list) else []:
        if not isinstance(item, dict) or item.get("type") == "Link":
            continue  # a preview card, not a file
        url = str(item.get("url") or "").lstrip("/")
        member = archive.locate(url) if url and "://" not in url else None
        if member is None:
            missing += 1
            continue
        focus = item.get("focalPoint")
        focus_text = (f"{float(focus[0])},{float(focus[1])}"
                      if isinstance(focus, list) and len(focus) == 2
                      and all(isinstance(v, int | float) and -1 <= v <= 1 for v in focus)
                      else None)
        found.append(ArchivedMedia(member=member, description=str(item.get("name") or ""),
                                   focus=focus_text))
    return found, missing


def _as_list(value: Any) -> list[str]:
    """``to``/``cc`` may be one id or a list of them (AS2 allows both)."""
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _post(archive: Archive, note: dict, followers: str | None) -> ArchivedPost:
    source_id = note.get("id")
    if not isinstance(source_id, str) or not source_id:
        raise ValidationFailed(_("The post has no id."))
    content_map = note.get("contentMap")
    language = next(iter(content_map), None) if isinstance(content_map, dict) else None
    media, missing = _media(archive, note.get("attachment"))
    reply_to = note.get("inReplyTo")
    return ArchivedPost(
        source=SOURCE, source_id=source_id,
        text=note_text(str(note.get("content") or ""), note.get("tag")),
        created_at=_date(note.get("published")),
        visibility=visibility_of(_as_list(note.get("to")), _as_list(note.get("cc")),
                                 followers=followers),
        spoiler_text=str(note.get("summary") or ""), sensitive=note.get("sensitive") is True,
        language=language if isinstance(language, str) else None,
        reply_to=reply_to if isinstance(reply_to, str) else None,
        media=media, missing_media=missing,
        poll=_poll(note) if note.get("type") == "Question" else None)


def _poll(question: dict) -> PollResults:
    """The poll of a ``Question`` (Mastodon's NoteSerializer: ``oneOf`` or ``anyOf``
    options named by ``name``, their votes in ``replies.totalItems``; ``endTime``,
    or ``closed`` once ended; ``votersCount``)."""
    multiple = isinstance(question.get("anyOf"), list)
    options = question.get("anyOf") if multiple else question.get("oneOf")
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        raise ValidationFailed(_("The poll's choices cannot be read."))
    titles = [o.get("name") if isinstance(o.get("name"), str) else "" for o in options]
    tallies = [(o.get("replies") or {}).get("totalItems", 0)
               if isinstance(o.get("replies"), dict | None) else -1 for o in options]
    end = question.get("endTime") or question.get("closed") or question.get("published")
    try:
        ends_at = _date(end)
    except ValidationFailed:
        raise ValidationFailed(_("The poll's end cannot be read.")) from None
    return poll_results(options=titles, tallies=tallies, multiple=multiple, ends_at=ends_at,
                        voters_count=question.get("votersCount"))


def _ids(value: Any) -> list[str]:
    """The ids an ``attributedTo`` names: one id, an object with one, or a list."""
    values = value if isinstance(value, list) else [value]
    found = [v.get("id") if isinstance(v, dict) else v for v in values]
    return [v for v in found if isinstance(v, str)]


def _outbox_row(account: Account, archive: Archive, number: int, item: Any,
                followers: str | None, owner: str | None) -> Planned:
    """The row of one outbox item, with the time it sorts by (rows that are not
    posts first). ``owner`` is the archive's actor id, when known."""
    kind = item.get("type") if isinstance(item, dict) else None
    obj = item.get("object") if isinstance(item, dict) else None
    if kind == "Create" and isinstance(obj, dict) and obj.get("type") in ("Note", "Question"):
        owner = owner or (item.get("actor") if isinstance(item.get("actor"), str) else None)
        authors = _ids(obj.get("attributedTo"))
        if owner and authors and owner not in authors:
            return Planned(number, _fixed(
                str(obj.get("id") or _("a post")), RowResult.SKIPPED,
                _("This post is by another account (%(author)s); only your own posts are "
                  "imported.") % {"author": authors[0][:200]}), _FIRST)
        try:
            post = _post(archive, obj, followers)
        except ValidationFailed as exc:
            return Planned(number, _fixed(str(obj.get("id") or _("a post")),
                                          RowResult.FAILED, str(exc)), _FIRST)
        return Planned(number, post_step(account, archive, post),
                       post.created_at.timestamp(), post)
    label = str((obj.get("id") if isinstance(obj, dict) else obj) or kind or _("an item"))
    if kind == "Announce":
        step = _fixed(label, RowResult.SKIPPED, _("Boosts are not imported; the boosted "
                                                  "post stays with its author."))
    else:
        step = _fixed(label, RowResult.SKIPPED, _("This is not a post."))
    return Planned(number, step, _FIRST)


def _fixed(item: str, result: str, reason: str) -> Step:
    return Step(item=item, apply=lambda _prepared: (result, reason))


def _move_step(account: Account, document: Any) -> Step:
    def apply(_prepared) -> Outcome:
        old = move_statement_accept(account=account, document=document)
        return RowResult.IMPORTED, _("%(uri)s is now an alias of this account.") % {"uri": old}

    return Step(item="move.json", apply=apply)


def _csv_rows(account: Account, archive: Archive, skip_uris: set[str]) -> list[Step]:
    """The rows of the CSV files of Tribune's own archive (``ARCHIVE_CSVS``), each
    item prefixed with its file; a file that cannot be read is one failed row."""
    steps: list[Step] = []
    for name, kind in ARCHIVE_CSVS:
        member = archive.locate(name)
        if member is None:
            continue
        try:
            rows = read_rows(archive.read(member, limit=settings.TRIBUNE_IMPORT_MAX_CSV_BYTES),
                             kind=kind)
        except ValidationFailed as exc:
            steps.append(_fixed(name, RowResult.FAILED, str(exc)))
            continue
        if kind == ImportKind.BOOKMARKS:
            rows = [row for row in rows if row.get("#uri") not in skip_uris]
        for _line, step in csv_steps(account, kind, rows):
            steps.append(Step(item=f"{name}: {step.item}", apply=step.apply,
                              prepare=step.prepare, discard=step.discard))
    member = archive.locate(FOLLOWERS_CSV)
    if member is not None and archive.size(member):
        steps.append(_fixed(FOLLOWERS_CSV, RowResult.SKIPPED, _(
            "Followers are not imported: each of them chooses to follow you.")))
    return steps


def plan(batch: Import, archive: Archive) -> Plan:
    """The rows of a Mastodon archive (see the module's docstring)."""
    account = batch.account
    check(archive)
    outbox = _items(_json(archive, "outbox.json", required=True), "outbox.json")
    if len(outbox) > settings.TRIBUNE_IMPORT_MAX_POSTS:
        raise ValidationFailed(
            _("The archive has more than %(limit)d posts.")
            % {"limit": settings.TRIBUNE_IMPORT_MAX_POSTS})
    actor = _json(archive, "actor.json")
    actor = actor if isinstance(actor, dict) else None
    followers = actor.get("followers") if actor else None
    followers = followers if isinstance(followers, str) else None
    owner = actor.get("id") if actor else None
    owner = owner if isinstance(owner, str) else None
    bookmarks_doc = _json(archive, "bookmarks.json")
    bookmarks = ([u for u in _items(bookmarks_doc, "bookmarks.json") if isinstance(u, str)]
                 if bookmarks_doc is not None else [])
    likes_doc = _json(archive, "likes.json")
    likes = _items(likes_doc, "likes.json") if likes_doc is not None else []
    move = _json(archive, "move.json")
    summary = actor.get("summary") if actor else None
    extra = [*profile_steps(account, archive, actor,
                            note_text(summary, actor.get("tag"))
                            if isinstance(summary, str) else ""),
             *_csv_rows(account, archive, set(bookmarks))]

    def steps():
        yield from parents_first(
            _outbox_row(account, archive, number, item, followers, owner)
            for number, item in enumerate(outbox, start=1))
        yield from bookmark_steps(account, bookmarks, first=len(outbox) + 1)
        number = len(outbox) + len(bookmarks) + 1
        if likes:
            yield number, _fixed("likes.json", RowResult.SKIPPED, ngettext(
                "%(count)d favourite is not imported: favouriting again would notify "
                "its author.",
                "%(count)d favourites are not imported: favouriting again would notify "
                "their authors.", len(likes)) % {"count": len(likes)})
            number += 1
        if move is not None:
            yield number, _move_step(account, move)
            number += 1
        for offset, step in enumerate(extra):
            yield number + offset, step

    total = len(outbox) + len(bookmarks) + bool(likes) + (move is not None) + len(extra)
    return Plan(total=total, steps=steps())
