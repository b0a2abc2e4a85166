"""X/Twitter archives ("Download an archive of your data"): the tweets come back.

The tweets are in ``data/tweets.js`` (``data/tweet.js`` in archives of about
2019-2022), continued in ``tweets-part1.js``, ``-part2``... for large accounts.
Each file is one JavaScript assignment, ``window.YTD.tweets.part0 = [...]``:
everything after the first ``=`` (and before a final ``;``) is JSON; the global's
name is not relied on, as it changed between versions. A record is
``{"tweet": {...}}``, or the tweet itself in early archives.

Each tweet becomes a post with its date (``created_at``, ``Tue Mar 05 14:02:11
+0000 2024``), its text with HTML entities decoded and t.co links replaced by
the addresses they stand for, its hashtags (linked as every post's are) and its
media files when the archive has them (``data/tweets_media/<tweet id>-<name>``,
``tweet_media/`` in 2020). Posts take the account's default visibility. A reply
to a tweet of the same archive becomes a reply again, wherever the files list
it (tweets are applied oldest first, and never before their parent:
``archive_posts.parents_first``); otherwise the leading ``@handles`` of a reply
are dropped and it is imported on its own. ``@handles`` are X's, so they stay
plain text and are never linked to accounts here. Retweets (``RT @...``,
truncated by X) are reported, not imported.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from posixpath import dirname
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from tribune.core.errors import ValidationFailed
from tribune.portability.archive_posts import (
    ArchivedMedia,
    ArchivedPost,
    Planned,
    parents_first,
    post_step,
)
from tribune.portability.archive_reader import (
    Archive,
    ArchiveError,
    NestedTooDeeply,
    parse_json,
)
from tribune.portability.models import Import, RowResult
from tribune.portability.rows import Plan, Step

SOURCE = "x"
JSON_LIMIT = 256 * 1024 * 1024
TWEET_FILES = ("data/tweets.js", "data/tweet.js")
_PART = re.compile(r"(?P<base>tweets?)-part(?P<n>[0-9]+)\.js")
_LEADING_HANDLES = re.compile(r"^(?:@\w{1,15}\s+)+")


def check(archive: Archive) -> None:
    """Raise ArchiveError unless ``archive`` holds X's tweets file."""
    if archive.locate(*TWEET_FILES) is None:
        raise ArchiveError(_("This is not an X archive: it has no data/tweets.js."))


def ytd(data: bytes, name: str) -> Any:
    """The JSON value of one ``window.YTD.<type>.part<N> = ...`` file."""
    try:
        text = data.decode("utf-8-sig")
        body = text[text.index("=") + 1:].strip().rstrip(";")
    except (ValueError, UnicodeDecodeError):
        raise ArchiveError(_("%(name)s in the archive cannot be read as X's data file.")
                           % {"name": name}) from None
    try:
        return parse_json(body, name)
    except NestedTooDeeply:
        raise
    except ArchiveError:
        raise ArchiveError(_("%(name)s in the archive cannot be read as X's data file.")
                           % {"name": name}) from None


def _tweet_files(archive: Archive) -> list[str]:
    first = archive.locate(*TWEET_FILES)
    folder = dirname(first)
    base = "tweets" if first.endswith("tweets.js") else "tweet"
    parts = []
    for name in archive.names:
        match = _PART.fullmatch(name[len(folder) + 1:]) if dirname(name) == folder else None
        if match and match["base"] == base:
            parts.append((int(match["n"]), name))
    return [first, *(name for _n, name in sorted(parts))]


def _date(value: Any) -> datetime:
    try:
        return datetime.strptime(str(value), "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        raise ValidationFailed(_("The tweet's date %(date)s cannot be read.")
                               % {"date": str(value)[:40]}) from None


