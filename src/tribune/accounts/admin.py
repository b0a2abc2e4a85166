"""Operator pages in Django's admin for account-wide instance settings."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from tribune.accounts.instance import (
    REGISTRATION_MODES,
    registration_mode,
    registration_mode_set,
)
from tribune.core.models import SiteSetting


class RegistrationModeForm(forms.ModelForm):
    key = forms.ChoiceField(choices=[("registrations", "registrations")])
    value = forms.ChoiceField(choices=[(m, m) for m in REGISTRATION_MODES], label="Mode")

    class Meta:
        model = SiteSetting
        fields = ["key", "value"]


@admin.register(SiteSetting)
class SiteSettingAdmin(admin.ModelAdmin):
    """Who may sign up (open, approval, invite, closed). Saving goes through
    ``registration_mode_set``, like every other way of changing it."""

    form = RegistrationModeForm
    list_display = ["key", "value"]

    def get_changeform_initial_data(self, request):
        return {"key": "registrations", "value": registration_mode()}

    def save_model(self, request, obj, form, change):
        registration_mode_set(mode=form.cleaned_data["value"])
        obj.pk = SiteSetting.objects.get(key="registrations").pk
