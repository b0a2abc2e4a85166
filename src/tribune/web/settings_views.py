"""One's own settings: profile, preferences, account (email and password) and, for
staff, invites. Each page is a form that saves through one service, then shows a
message and redirects (303) back to itself; errors answer 422 with the form."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import PermissionDenied
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tribune.accounts.emails import email_change_request, email_pending_change
from tribune.accounts.registrations import invite_create
from tribune.accounts.selectors import invite_list
from tribune.accounts.services import (
    account_password_set,
    account_update,
)
from tribune.core.errors import DomainError
from tribune.core.urls import absolute
from tribune.media.account_images import account_profile_update
from tribune.web.account_forms import (
    EmailForm,
    InviteForm,
    PasswordForm,
    PreferencesForm,
    ProfileForm,
)
from tribune.web.errors import reason
from tribune.web.join import see_other
from tribune.web.viewer import account_required


def _page(request: HttpRequest, template: str, tab: str, title: str, **context) -> HttpResponse:
    """Render a settings page; 422 when a posted form in ``context`` has errors."""
    failed = any(isinstance(value, BaseForm) and value.is_bound and value.errors
                 for value in context.values())
    return render(request, template, {"title": title, "nav": "settings", "tab": tab, **context},
                  status=422 if failed else 200)


def _saved(request: HttpRequest, message: str, url_name: str) -> HttpResponse:
    messages.success(request, message)
    return see_other(reverse(url_name))


def _bound(request: HttpRequest, name: str | None = None) -> dict | None:
    """The posted data if this request posts the form called ``name``, else None."""
    if request.method != "POST" or (name and request.POST.get("form") != name):
        return None
    return request.POST


def form_saved(form, call) -> bool:
    """Run ``call()`` (a service) if ``form`` is valid; its error lands on the form."""
    if not form.is_valid():
        return False
    try:
        call()
    except DomainError as error:
        form.add_error(None, reason(error))
        return False
    return True


@account_required
def profile(request: HttpRequest) -> HttpResponse:
    """``/settings/profile``: display name, bio, avatar and header pictures (new
    ones, or back to the default), locked, bot, discoverable, indexable (whether
    others may find one's public posts by search)."""
    account = request.viewer
    data = _bound(request)
    form = ProfileForm(data, request.FILES if data is not None else None, account=account)
    if form.is_bound and form_saved(form, lambda: account_profile_update(account=account,
                                                                    **form.cleaned_data)):
        return _saved(request, _("Your profile has been saved."), "web:settings_profile")
    return _page(request, "web/settings_profile.html", "profile", _("Profile"), form=form)


@account_required
def preferences(request: HttpRequest) -> HttpResponse:
    """``/settings/preferences``: default visibility, posting language, interface
    language. The confirmation is already in the newly chosen language."""
    account = request.viewer
    form = PreferencesForm(_bound(request), account=account)
    if form.is_bound and form_saved(form, lambda: account_update(account=account,
                                                            **form.cleaned_data)):
        translation.activate(account.locale or translation.get_language_from_request(request))
        return _saved(request, _("Your preferences have been saved."),
                      "web:settings_preferences")
    return _page(request, "web/settings_form.html", "preferences", _("Preferences"),
                 form=form)


@account_required
def account_settings(request: HttpRequest) -> HttpResponse:
    """``/settings/account``: the email address and the password, two forms on one
    page, each confirmed with the current password. A new address is mailed a
    link and replaces the old one only once confirmed (``email_change_request``).
    Changing the password keeps this session signed in."""
    account = request.viewer
    email_form = EmailForm(_bound(request, "email"), account=account, prefix="email")
    password_form = PasswordForm(account.user, _bound(request, "password"), prefix="password")
    if email_form.is_bound and form_saved(email_form, lambda: email_change_request(
            user=account.user, email=email_form.cleaned_data["email"],
            language=translation.get_language())):
        return _saved(request, _("We sent a confirmation link to %(email)s. Your address "
                                 "changes once you open it.")
                      % {"email": email_form.cleaned_data["email"]}, "web:settings_account")
    if password_form.is_bound and form_saved(password_form, lambda: account_password_set(
            account=account, password=password_form.cleaned_data["new_password1"])):
        update_session_auth_hash(request, account.user)
        return _saved(request, _("Your password has been changed."), "web:settings_account")
    return _page(request, "web/settings_account.html", "account", _("Account"),
                 email_form=email_form, password_form=password_form,
                 current_email=account.user.email,
                 pending_email=email_pending_change(user=account.user))


@account_required
def invites(request: HttpRequest) -> HttpResponse:
    """``/settings/invites`` (staff only): make an invite and list them all with the
    links to share."""
    if not request.user.is_staff:
        raise PermissionDenied
    form = InviteForm(_bound(request))
    if form.is_bound and form_saved(form, lambda: invite_create(
            created_by=request.viewer, max_uses=form.cleaned_data["max_uses"],
            expires_at=_expiry(form.cleaned_data["expires_in"]))):
        return _saved(request, _("The invite has been created."), "web:settings_invites")
    rows = [(invite, absolute(reverse("web:invite", args=[invite.code])))
            for invite in invite_list()]
    return _page(request, "web/settings_invites.html", "invites", _("Invites"), form=form,
                 invites=rows, now=timezone.now())


def _expiry(seconds: int | None):
    return timezone.now() + timedelta(seconds=seconds) if seconds else None
