"""Which of a viewer's filters a post matches (Mastodon's CustomFilter
``apply_cached_filters`` and CustomFilterKeyword#to_regex).

A keyword matches case-insensitively anywhere in the post's searchable text; a
``whole_word`` keyword must also sit between word boundaries (``\\b``), on the
sides where it starts or ends with a word character, exactly as Mastodon builds
its regular expression. Text and keywords are compared in Unicode NFC, so a
composed "é" matches a decomposed one; accents are otherwise significant, as in
Mastodon ("café" does not match "cafe").

A viewer's active filters are compiled once (:class:`ViewerFilters`) and then
applied to every post of a page without further queries.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tribune.core.text import html_to_text


def keyword_pattern(keyword: str, *, whole_word: bool) -> re.Pattern[str]:
    """The compiled pattern of one keyword (CustomFilterKeyword#to_regex): the
    escaped phrase, case-insensitive, with ``\\b`` on a side that begins or ends
    with a word character when ``whole_word``."""
    phrase = unicodedata.normalize("NFC", keyword)
    body = re.escape(phrase)
    if whole_word:
        start = r"\b" if re.match(r"\w", phrase) else ""
        end = r"\b" if re.search(r"\w\Z", phrase) else ""
        body = start + body + end
    return re.compile(body, re.IGNORECASE)


def searchable_text(
    *,
    spoiler_text: str,
    content_html: str,
    poll_options: Iterable[str] = (),
    media_descriptions: Iterable[str | None] = (),
) -> str:
    """What keywords are matched against (Status#searchable_text): the content
    warning, the post's text without markup, its poll's options and its media's
    descriptions, separated by blank lines, in NFC."""
    parts = [
        spoiler_text,
        html_to_text(content_html),
        "\n\n".join(poll_options),
        "\n\n".join(d for d in media_descriptions if d),
    ]
    return unicodedata.normalize("NFC", "\n\n".join(p for p in parts if p))


@dataclass(frozen=True)
class CompiledFilter:
    """One active filter ready to apply: its row fields, its keywords as
    ``(keyword, pattern)`` pairs and the ids of its statuses."""

    id: int
    title: str
    context: frozenset[str]
    filter_action: str
    expires_at: datetime | None
    keywords: tuple[tuple[str, re.Pattern[str]], ...]
    status_ids: frozenset[int]


@dataclass(frozen=True)
class FilterMatch:
    """A filter a post matched (the FilterResult entity): the keywords found in
    its text and the ids (the post's, or the boosted post's) among its statuses."""

    filter: CompiledFilter
    keyword_matches: tuple[str, ...]
    status_matches: tuple[int, ...]


@dataclass(frozen=True)
class ViewerFilters:
    """A viewer's active filters, compiled (``selectors.viewer_filters`` loads
    them). ``ViewerFilters(())`` stands for a visitor or a person without filters."""

    filters: tuple[CompiledFilter, ...]

    def __bool__(self) -> bool:
        return bool(self.filters)

    def match(
        self, *, text: str, status_ids: Iterable[int], context: str | None
    ) -> list[FilterMatch]:
        """The filters applying in ``context`` (every one when None, as Mastodon's
        single-status answers) that ``text`` or one of ``status_ids`` matches."""
        ids = set(status_ids)
        found = []
        for compiled in self.filters:
            if context is not None and context not in compiled.context:
                continue
            words = tuple(
                keyword
                for keyword, pattern in compiled.keywords
                if pattern.search(text)
            )
            statuses = tuple(sorted(ids & compiled.status_ids))
            if words or statuses:
                found.append(FilterMatch(compiled, words, statuses))
        return found


def hides(matches: Iterable[FilterMatch]) -> bool:
    """Whether one of ``matches`` is a ``hide`` filter (the post is left out)."""
    return any(m.filter.filter_action == "hide" for m in matches)
