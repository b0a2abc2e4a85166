"""Views of the server-rendered interface."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tribune.moderation.selectors import rule_list


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: what this server is, its rules, how to connect an app."""
    users = get_user_model().objects.filter(is_active=True, account__isnull=False).count()
    return render(request, "web/home.html", {
        "title": settings.TRIBUNE_TITLE, "domain": settings.TRIBUNE_DOMAIN,
        "user_count": users, "rules": rule_list(),
    })
