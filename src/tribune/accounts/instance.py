"""Instance-wide account settings: the registration mode."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from tribune.core.errors import ValidationFailed
from tribune.core.models import SiteSetting

REGISTRATION_MODES = ("open", "approval", "invite", "closed")


def registration_mode() -> str:
    """The current mode: the admin's choice if set, else TRIBUNE_REGISTRATIONS.
    Every sign-up asks, so the lookup is written out (core.sql: compiling it
    through the ORM cost more than running it)."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "value" FROM "{SiteSetting._meta.db_table}" WHERE "key" = %s',
                       ["registrations"])
        row = cursor.fetchone()
    mode = row[0] if row else settings.TRIBUNE_REGISTRATIONS
    return mode if mode in REGISTRATION_MODES else "closed"


def registration_mode_set(*, mode: str) -> None:
    """Change the registration mode; ValidationFailed for an unknown mode."""
    if mode not in REGISTRATION_MODES:
        raise ValidationFailed(f"Registration mode must be one of {', '.join(REGISTRATION_MODES)}")
    SiteSetting.objects.update_or_create(key="registrations", defaults={"value": mode})
