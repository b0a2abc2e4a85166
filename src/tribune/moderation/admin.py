"""Operators edit the published rules and the keyword flagger's patterns here."""

import regex
from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _

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


class FlagRuleForm(forms.ModelForm):
    class Meta:
        model = FlagRule
        fields = ["pattern", "is_regex", "severity_tier", "enabled"]

    def clean(self):
        data = super().clean()
        if data.get("is_regex") and data.get("pattern"):
            try:
                regex.compile(data["pattern"])
            except regex.error as exc:
                self.add_error("pattern", _("Not a valid regular expression: %(error)s")
                               % {"error": exc})
        return data


@admin.register(FlagRule)
class FlagRuleAdmin(admin.ModelAdmin):
    """Patterns of the rule-based flagger. A match opens or raises a case for a
    moderator; it never hides anything."""

    form = FlagRuleForm
    list_display = ["pattern", "is_regex", "severity_tier", "enabled"]
    list_filter = ["enabled", "severity_tier"]
