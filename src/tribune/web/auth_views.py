"""Signing in with a second factor, confirming an e-mail address, asking for a
confirmation link again, and resetting a forgotten password by e-mail.

The second step of signing in holds the login that gave the right password in
the (not yet signed-in) session for ``PENDING_SECONDS``; only a right code turns it
into a signed-in session, so every way to a session (the OAuth consent page too,
which sends visitors here) passes both steps. Pages that mail a link answer the
same whether the address is known or not.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.views import PasswordResetConfirmView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_post_parameters

from tribune.accounts.emails import (
    email_confirm,
    email_confirmation_resend_to,
    password_reset_request,
)
from tribune.accounts.two_factor import two_factor_verify, two_factor_wait
from tribune.core.capacity import hashing_slot
from tribune.core.errors import DomainError
from tribune.web import throttle
from tribune.web.errors import reason
from tribune.web.join import PENDING_KEY, PENDING_SECONDS, see_other
from tribune.web.security_forms import (
    EmailAddressForm,
    ResetPasswordForm,
    TwoFactorCodeForm,
)
from tribune.web.viewer import safe_next


def _pending_user(request: HttpRequest):
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, ""
    user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first()
    return user, pending.get("backend", "")


@sensitive_post_parameters("code")
def sign_in_two_factor(request: HttpRequest) -> HttpResponse:
    """``/auth/sign_in/two_factor``: the code from the authenticator app, or a
    recovery code, after the password. Wrong codes count as failed sign-ins of
    the username (``throttle``); without a pending sign-in it goes back to the
    first step."""
    user, backend = _pending_user(request)
    next_url = safe_next(request, reverse("web:home"))
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return see_other(reverse("web:sign_in") + "?" + urlencode({"next": next_url}))
    context = {"title": _("Two-factor authentication"), "next": next_url}
    if request.method != "POST":
        return render(request, "web/sign_in_two_factor.html",
                      {**context, "form": TwoFactorCodeForm()})
    form = TwoFactorCodeForm(request.POST)
    refusal = throttle.sign_in_refusal(request, user.get_username())
    if refusal:
        form.add_error(None, refusal)
        return render(request, "web/sign_in_two_factor.html", {**context, "form": form},
                      status=429)
    # After a wrong code, django-otp refuses any code for a moment without checking
    # it: say so, rather than that a right code is wrong.
    wait = two_factor_wait(user=user, code=form.cleaned_data["code"]) \
        if form.is_valid() else 0
    if wait:
        form.add_error("code", ngettext(
            "After a wrong code, codes are refused for a moment: wait %(n)d second, "
            "then enter the newest code.",
            "After a wrong code, codes are refused for a moment: wait %(n)d seconds, "
            "then enter the newest code.", wait) % {"n": wait})
    elif form.is_valid() and two_factor_verify(user=user, code=form.cleaned_data["code"]):
        del request.session[PENDING_KEY]
        login(request, user, backend=backend)
        return see_other(next_url)
    elif form.is_valid():
        throttle.sign_in_failed(user.get_username())
        form.add_error("code", _("This code is not valid. Check the time on your device "
                                 "and try the newest code."))
    return render(request, "web/sign_in_two_factor.html", {**context, "form": form},
                  status=422)


def confirmation(request: HttpRequest) -> HttpResponse:
    """``/auth/confirmation?token=``: the link of a confirmation mail. Confirms the
    address (or the change of address) and says so; a bad or used link gets the
    error page with the way to ask for a new one."""
    try:
        email_confirm(token=request.GET.get("token", ""))
    except DomainError as error:
        return render(request, "web/confirmation_failed.html",
                      {"title": _("Confirmation failed"), "error": reason(error)}, status=422)
    messages.success(request, _("Your e-mail address has been confirmed."))
    if request.user.is_authenticated:
        return see_other(reverse("web:settings_account"))
    return see_other(reverse("web:sign_in"))


def confirmation_new(request: HttpRequest) -> HttpResponse:
    """``/auth/confirmation/new``: ask for the confirmation link again."""
    return _mail_link_page(
        request, kind="confirmation", title=_("Resend the confirmation link"),
        send=lambda email: email_confirmation_resend_to(
            email=email, language=translation.get_language()),
        done=_("If this address is waiting to be confirmed, a new link is on its way."))


def password_reset(request: HttpRequest) -> HttpResponse:
    """``/auth/password/reset``: ask for a link to choose a new password."""
    return _mail_link_page(
        request, kind="password_reset", title=_("Forgot your password?"),
        send=lambda email: password_reset_request(
            email=email, language=translation.get_language()),
        done=_("If an account uses this address, a link to choose a new password is "
               "on its way. It works for 6 hours."))


def _mail_link_page(request: HttpRequest, *, kind: str, title: str, send,
                    done: str) -> HttpResponse:
    context = {"title": title, "kind": kind}
    if request.method != "POST":
        return render(request, "web/mail_link.html", {**context, "form": EmailAddressForm()})
    form = EmailAddressForm(request.POST)
    if not form.is_valid():
        return render(request, "web/mail_link.html", {**context, "form": form}, status=422)
    refusal = throttle.mail_link_refusal(request, form.cleaned_data["email"], kind=kind)
    if refusal:
        form.add_error(None, refusal)
        return render(request, "web/mail_link.html", {**context, "form": form}, status=429)
    send(form.cleaned_data["email"])
    messages.success(request, done)
    return see_other(reverse("web:sign_in"))


class PasswordResetConfirm(PasswordResetConfirmView):
    """``/auth/password/reset/<uidb64>/<token>``: Django's check of the link (the
    token moves into the session, so it leaves the address bar), then a new
    password; saving signs every session out and revokes the apps' tokens."""

    template_name = "web/password_reset_confirm.html"
    form_class = ResetPasswordForm
    success_url = reverse_lazy("web:sign_in")
    extra_context = {"title": gettext_lazy("Choose a new password")}

    @method_decorator(sensitive_post_parameters("new_password1", "new_password2"))
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        with hashing_slot():
            return super().post(request, *args, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed. You can sign "
                                         "in with it now."))
        response.status_code = 303
        return response

    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 422
        return response
