"""Security settings: two-factor authentication (``/settings/two_factor``) and the
signed-in browsers and authorised apps (``/settings/sessions``), each revocable.
Writes go through ``accounts.two_factor``, ``accounts.sessions`` and
``oauth.services``; errors answer 422 with the page."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from tribune.accounts.sessions import login_session_revoke, login_sessions
from tribune.accounts.two_factor import (
    recovery_codes_left,
    recovery_codes_regenerate,
    totp_setup,
    totp_setup_pending,
    two_factor_disable,
    two_factor_enable,
    two_factor_enabled,
)
from tribune.core.errors import DomainError, NotFound
from tribune.oauth.selectors import authorized_applications
from tribune.oauth.services import application_authorization_revoke
from tribune.web.errors import reason
from tribune.web.join import see_other
from tribune.web.security_forms import TotpEnableForm, TwoFactorDisableForm
from tribune.web.viewer import account_required


def _page(request: HttpRequest, template: str, tab: str, title: str, status: int = 200,
          **context) -> HttpResponse:
    return render(request, template, {"title": title, "nav": "settings", "tab": tab,
                                      **context}, status=status)


@account_required
@sensitive_post_parameters("code", "current_password")
def two_factor(request: HttpRequest) -> HttpResponse:
    """``/settings/two_factor``: set up an authenticator app (secret and QR code, then
    a first code; the ten recovery codes are shown once, on the answer to that
    post), make new recovery codes, or turn it off with the password and a code."""
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    title = _("Two-factor authentication")
    enable_form = TotpEnableForm(request.POST if action == "enable" else None)
    disable_form = TwoFactorDisableForm(request.POST if action == "disable" else None)
    status = 200
    if action == "setup":
        try:
            totp_setup(user=user)
        except DomainError as error:
            messages.error(request, reason(error))
        return see_other(reverse("web:settings_two_factor"))
    if action in ("enable", "codes") and (action == "codes" or enable_form.is_valid()):
        try:
            codes = (two_factor_enable(user=user, code=enable_form.cleaned_data["code"])
                     if action == "enable" else _regenerate(user))
        except DomainError as error:
            enable_form.add_error("code", reason(error))
            status = 422
        else:
            return _page(request, "web/settings_two_factor.html", "two_factor", title,
                         enabled=True, codes=codes)
    if action == "disable" and disable_form.is_valid():
        try:
            two_factor_disable(user=user, code=disable_form.cleaned_data["code"],
                               password=disable_form.cleaned_data["current_password"])
        except DomainError as error:
            disable_form.add_error(None, reason(error))
        else:
            messages.success(request, _("Two-factor authentication is now off."))
            return see_other(reverse("web:settings_two_factor"))
    if (enable_form.is_bound and enable_form.errors) or (disable_form.is_bound and disable_form.errors):
        status = 422
    enabled = two_factor_enabled(user=user)
    setup = None if enabled else totp_setup_pending(user=user)
    qr = segno.make(setup.uri, error="m").svg_data_uri(scale=4, border=2) if setup else ""
    return _page(request, "web/settings_two_factor.html", "two_factor", title, status,
                 enabled=enabled, setup=setup, qr=qr, enable_form=enable_form,
                 disable_form=disable_form,
                 codes_left=recovery_codes_left(user=user) if enabled else 0)


def _regenerate(user) -> list[str]:
    if not two_factor_enabled(user=user):
        raise NotFound(_("Two-factor authentication is not enabled."))
    return recovery_codes_regenerate(user=user)


@account_required
def sessions(request: HttpRequest) -> HttpResponse:
    """``/settings/sessions``: the browsers signed in to this account (browser,
    address, last use) and the apps holding a token, each with a button that signs
    it out or revokes it. This browser's own session is marked and cannot be
    revoked from here (sign out does that)."""
    user = request.user
    if request.method == "POST":
        try:
            if request.POST.get("session") and request.POST["session"] != \
                    request.session.session_key:
                login_session_revoke(user=user, session_key=request.POST["session"])
                messages.success(request, _("That session has been signed out."))
            elif request.POST.get("application", "").isdigit():
                application_authorization_revoke(
                    user=user, application_id=int(request.POST["application"]))
                messages.success(request, _("The app's access has been revoked."))
            else:
                raise Http404
        except NotFound as error:
            raise Http404 from error
        return see_other(reverse("web:settings_sessions"))
    return _page(request, "web/settings_sessions.html", "sessions",
                 _("Sessions and authorised apps"), sessions=login_sessions(user=user),
                 current=request.session.session_key,
                 applications=authorized_applications(user=user))
