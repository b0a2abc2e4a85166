"""Writes to moderation state."""

from __future__ import annotations

from django.db.models import Max
from django.utils.translation import gettext as _

from tribune.core.errors import ValidationFailed
from tribune.moderation.models import Rule

RULE_TEXT_MAX = 300


def rule_create(*, text: str, hint: str = "", position: int | None = None) -> Rule:
    """Publish an instance rule; without ``position`` it goes after the last one.

    Raises ValidationFailed for blank text or text over 300 characters.
    """
    text = text.strip()
    if not text:
        raise ValidationFailed(_("Validation failed: Text can't be blank"))
    if len(text) > RULE_TEXT_MAX:
        raise ValidationFailed(
            _("Validation failed: Text is too long (maximum is %(max)d characters)")
            % {"max": RULE_TEXT_MAX})
    if position is None:
        last = Rule.objects.aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
    return Rule.objects.create(text=text, hint=hint.strip(), position=position)
