"""Instance-wide settings that admins can change at run time."""

from __future__ import annotations

from django.db import models

from tribune.core.entity_cache import new_version


class SiteSetting(models.Model):
    """One instance setting (e.g. ``registrations``), editable in Django's admin."""

    key = models.CharField(max_length=100, unique=True)
    value = models.TextField()

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class Versioned(models.Model):
    """A row whose rendered entity is cached under ``version`` (core.entity_cache):
    every ``save()`` gives it a fresh version; bulk ``update()``\\ s that change what
    the entity shows set ``version=new_version()`` themselves."""

    version = models.BigIntegerField(default=new_version, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.version = new_version()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)
