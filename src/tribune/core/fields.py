"""Model field helpers shared by the domain apps."""

from __future__ import annotations

from django.db import models

from tribune.core.ids import new_id


class IdField(models.BigIntegerField):
    """A primary key filled with a time-ordered id from :func:`tribune.core.ids.new_id`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("primary_key", True)
        kwargs.setdefault("default", new_id)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.BigIntegerField", args, kwargs
