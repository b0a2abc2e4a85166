"""Plain text in, sanitised HTML out: mentions, hashtags and links.

Rules follow Mastodon's app/lib/text_formatter.rb and app/models/account.rb
(MENTION_RE) and tag.rb (HASHTAG_RE), ported to Python's Unicode-aware ``re``:

* a mention is ``@user`` or ``@user@domain`` not preceded by a word character, ``=``
  or ``/``; usernames are ``[a-z0-9_]`` (case-insensitive);
* a hashtag is ``#`` followed by letters, combining marks, digits and underscores
  with at least one letter, not preceded by a letter, digit, ``_``, ``=``, ``/`` or
  ``)``; zero-width joiners and other invisible characters end it; text is NFC
  normalised first, so ``cafe`` + a combining acute is ``café``; its matching key is
  NFKC + casefold + Latin letters folded to ASCII (see :func:`normalize_tag`), its
  display name the text as written;
* length is counted in grapheme clusters (what a reader sees as one character);
  URLs (found by linkify-it-py) count as 23, and a remote mention counts only its
  ``@user`` part (Mastodon's StatusLengthValidator).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import nh3
import regex
from linkify_it import LinkifyIt

URL_PLACEHOLDER_LENGTH = 23

MENTION_RE = re.compile(
    r"(?<![=/\w])@(?P<username>[a-z0-9_]+(?:[a-z0-9_.\-]*[a-z0-9_])?)"
    r"(?:@(?P<domain>[\w.\-]+\w))?",
    re.IGNORECASE,
)
HASHTAG_RE = regex.compile(
    r"(?<![=/)\p{L}\p{N}_])#(?P<name>(?=[\p{L}\p{M}\p{N}_]*\p{L})[\p{L}\p{M}\p{N}_]+)")
GRAPHEME_RE = regex.compile(r"\X")

_linkify = LinkifyIt(options={"fuzzy_link": False, "fuzzy_email": False})


# Latin letters with no ASCII base under canonical decomposition, and their
# ASCII letter (the Latin-1 and Latin Extended-A part of Lucene's ASCIIFoldingFilter,
# which Mastodon's HashtagNormalizer applies). ``ß``, ``æ``, ``œ`` and ``þ`` are
# kept, as Mastodon keeps them.
_LATIN_WITHOUT_BASE = {"ð": "d", "đ": "d", "ħ": "h", "ı": "i", "ĸ": "k", "ŀ": "l",
                       "ł": "l", "ŋ": "n", "ø": "o", "ſ": "s", "ŧ": "t"}


def _fold_latin(char: str) -> str:
    """``char`` without its diacritics when it is a Latin-1 or Latin Extended-A
    letter (U+00C0 to U+017F): ``é`` -> ``e``, ``ł`` -> ``l``; any other character
    as it is, so other scripts' combining marks (Devanagari vowel signs, kana
    voicing marks) keep their meaning."""
    if not "\u00c0" <= char <= "\u017f":
        return char
    if char in _LATIN_WITHOUT_BASE:
        return _LATIN_WITHOUT_BASE[char]
    base = unicodedata.normalize("NFD", char)[0]
    return base if base.isascii() and base.isalpha() else char


def normalize_tag(name: str) -> str:
    """The matching key of a hashtag: NFKC, casefold, then Latin letters folded to
    ASCII (``#ＣＡＴＳ`` -> ``cats``, ``#Café`` -> ``cafe``, ``#Zähler`` -> ``zahler``),
    as Mastodon's HashtagNormalizer (app/lib/hashtag_normalizer.rb) matches tags:
    ``#café`` and ``#cafe`` are one hashtag. Returns a ``str``, never longer than
    the NFKC-casefolded name."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(_fold_latin(char) for char in folded)


def normalize_username(name: str) -> str:
    """The matching key of a username: lower case."""
    return name.lower()


@dataclass(frozen=True)
class Token:
    """One special span of a text: ``kind`` is "url", "mention" or "hashtag"."""

    kind: str
    start: int
    end: int
    value: str  # the URL, "user" / "user@domain", or the tag as written


def tokenize(text: str) -> list[Token]:
    """Every URL, mention and hashtag of ``text``, in order, never overlapping.

    URLs win over mentions and hashtags found inside them.
    """
    tokens: list[Token] = []
    taken: list[tuple[int, int]] = []
    for match in _linkify.match(text) or []:
        if match.schema.lower() not in ("http:", "https:"):
            continue
        tokens.append(Token("url", match.index, match.last_index, match.url))
        taken.append((match.index, match.last_index))

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for match in MENTION_RE.finditer(text):
        if free(match.start(), match.end()):
            value = match.group("username")
            if match.group("domain"):
                value += "@" + match.group("domain")
            tokens.append(Token("mention", match.start(), match.end(), value))
            taken.append((match.start(), match.end()))
    for match in HASHTAG_RE.finditer(text):
        if free(match.start(), match.end()):
            tokens.append(Token("hashtag", match.start(), match.end(), match.group("name")))
    tokens.sort(key=lambda t: t.start)
    return tokens


def extract_mentions(text: str) -> list[str]:
    """Mentioned handles, ``user`` or ``user@domain``, first occurrence order, unique
    case-insensitively."""
    seen: dict[str, str] = {}
    for token in tokenize(unicodedata.normalize("NFC", text)):
        if token.kind == "mention":
            seen.setdefault(token.value.lower(), token.value)
    return list(seen.values())


def extract_hashtags(text: str) -> list[str]:
    """Hashtags as written (NFC), first occurrence order, unique by
    :func:`normalize_tag`."""
    seen: dict[str, str] = {}
    for token in tokenize(unicodedata.normalize("NFC", text)):
        if token.kind == "hashtag":
            seen.setdefault(normalize_tag(token.value), token.value)
    return list(seen.values())


def count_characters(text: str) -> int:
    """Length of ``text`` as Mastodon counts it: grapheme clusters, with every URL
    counted as 23 and a remote mention as its ``@user`` part only."""
    text = unicodedata.normalize("NFC", text)
    pieces, position = [], 0
    for token in tokenize(text):
        if token.kind == "url":
            pieces += [text[position:token.start], "x" * URL_PLACEHOLDER_LENGTH]
        elif token.kind == "mention" and "@" in token.value:
            pieces += [text[position:token.start], "@" + token.value.split("@", 1)[0]]
        else:
            continue
        position = token.end
    pieces.append(text[position:])
    return len(GRAPHEME_RE.findall("".join(pieces)))


def _link_text(url: str) -> str:
    """Mastodon's link markup: scheme hidden, long paths cut with an ellipsis."""
    match = re.match(r"^(https?://(?:www\.)?)(.*)$", url)
    prefix, rest = (match.group(1), match.group(2)) if match else ("", url)
    display, tail = rest[:30], rest[30:]
    out = f'<span class="invisible">{html.escape(prefix)}</span>'
    if tail:
        out += f'<span class="ellipsis">{html.escape(display)}</span>'
        out += f'<span class="invisible">{html.escape(tail)}</span>'
    else:
        out += f"<span>{html.escape(display)}</span>"
    return out


def render(
    text: str,
    *,
    mention_url: Callable[[str], str | None],
    tag_url: Callable[[str], str],
) -> str:
    """``text`` as sanitised HTML paragraphs with linked mentions, hashtags and URLs.

    ``mention_url(handle)`` gives the profile URL of a mentioned handle, or None to
    leave it as text (unknown account). ``tag_url(name)`` gives a hashtag's page URL.
    Blank lines separate ``<p>`` paragraphs; single newlines become ``<br>``.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    pieces: list[str] = []
    position = 0
    for token in tokenize(text):
        pieces.append(html.escape(text[position : token.start], quote=False))
        raw = text[token.start : token.end]
        if token.kind == "url":
            href = html.escape(token.value)
            pieces.append(
                f'<a href="{href}" target="_blank" rel="nofollow noopener noreferrer">'
                f"{_link_text(token.value)}</a>"
            )
        elif token.kind == "mention":
            url = mention_url(token.value)
            if url is None:
                pieces.append(html.escape(raw, quote=False))
            else:
                username = token.value.split("@", 1)[0]
                pieces.append(
                    f'<span class="h-card" translate="no"><a href="{html.escape(url)}" '
                    f'class="u-url mention">@<span>{html.escape(username)}</span></a></span>'
                )
        else:
            pieces.append(
                f'<a href="{html.escape(tag_url(token.value))}" class="mention hashtag" '
                f'rel="tag">#<span>{html.escape(token.value)}</span></a>'
            )
        position = token.end
    pieces.append(html.escape(text[position:], quote=False))
    body = "".join(pieces).strip("\n")
    if not body:
        return ""
    paragraphs = [p for p in re.split(r"\n{2,}", body) if p.strip()]
    out = "".join("<p>" + p.replace("\n", "<br>") + "</p>" for p in paragraphs)
    return sanitize(out)


_ALLOWED_TAGS = {"p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i",
                 "u", "ul", "ol", "li", "blockquote"}


def sanitize(html_text: str) -> str:
    """Mastodon's allowlist for status HTML (app/lib/sanitize_config.rb), via nh3.

    Keeps links (with rel="nofollow noopener noreferrer"), ``h-card``, ``mention``,
    ``hashtag``, ``invisible`` and ``ellipsis`` classes, and Mastodon 4.5's
    ``quote-inline`` paragraph (a quote's "RE:" fallback link, hidden where the
    quote itself is shown); strips everything else.
    """
    return nh3.clean(
        html_text,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "target", "translate"}, "span": {"translate"}},
        allowed_classes={
            "a": {"u-url", "mention", "hashtag", "status-link"},
            "span": {"h-card", "invisible", "ellipsis"},
            "p": {"quote-inline"},
        },
        url_schemes={"http", "https"},
        link_rel="nofollow noopener noreferrer",
    )


def html_to_text(html_text: str) -> str:
    """A plain-text rendering of status HTML (paragraphs become blank lines)."""
    text = re.sub(r"<br\s*/?>", "\n", html_text)
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()
