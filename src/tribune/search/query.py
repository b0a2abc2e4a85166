"""The search box's language, parsed into plain data (Mastodon 4.2's operators,
https://docs.joinmastodon.org/user/network/#search), and written out as each
index's own query syntax.

User text never reaches the index's parser as syntax: a term is cut into word
tokens (``\\w+``: letters, digits, underscores), and each token is written as a
quoted string (FTS5) or a quoted lexeme (tsquery), so quotes, ``*``, ``NEAR(``,
``AND``/``OR``, ``-``, ``:`` or NUL characters are never operators. A query with no
word left finds nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

MAX_QUERY = 500  # characters of the query that are read (Mastodon's box holds less)
MAX_TERMS = 16  # terms and phrases, kept and excluded together
MAX_TOKEN = 200  # characters of one word; longer ones are not indexed words anyway

_WORD = re.compile(r"\w+")
# A quoted phrase, an operator ("from:x", "-has:media"), or a bare term.
_PART = re.compile(r'(-?)"([^"]*)"?|(-?)(\w+):(\S+)|(-?)(\S+)')


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: ``terms`` (each a tuple of word tokens, matched as a
    phrase; all must match), ``excluded`` (phrases that must not), and the
    operators. ``author`` is the username of ``from:`` ("me" for the searcher);
    dates are UTC bounds, ``before`` exclusive, ``after`` inclusive."""

    terms: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[tuple[str, ...], ...] = ()
    author: str | None = None
    has_media: bool | None = None
    is_reply: bool | None = None
    is_sensitive: bool | None = None
    language: str | None = None
    before: datetime | None = None
    after: datetime | None = None
    ignored: tuple[str, ...] = field(default=())  # operators not understood
    account_id: int | None = None  # the author, once the searcher's selector knows it

    @property
    def empty(self) -> bool:
        """Nothing to look for: no term to match."""
        return not self.terms


def tokens(text: str) -> tuple[str, ...]:
    """The word tokens of ``text`` (NFC), at most ``MAX_TOKEN`` characters each
    (longer ones are dropped)."""
    text = unicodedata.normalize("NFC", text)
    return tuple(t for t in _WORD.findall(text) if len(t) <= MAX_TOKEN)


def _day(value: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        return None


def parse(query: str) -> SearchQuery:
    """Parse the search box's ``query``. Understood operators (Mastodon's):
    ``from:username`` (``from:@user``, ``from:me``), ``has:media``, ``is:reply``,
    ``is:sensitive``, ``language:xx``, ``before:``/``after:``/``during:YYYY-MM-DD``,
    each negated with a leading ``-`` where it makes sense; ``"a quoted phrase"``;
    ``-word`` to exclude. An operator this does not know, or with a value it cannot
    read, is left out (listed in ``ignored``); it never raises."""
    query = query.replace("\x00", " ")[:MAX_QUERY]
    terms: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    options: dict = {}
    ignored: list[str] = []
    for match in _PART.finditer(query):
        phrase_neg, phrase, op_neg, op, value, word_neg, word = match.groups()
        if op is not None and _operator(op.lower(), value, negated=bool(op_neg), into=options):
            continue
        if op is not None and op.lower() in OPERATORS:
            ignored.append(match.group(0))
            continue
        if phrase is not None:
            negated, text = bool(phrase_neg), phrase
        elif op is not None:
            negated, text = bool(op_neg), f"{op}:{value}"
        else:
            negated, text = bool(word_neg), word
        found = tokens(text)
        if found and len(terms) + len(excluded) < MAX_TERMS:
            (excluded if negated else terms).append(found)
    return SearchQuery(terms=tuple(terms), excluded=tuple(excluded), ignored=tuple(ignored),
                       **options)


OPERATORS = ("from", "has", "is", "language", "before", "after", "during")


def _operator(op: str, value: str, *, negated: bool, into: dict) -> bool:
    """Record operator ``op:value`` into ``into``; False when not understood."""
    value_lower = value.lower()
    if op == "from" and not negated:
        username = value.lstrip("@").split("@")[0]
        if re.fullmatch(r"\w+", username):
            into["author"] = username
            return True
    elif op == "has" and value_lower == "media":
        into["has_media"] = not negated
        return True
    elif op == "is" and value_lower in ("reply", "sensitive"):
        into["is_" + value_lower] = not negated
        return True
    elif op == "language" and not negated and re.fullmatch(r"[a-z]{2,3}", value_lower):
        into["language"] = value_lower
        return True
    elif op in ("before", "after", "during") and not negated and (day := _day(value)):
        if op == "before":
            into["before"] = day
        elif op == "after":  # Mastodon: after the given day, i.e. from the next one
            into["after"] = day + timedelta(days=1)
        else:
            into["after"], into["before"] = day, day + timedelta(days=1)
        return True
    return False


def fts5_expression(query: SearchQuery) -> str:
    """``query``'s words as an FTS5 MATCH expression over the text columns: each
    phrase a quoted string (tokens are ``\\w+``, so they hold no quote), all terms
    required, excluded ones with NOT, and the author's id in its own column when
    ``account_id`` is set. "" for an empty query."""
    if query.empty:
        return ""
    def quoted(phrase: tuple[str, ...]) -> str:
        return '{spoiler_text text} : "' + " ".join(phrase) + '"'
    expression = " AND ".join(quoted(p) for p in query.terms)
    if query.account_id is not None:
        expression = f'account_id : "{int(query.account_id)}" AND ({expression})'

    for phrase in query.excluded:
        expression = f"({expression}) NOT {quoted(phrase)}"
    return expression


def tsquery_expression(query: SearchQuery) -> str:
    """``query``'s words as ``to_tsquery`` text: each token a quoted lexeme, the
    tokens of a phrase joined by ``<->``, terms by ``&``, excluded phrases with
    ``!``. "" for an empty query."""
    if query.empty:
        return ""
    def phrase(tokens_: tuple[str, ...]) -> str:
        return "(" + " <-> ".join(f"'{t}'" for t in tokens_) + ")"
    parts = [phrase(p) for p in query.terms] + ["!" + phrase(p) for p in query.excluded]
    return " & ".join(parts)