def _text(tweet: dict) -> str:
    text = html.unescape(str(tweet.get("full_text") or tweet.get("text") or ""))
    entities = tweet.get("entities") if isinstance(tweet.get("entities"), dict) else {}
    for url in entities.get("urls") or []:
        if isinstance(url, dict) and url.get("url") and url.get("expanded_url"):
            text = text.replace(str(url["url"]), str(url["expanded_url"]))
    media = [*(entities.get("media") or []),
             *((tweet.get("extended_entities") or {}).get("media") or [])]
    for item in media:  # the link to the tweet's own media: the files are attached
        if isinstance(item, dict) and item.get("url"):
            text = text.replace(str(item["url"]), "")
    if tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_user_id_str"):
        text = _LEADING_HANDLES.sub("", text)
    return text.strip()


def _media_index(archive: Archive, media_dirs: list[str]) -> dict[str, list[str]]:
    """The media files of the archive by tweet id (``<folder>/<id>-<name>``)."""
    index: dict[str, list[str]] = {}
    for name in sorted(archive.names):
        folder, _slash, base = name.rpartition("/")
        tweet_id, dash, _rest = base.partition("-")
        if folder in media_dirs and dash and tweet_id.isdigit():
            index.setdefault(tweet_id, []).append(name)
    return index


def _post(account, tweet: dict, media: dict[str, list[str]]) -> ArchivedPost:
    tweet_id = str(tweet.get("id_str") or tweet.get("id") or "")
    if not tweet_id.isdigit():
        raise ValidationFailed(_("The tweet has no id."))
    extended = (tweet.get("extended_entities") or {}).get("media") or \
        (tweet.get("entities") or {}).get("media") or []
    files = media.get(tweet_id, [])
    missing = max(0, len(extended) - len(files))
    reply_to = tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
    language = tweet.get("lang") if isinstance(tweet.get("lang"), str) else None
    return ArchivedPost(
        source=SOURCE, source_id=tweet_id, text=_text(tweet),
        created_at=_date(tweet.get("created_at")), visibility=account.default_visibility,
        sensitive=tweet.get("possibly_sensitive") is True,
        language=language if language not in ("und", "zxx", "qme", "qht", "qst") else None,
        reply_to=str(reply_to) if reply_to else None,
        media=[ArchivedMedia(member=name) for name in files], missing_media=missing,
        link_mentions=False)


def _fixed(item: str, result: str, reason: str) -> Step:
    return Step(item=item, apply=lambda _prepared: (result, reason))


def plan(batch: Import, archive: Archive) -> Plan:
    """The rows of an X archive, one per tweet in file order; applied oldest
    first so that replies find their parents."""
    check(archive)
    records: list[Any] = []
    for name in _tweet_files(archive):
        value = ytd(archive.read(name, limit=JSON_LIMIT), name)
        if not isinstance(value, list):
            raise ArchiveError(_("%(name)s in the archive has no list of tweets.")
                               % {"name": name})
        records += value
        if len(records) > settings.TRIBUNE_IMPORT_MAX_POSTS:
            raise ValidationFailed(_("The archive has more than %(limit)d posts.")
                                   % {"limit": settings.TRIBUNE_IMPORT_MAX_POSTS})
    folder = dirname(archive.locate(*TWEET_FILES))
    media = _media_index(archive, [f"{folder}/tweets_media", f"{folder}/tweet_media"])
    account = batch.account

    first = float("-inf")

    def row(number: int, record: Any) -> Planned:
        tweet = record.get("tweet", record) if isinstance(record, dict) else None
        if not isinstance(tweet, dict):
            return Planned(number, _fixed(_("an entry"), RowResult.FAILED,
                                          _("This is not a tweet.")), first)
        label = str(tweet.get("id_str") or _("a tweet"))
        if str(tweet.get("full_text") or "").startswith("RT @"):
            return Planned(number, _fixed(label, RowResult.SKIPPED, _(
                "Retweets are not imported: X keeps only their first characters.")), first)
        try:
            post = _post(account, tweet, media)
        except ValidationFailed as exc:
            return Planned(number, _fixed(label, RowResult.FAILED, str(exc)), first)
        return Planned(number, post_step(account, archive, post),
                       post.created_at.timestamp(), post)

    def steps():
        yield from parents_first(row(number, record)
                                 for number, record in enumerate(records, start=1))

    return Plan(total=len(records), steps=steps())
