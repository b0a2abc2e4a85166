"""Operators edit the published rules and the keyword flagger's patterns here."""

from django.contrib import admin

from tribune.moderation.models import FlagRule, Rule


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["position", "text", "severity_tier", "ground"]
    ordering = ["position"]


@admin.register(FlagRule)
class FlagRuleAdmin(admin.ModelAdmin):
    """Patterns of the rule-based flagger. A match opens or raises a case for a
    moderator; it never hides anything."""

    list_display = ["pattern", "is_regex", "severity_tier", "enabled"]
    list_filter = ["enabled", "severity_tier"]
