"""Preview cards and which status shows which card.

A card is kept once per URL and shared by every status that links there; the
statuses app knows nothing of cards (the join row lives here)."""

from __future__ import annotations

from django.db import models

from tribune.core.fields import IdField


class PreviewCard(models.Model):
    """What a linked page says about itself (OpenGraph, Twitter cards, oEmbed, or
    its ``<title>``), as plain text; ``image`` is our own re-encoded copy of the
    page's picture, at most 400 pixels a side, with ``width``/``height`` in pixels
    and its BlurHash."""

    id = IdField()
    url = models.CharField(max_length=2000, unique=True)  # the link as posted
    title = models.CharField(max_length=200, blank=True, default="")
    description = models.CharField(max_length=500, blank=True, default="")
    type = models.CharField(max_length=10, default="link")
    author_name = models.CharField(max_length=200, blank=True, default="")
    author_url = models.CharField(max_length=2000, blank=True, default="")
    provider_name = models.CharField(max_length=200, blank=True, default="")
    provider_url = models.CharField(max_length=2000, blank=True, default="")
    image = models.FileField(upload_to="cards/", max_length=300, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    blurhash = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField()
    fetched_at = models.DateTimeField()  # a card older than a week is fetched again

    def __str__(self) -> str:
        return self.url


class StatusCard(models.Model):
    """The card a status shows: the one for its first link (none when it has no
    link, the link gave nothing, or the status is private or direct)."""

    status = models.OneToOneField("statuses.Status", primary_key=True,
                                  on_delete=models.CASCADE, related_name="status_card")
    card = models.ForeignKey(PreviewCard, on_delete=models.CASCADE, related_name="status_links")

    def __str__(self) -> str:
        return f"{self.status_id} -> {self.card_id}"
