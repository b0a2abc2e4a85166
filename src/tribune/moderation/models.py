"""Moderation. For now: the instance's published rules."""

from __future__ import annotations

from django.db import models


class Rule(models.Model):
    """One published instance rule (``/api/v1/instance/rules``), ordered by ``position``."""

    text = models.CharField(max_length=300)
    hint = models.TextField(blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text
