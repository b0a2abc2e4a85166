"""Making preview cards: find a post's first link, fetch what the page says about
itself through the SSRF-safe client, keep it as a card.

Only local public and unlisted posts get cards: a followers-only or direct post
must not make the server visit its links (the visit would tell the linked site
that someone is reading the link, and when), and remote posts get theirs from
federation later.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from tribune.core import http
from tribune.core.entity_cache import new_version
from tribune.links.images import NotAnImage, card_image
from tribune.links.metadata import PageMeta, merge_oembed, parse_html
from tribune.links.models import PreviewCard, StatusCard
from tribune.statuses.models import Status

logger = logging.getLogger(__name__)

CARD_VISIBILITIES = ("public", "unlisted")
FRESH_FOR = timedelta(days=7)
PAGE_MAX_BYTES = 1_000_000  # enough for any <head>; the rest is not read
OEMBED_MAX_BYTES = 100_000
IMAGE_MAX_BYTES = 5_000_000
HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET_RE = re.compile(rb"charset=[\"']?([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)


class _Links(HTMLParser):
    """The ``href`` of each link in status HTML that is not a mention or hashtag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        a = {k: v or "" for k, v in attrs}
        classes = set(a.get("class", "").split())
        if a.get("href") and not classes & {"mention", "hashtag"}:
            self.hrefs.append(a["href"])


def first_link(content: str) -> str | None:
    """The first http(s) link of status HTML ``content`` that is not a mention or
    hashtag, and not on this instance; None if there is none."""
    parser = _Links()
    parser.feed(content)
    parser.close()
    own = settings.TRIBUNE_DOMAIN.lower()
    for href in parser.hrefs:
        try:
            parts = urlsplit(href)
        except ValueError:
            continue
        if (parts.scheme in ("http", "https") and parts.netloc
                and parts.netloc.lower() != own and len(href) <= 2000):
            return href
    return None


def card_fetch_for_status(*, status_id: int) -> PreviewCard | None:
    """Give status ``status_id`` the card of its first link, and return it.

    Reuses a card fetched less than a week ago for the same URL; otherwise fetches
    the page (and its oEmbed document and picture) through ``core.http``. A status
    that is missing, remote, a reblog, private or direct, or whose link yields
    nothing gets no card (an edit that removes the link removes the card); nothing
    is fetched when ``TRIBUNE_LINK_PREVIEWS`` is off. Network and parsing failures
    are logged and give no card; nothing is raised for them.
    """
    if not settings.TRIBUNE_LINK_PREVIEWS:
        return None
    status = Status.objects.filter(pk=status_id).select_related("account").first()
    if (status is None or status.reblog_of_id or not status.account.is_local
            or status.visibility not in CARD_VISIBILITIES):
        return None
    url = first_link(status.content)
    card = card_for_url(url) if url else None
    with transaction.atomic():
        if card is None:
            if StatusCard.objects.filter(status_id=status_id).delete()[0]:
                _renew([status_id])
            return None
        # The update also tells whether it was deleted while we fetched.
        if _renew([status_id]):
            StatusCard.objects.update_or_create(status_id=status_id, defaults={"card": card})
    return card


def _renew(status_ids) -> int:
    """Give the statuses a new version: the cached Status entities show their card
    (core.entity_cache). Returns how many exist."""
    return Status.objects.filter(pk__in=status_ids).update(version=new_version())


def card_for_url(url: str) -> PreviewCard | None:
    """The card for ``url``: a fresh stored one, or a new fetch (stored), or None
    when the page cannot be fetched or says nothing worth a card."""
    existing = PreviewCard.objects.filter(url=url).first()
    now = timezone.now()
    if existing is not None and now - existing.fetched_at < FRESH_FOR:
        return existing
    try:
        page = _page_meta(url)
    except http.FetchError as exc:
        logger.info("links: no card for %s: %s", url, exc)
        return existing
    if not (page.title or page.description):
        return existing
    image = _image(page.image_url) if page.image_url else None
    fields: dict[str, Any] = {
        "title": page.title, "description": page.description, "type": "link",
        "author_name": page.author_name, "author_url": page.author_url,
        "provider_name": page.site_name, "provider_url": page.provider_url,
        "width": image.width if image else 0, "height": image.height if image else 0,
        "blurhash": image.blurhash if image else "", "fetched_at": now,
    }
    name = ""
    if image is not None:
        name = default_storage.save(f"cards/{secrets.token_hex(16)}.jpg", ContentFile(image.data))
    try:
        with transaction.atomic():
            card, created = PreviewCard.objects.update_or_create(
                url=url, defaults={**fields, "image": name}, create_defaults={
                    **fields, "image": name, "created_at": now})
            if not created:  # every status showing it shows the new one
                _renew(StatusCard.objects.filter(card=card).values("status_id"))
    except IntegrityError:  # another worker stored the same URL first
        if name:
            default_storage.delete(name)
        return PreviewCard.objects.filter(url=url).first()
    if existing is not None and existing.image and existing.image.name != name:
        default_storage.delete(existing.image.name)
    return card


def _page_meta(url: str) -> PageMeta:
    """What the page at ``url`` says about itself; FetchError if it is not an HTML
    page that answered 200."""
    response = http.fetch(url, headers={"Accept": "text/html,application/xhtml+xml"},
                          max_bytes=PAGE_MAX_BYTES, truncate=True)
    if response.status != 200 or response.content_type not in HTML_TYPES:
        raise http.FetchError(f"answered {response.status} {response.content_type!r}")
    page = parse_html(_decode(response), base_url=response.url)
    if page.oembed_url:
        page = merge_oembed(page, _oembed(page.oembed_url), base_url=response.url)
    return page


def _oembed(url: str) -> object:
    """The oEmbed JSON at ``url``, or None."""
    try:
        response = http.fetch(url, headers={"Accept": "application/json"},
                              max_bytes=OEMBED_MAX_BYTES)
        return json.loads(response.content) if response.status == 200 else None
    except (http.FetchError, ValueError, RecursionError) as exc:
        logger.info("links: no oEmbed from %s: %s", url, exc)
        return None


def _image(url: str):
    """The page's picture re-encoded (links.images), or None."""
    try:
        response = http.fetch(url, headers={"Accept": "image/*"}, max_bytes=IMAGE_MAX_BYTES)
        if response.status != 200:
            return None
        return card_image(response.content)
    except (http.FetchError, NotAnImage) as exc:
        logger.info("links: no picture from %s: %s", url, exc)
        return None


def _decode(response: http.Fetched) -> str:
    """The page as text: its declared charset, a ``<meta charset>`` near the top,
    or UTF-8; undecodable bytes replaced."""
    charset = response.charset
    if charset is None:
        match = _CHARSET_RE.search(response.content[:2048])
        charset = match.group(1).decode("ascii") if match else None
    try:
        return response.content.decode(charset or "utf-8", "replace")
    except LookupError:
        return response.content.decode("utf-8", "replace")
