"""Posts read from an archive, imported one row at a time: their media first
(through ``media.services.media_create``, so every file is checked, cleaned and
re-encoded as an upload is), then the post with ``statuses.importing.status_import``
and the ``ImportedItem`` that remembers where it came from, in one transaction.

A post already imported (by its source and id there) is skipped before its media
are touched. A media file that is refused fails the post's row and deletes the
files processed for it; a file the archive does not have is left out and said so.

Posts are applied oldest first, and a reply never before its parent of the same
archive (``parents_first``), whatever order the archive lists them in, so that
replies are threaded under their parents.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import NamedTuple

from django.conf import settings
from django.core.files import File
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribune.accounts.models import Account
from tribune.core.errors import DomainError, ValidationFailed
from tribune.media.processing import max_image_bytes
from tribune.media.services import (
    DESCRIPTION_LIMIT,
    MAX_ATTACHMENTS,
    media_create,
    media_delete,
)
from tribune.portability.archive_reader import Archive, ArchiveError
from tribune.portability.models import ImportedItem, RowResult
from tribune.portability.rows import Outcome, Step
from tribune.portability.selectors import imported_status, status_for_uri
from tribune.statuses.importing import status_import
from tribune.statuses.policy import can_view
from tribune.statuses.polls import PollResults

_ALREADY = object()


@dataclass(frozen=True)
class ArchivedMedia:
    """One attachment: its member in the archive, alt text and focal point."""

    member: str
    description: str = ""
    focus: str | None = None


@dataclass(frozen=True)
class ArchivedPost:
    """One post as an archive has it. ``source`` and ``source_id`` identify it
    there ("mastodon" and the post's ActivityPub id; "x" and the tweet's id);
    ``reply_to`` is its parent's id in the same source."""

    source: str
    source_id: str
    text: str
    created_at: datetime
    visibility: str
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    reply_to: str | None = None
    media: list[ArchivedMedia] = field(default_factory=list)
    missing_media: int = 0
    link_mentions: bool = True
    poll: PollResults | None = None

    @property
    def label(self) -> str:
        words = " ".join(self.text.split())
        snippet = words if len(words) <= 80 else words[:79] + "…"
        return f"{self.created_at:%Y-%m-%d %H:%M} {snippet}".strip()


def _media_limit() -> int:
    return max(max_image_bytes(), settings.TRIBUNE_MEDIA_MAX_VIDEO_BYTES)


def _upload(account: Account, archive: Archive, media: ArchivedMedia):
    """One attachment made from an archive member (ValidationFailed naming it)."""
    name = PurePosixPath(media.member).name
    handle, path = tempfile.mkstemp(prefix="tribune-import-media-")
    try:
        with os.fdopen(handle, "w+b") as out:
            archive.copy(media.member, out, limit=_media_limit())
            out.seek(0)
            return media_create(account=account, upload=File(out, name=name),
                                description=media.description[:DESCRIPTION_LIMIT],
                                focus=media.focus, process_now=True)
    except ArchiveError:
        raise  # says itself which member of the archive is damaged or too large
    except DomainError as exc:
        raise ValidationFailed(_("The media file %(file)s was refused: %(reason)s")
                               % {"file": name, "reason": exc}) from None
    finally:
        os.unlink(path)


def post_step(account: Account, archive: Archive, post: ArchivedPost) -> Step:
    """The import row of ``post``."""

    def prepare():
        if imported_status(account=account, source=post.source, source_id=post.source_id):
            return _ALREADY
        made = []
        try:
            for media in post.media[:MAX_ATTACHMENTS]:
                made.append(_upload(account, archive, media))
        except BaseException:
            discard(made)
            raise
        return made

    def discard(made) -> None:
        if made is _ALREADY:
            return
        for media in made:
            # Attached meanwhile, or gone: nothing of ours is left to delete.
            with contextlib.suppress(DomainError):
                media_delete(account=account, media_id=media.pk)

    def apply(made) -> Outcome:
        # Asked again inside the row's transaction: a twin run may have imported it
        # since ``prepare``; the post's origin decides, never its id.
        if made is _ALREADY or imported_status(account=account, source=post.source,
                                               source_id=post.source_id):
            if made is not _ALREADY:
                discard(made)
            return RowResult.SKIPPED, _("Already imported.")
        notes = []
        parent = None
        if post.reply_to:
            parent = imported_status(account=account, source=post.source,
                                     source_id=post.reply_to)
            if parent is None and post.source == "mastodon":
                parent = status_for_uri(account=account, uri=post.reply_to)
            if parent is not None and not can_view(account, parent):
                parent = None
            if parent is None:
                notes.append(_("It was a reply to a post that is not on this server; it "
                               "is imported on its own."))
        status = status_import(
            account=account, text=post.text, created_at=post.created_at,
            visibility=post.visibility, spoiler_text=post.spoiler_text,
            sensitive=post.sensitive, language=post.language, in_reply_to=parent,
            media_ids=[m.pk for m in made], link_mentions=post.link_mentions,
            origin=f"{post.source}:{post.source_id}", poll=post.poll)
        ImportedItem.objects.create(account=account, source=post.source,
                                    source_id=post.source_id, status=status)
        left_out = post.missing_media + max(0, len(post.media) - MAX_ATTACHMENTS)
        if left_out:
            notes.append(ngettext("%(count)d media file was left out (not in the archive, "
                                  "or over four).",
                                  "%(count)d media files were left out (not in the archive, "
                                  "or over four).", left_out) % {"count": left_out})
        return RowResult.IMPORTED, " ".join(notes)

    return Step(item=post.label, apply=apply, prepare=prepare, discard=discard)


class Planned(NamedTuple):
    """One row of an archive before ordering: its number, its step, the time it
    sorts by (rows that are not posts sort first) and its post, if it is one."""

    number: int
    step: Step
    when: float
    post: ArchivedPost | None = None


def parents_first(rows: Iterable[Planned]) -> list[tuple[int, Step]]:
    """``rows`` oldest first (then in file order), except that a reply to a post
    of the same archive comes right after its parent when it would come before
    (a clock set wrong, ids out of order, a file listing replies first), so that
    it is threaded under it. Replies in a loop keep their place at the end."""
    ordered = sorted(rows, key=lambda r: (r.when, r.number))
    present = {r.post.source_id for r in ordered if r.post is not None}
    emitted: set[str] = set()
    waiting: dict[str, list[Planned]] = {}
    out: list[tuple[int, Step]] = []

    def emit(row: Planned) -> None:
        stack = [row]
        while stack:
            current = stack.pop()
            out.append((current.number, current.step))
            if current.post is not None and current.post.source_id not in emitted:
                emitted.add(current.post.source_id)
                stack.extend(reversed(waiting.pop(current.post.source_id, [])))

    for row in ordered:
        parent = row.post.reply_to if row.post is not None else None
        if (parent is not None and parent in present and parent not in emitted
                and parent != row.post.source_id):
            waiting.setdefault(parent, []).append(row)
        else:
            emit(row)
    for rest in sorted((r for rows in waiting.values() for r in rows),
                       key=lambda r: (r.when, r.number)):
        out.append((rest.number, rest.step))
    return out
