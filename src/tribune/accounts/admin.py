"""Operator pages in Django's admin: the registration mode, sign-ups awaiting
approval, invites. Every change goes through a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist

from tribune.accounts.instance import (
    REGISTRATION_MODES,
    registration_mode,
    registration_mode_set,
)
from tribune.accounts.models import ApprovalRequest, Invite
from tribune.accounts.registrations import (
    account_approve,
    account_reject,
    invite_create,
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


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(admin.ModelAdmin):
    """Sign-ups awaiting review (registration mode ``approval``). Select them and
    run "Approve" or "Reject"; both go through the services."""

    list_display = ["account", "email", "reason", "created_at"]
    list_select_related = ["account__user"]
    readonly_fields = ["account", "reason", "created_at"]
    ordering = ["created_at"]
    actions = ["approve", "reject"]

    @admin.display(description="Email")
    def email(self, obj: ApprovalRequest) -> str:
        return obj.account.user.email if obj.account.user else ""

    def has_add_permission(self, request) -> bool:
        return False  # requests come from the sign-up page only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deleting the row alone would strand an inactive login

    @admin.action(description="Approve the selected sign-ups", permissions=["change"])
    def approve(self, request, queryset) -> None:
        count = 0
        for pending in list(queryset.select_related("account__user")):
            account_approve(account=pending.account)
            count += 1
        self.message_user(request, f"Approved {count} sign-up(s).", messages.SUCCESS)

    @admin.action(description="Reject (delete) the selected sign-ups", permissions=["change"])
    def reject(self, request, queryset) -> None:
        count = 0
        for pending in list(queryset.select_related("account")):
            account_reject(account=pending.account)
            count += 1
        self.message_user(request, f"Rejected {count} sign-up(s).", messages.SUCCESS)


class InviteForm(forms.ModelForm):
    class Meta:
        model = Invite
        fields = ["max_uses", "expires_at"]


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    """Invite codes (registration mode ``invite``). Adding one goes through
    ``invite_create``, which picks the code; the share link is ``/invite/<code>``."""

    form = InviteForm
    list_display = ["code", "created_by", "uses", "max_uses", "expires_at", "created_at"]
    list_select_related = ["created_by"]
    ordering = ["-id"]

    def get_readonly_fields(self, request, obj=None):
        return ["code", "created_by", "uses", "created_at"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            creator = request.user.account
        except ObjectDoesNotExist:
            creator = None  # an operator without a public account
        invite = invite_create(created_by=creator, max_uses=form.cleaned_data["max_uses"],
                               expires_at=form.cleaned_data["expires_at"])
        obj.pk = invite.pk
        obj.code = invite.code
