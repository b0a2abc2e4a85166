"""What a page says about itself, read from its HTML and its oEmbed document.

Sources, strongest first: OpenGraph (``og:title``, ``og:description``,
``og:image``, ``og:site_name``; ogp.me), Twitter cards (``twitter:title``...;
developer.x.com "Cards markup"), then ``<title>`` and ``<meta name=description>``.
An oEmbed document (oembed.com §4, discovered through ``<link rel=alternate
type=application/json+oembed>``) adds author and provider and fills gaps.

Every text comes out as plain text: tags and their script or style contents
removed, entities decoded, control and direction-override characters dropped,
white space collapsed, cut to a maximum length. URLs come out absolute and
``http(s)`` only, or empty.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

TITLE_MAX = 200
DESCRIPTION_MAX = 500
NAME_MAX = 200
URL_MAX = 2000

# Direction overrides and isolates can disguise text (Unicode TR36 §2.3).
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class PageMeta:
    """A page's own description of itself (plain text; absolute URLs or "")."""

    title: str = ""
    description: str = ""
    image_url: str = ""
    site_name: str = ""
    author_name: str = ""
    author_url: str = ""
    provider_url: str = ""
    oembed_url: str = ""


class _TextOnly(HTMLParser):
    """The text of an HTML fragment, without script, style or other raw text."""

    SKIP = {"script", "style", "template", "noscript", "iframe", "object", "svg", "math"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self.skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def plain_text(value: object, *, limit: int) -> str:
    """``value`` as one line of plain text of at most ``limit`` characters (an
    ellipsis marks a cut); "" for anything that is not a string."""
    if not isinstance(value, str):
        return ""
    parser = _TextOnly()
    parser.feed(value)
    parser.close()
    text = "".join(parser.parts).translate(_BIDI_CONTROLS)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    text = _SPACE_RE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def clean_url(value: object, *, base: str) -> str:
    """``value`` resolved against ``base`` if it is an http(s) URL of sane length
    with a host, else ""."""
    if not isinstance(value, str) or not value.strip():
        return ""
    url = urljoin(base, value.strip())
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX:
        return ""
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        return ""
    return url


class _HeadParser(HTMLParser):
    """Collects ``<meta>`` properties, the first ``<title>`` and oEmbed links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self.in_title = False
        self.title_parts: list[str] = []
        self.oembed: str = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").strip().lower()
            if key and "content" in a:
                self.meta.setdefault(key, a["content"])  # the first one wins (ogp.me)
        elif tag == "title" and self.title is None:
            self.in_title = True
        elif tag == "link" and not self.oembed:
            rels = a.get("rel", "").lower().split()
            if "alternate" in rels and a.get("type", "").lower() == "application/json+oembed":
                self.oembed = a.get("href", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.in_title:
            self.in_title = False
            self.title = "".join(self.title_parts)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)


def parse_html(document: str, *, base_url: str) -> PageMeta:
    """The metadata of an HTML page fetched from ``base_url``."""
    parser = _HeadParser()
    try:
        parser.feed(document)
        parser.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    if parser.in_title:  # a page cut off inside its <title>
        parser.title = "".join(parser.title_parts)
    m = parser.meta

    def first(*keys: str) -> str:
        return next((m[k] for k in keys if m.get(k, "").strip()), "")

    author = first("author", "article:author")
    author_url = clean_url(author, base="")  # article:author is often a profile URL
    return PageMeta(
        title=plain_text(first("og:title", "twitter:title") or parser.title or "",
                         limit=TITLE_MAX),
        description=plain_text(first("og:description", "twitter:description", "description"),
                               limit=DESCRIPTION_MAX),
        image_url=clean_url(first("og:image", "og:image:url", "og:image:secure_url",
                                  "twitter:image", "twitter:image:src"), base=base_url),
        site_name=plain_text(first("og:site_name", "application-name"), limit=NAME_MAX),
        author_name="" if author_url else plain_text(author, limit=NAME_MAX),
        author_url=author_url,
        oembed_url=clean_url(parser.oembed, base=base_url),
    )


def merge_oembed(page: PageMeta, data: object, *, base_url: str) -> PageMeta:
    """``page`` completed with an oEmbed response (a JSON object; anything else
    changes nothing): author and provider from oEmbed, title and image only where
    the page had none."""
    if not isinstance(data, dict):
        return page
    return PageMeta(
        title=page.title or plain_text(data.get("title"), limit=TITLE_MAX),
        description=page.description,
        image_url=page.image_url or clean_url(data.get("thumbnail_url"), base=base_url),
        site_name=plain_text(data.get("provider_name"), limit=NAME_MAX) or page.site_name,
        author_name=plain_text(data.get("author_name"), limit=NAME_MAX) or page.author_name,
        author_url=clean_url(data.get("author_url"), base=base_url) or page.author_url,
        provider_url=clean_url(data.get("provider_url"), base=base_url) or page.provider_url,
        oembed_url=page.oembed_url,
    )
