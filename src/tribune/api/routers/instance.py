"""Instance metadata: /api/v1/instance, /api/v2/instance, rules, custom emojis."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from ninja import Router

from tribune.accounts.instance import registration_mode
from tribune.api.auth import public
from tribune.api.base import responses
from tribune.api.presenters import API_VERSION, VERSION, rule_out
from tribune.api.schemas import Rule
from tribune.core.urls import absolute
from tribune.media.selectors import media_configuration
from tribune.moderation.selectors import rule_list as rules_published
from tribune.notifications.push import vapid_public_key
from tribune.statuses.polls import POLL_LIMITS

router = Router(tags=["instance"])

LANGUAGES = ["en", "fr"]
POLLS = POLL_LIMITS  # the limits statuses.polls.poll_spec applies


def _statuses_config() -> dict[str, int]:
    return {"max_characters": settings.TRIBUNE_MAX_CHARACTERS,
            "max_media_attachments": 4, "characters_reserved_per_url": 23}


def _user_count() -> int:
    return get_user_model().objects.filter(is_active=True, account__isnull=False).count()


@router.get("/v2/instance", response=responses(dict[str, Any]), auth=public(None))
def instance_v2(request):
    """Mastodon's Instance entity (v2)."""
    mode = registration_mode()
    return {
        "domain": settings.TRIBUNE_DOMAIN,
        "title": settings.TRIBUNE_TITLE,
        "version": VERSION,
        "source_url": settings.TRIBUNE_SOURCE_URL or absolute("/about"),
        "description": "A Tribune instance: microblogging with due-process moderation.",
        "usage": {"users": {"active_month": _user_count()}},
        "thumbnail": {"url": absolute("/headers/original/missing.png")},
        "icon": [],
        "languages": LANGUAGES,
        "configuration": {
            "urls": {"streaming": settings.TRIBUNE_STREAMING_URL,
                     "status": None},
            "vapid": {"public_key": vapid_public_key()},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": _statuses_config(),
            "media_attachments": media_configuration(),
            "polls": POLLS,
            "translation": {"enabled": False},
        },
        # A sign-up awaiting approval must give its reason (account_sign_up), so
        # apps that read reason_required ask for one.
        "registrations": {"enabled": mode in ("open", "approval"),
                          "approval_required": mode == "approval",
                          "reason_required": mode == "approval",
                          "min_age": None, "message": None, "url": None},
        "api_versions": {"mastodon": API_VERSION},
        "contact": {"email": "", "account": None},
        "rules": [rule_out(r) for r in rules_published()],
    }


@router.get("/v1/instance", response=responses(dict[str, Any]), auth=public(None))
def instance_v1(request):
    """Mastodon's deprecated V1 Instance entity, still read by many apps."""
    from tribune.statuses.models import Status

    mode = registration_mode()
    return {
        "uri": settings.TRIBUNE_DOMAIN,
        "title": settings.TRIBUNE_TITLE,
        "short_description": "A Tribune instance.",
        "description": "A Tribune instance: microblogging with due-process moderation.",
        "email": "",
        "version": VERSION,
        "urls": {"streaming_api": settings.TRIBUNE_STREAMING_URL},
        "stats": {"user_count": _user_count(),
                  "status_count": Status.objects.filter(account__domain="").count(),
                  "domain_count": 0},
        "thumbnail": absolute("/headers/original/missing.png"),
        "languages": LANGUAGES,
        "registrations": mode in ("open", "approval"),
        "approval_required": mode == "approval",
        "invites_enabled": mode == "invite",
        "configuration": {"accounts": {"max_featured_tags": 10},
                          "statuses": _statuses_config(),
                          "media_attachments": media_configuration(), "polls": POLLS},
        "contact_account": None,
        "rules": [rule_out(r) for r in rules_published()],
    }


@router.get("/v1/instance/rules", response=responses(list[Rule]), auth=public(None))
def instance_rules(request):
    """The instance's published rules, in order."""
    return [rule_out(r) for r in rules_published()]


@router.get("/v1/instance/peers", response=responses(list[str]), auth=public(None))
def instance_peers(request):
    """Domains this instance federates with (none until federation exists)."""
    return []


@router.get("/v1/instance/activity", response=responses(list[dict[str, str]]), auth=public(None))
def instance_activity(request):
    """Weekly activity; empty until it is measured."""
    return []


@router.get("/v1/custom_emojis", response=responses(list[dict[str, Any]]), auth=public(None))
def custom_emojis(request):
    """Custom emojis (none yet)."""
    return []
