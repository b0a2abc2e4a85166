"""Reads of preview cards."""

from __future__ import annotations

from django.core.files.storage import default_storage

from tribune.core.urls import absolute
from tribune.links.models import PreviewCard
from tribune.statuses.models import Status


def status_card(status: Status) -> PreviewCard | None:
    """The card ``status`` shows, or None. Free when the status was loaded with
    ``statuses.selectors.with_relations`` (it joins ``status_card__card``); one
    query otherwise."""
    link = getattr(status, "status_card", None)
    return link.card if link is not None else None


def card_image_url(card: PreviewCard) -> str | None:
    """The absolute URL of the card's picture, or None when it has none."""
    if not card.image:
        return None
    url = default_storage.url(card.image.name)
    return absolute(url) if url.startswith("/") else url
