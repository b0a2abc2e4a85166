"""Instance-wide account settings: the registration mode."""

from __future__ import annotations

from django.conf import settings

from tribune.core.errors import ValidationFailed
from tribune.core.models import SiteSetting

REGISTRATION_MODES = ("open", "approval", "invite", "closed")


def registration_mode() -> str:
    """The current mode: the admin's choice if set, else TRIBUNE_REGISTRATIONS."""
    row = SiteSetting.objects.filter(key="registrations").first()
    mode = row.value if row else settings.TRIBUNE_REGISTRATIONS
    return mode if mode in REGISTRATION_MODES else "closed"


def registration_mode_set(*, mode: str) -> None:
    """Change the registration mode; ValidationFailed for an unknown mode."""
    if mode not in REGISTRATION_MODES:
        raise ValidationFailed(f"Registration mode must be one of {', '.join(REGISTRATION_MODES)}")
    SiteSetting.objects.update_or_create(key="registrations", defaults={"value": mode})
