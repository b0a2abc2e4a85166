"""Instance-wide settings that admins can change at run time."""

from __future__ import annotations

from django.db import models


class SiteSetting(models.Model):
    """One instance setting (e.g. ``registrations``), editable in Django's admin."""

    key = models.CharField(max_length=100, unique=True)
    value = models.TextField()

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
