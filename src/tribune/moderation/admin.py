"""Operators edit the published rules and the keyword flagger's patterns here."""

from django.contrib import admin

from tribune.moderation.models import FlagRule, Rule
from tribune.moderation.services import rule_create, rule_update


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """Rules are published through the services, so each change is versioned and
    logged."""

    list_display = ["position", "text", "severity_tier", "ground", "version"]
    fields = ["text", "hint", "position", "severity_tier", "ground", "legal_reference"]
    ordering = ["position"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = rule_update(rule_id=obj.pk, text=data["text"], hint=data["hint"],
                                severity_tier=data["severity_tier"], ground=data["ground"],
                                legal_reference=data["legal_reference"])
        else:
            saved = rule_create(text=data["text"], hint=data["hint"], position=data["position"],
                                severity_tier=data["severity_tier"], ground=data["ground"],
                                legal_reference=data["legal_reference"])
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # decisions cite rules; a rule is rewritten, not deleted


@admin.register(FlagRule)
class FlagRuleAdmin(admin.ModelAdmin):
    """Patterns of the rule-based flagger. A match opens or raises a case for a
    moderator; it never hides anything."""

    list_display = ["pattern", "is_regex", "severity_tier", "enabled"]
    list_filter = ["enabled", "severity_tier"]
