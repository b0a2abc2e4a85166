"""Template context every interface page gets."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from tribune.web.viewer import viewer_of


def interface(request: HttpRequest) -> dict:
    """``site_title``, ``max_characters`` and ``viewer`` (the signed-in account or
    None). Nothing here queries unless a template reads ``viewer``."""
    return {
        "site_title": settings.TRIBUNE_TITLE,
        "site_domain": settings.TRIBUNE_DOMAIN,
        "max_characters": settings.TRIBUNE_MAX_CHARACTERS,
        "viewer": viewer_of(request) if hasattr(request, "user") else None,
    }
