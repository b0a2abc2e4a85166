"""Joining and signing in: the sign-up page under each registration mode, invite
links, the "pending review" page and the rate-limited sign-in page.

Form errors answer 422 and rate-limit refusals 429, each with the page and its
errors; a successful post redirects (303), so a reload never posts twice. Checking
or setting a password needs one of the process's password-hashing slots
(``core.capacity``); when none is free the answer is the 503 page of
``web.overload`` at once.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribune.accounts.emails import email_unconfirmed
from tribune.accounts.instance import registration_mode
from tribune.accounts.registrations import account_sign_up
from tribune.accounts.two_factor import two_factor_enabled
from tribune.core.capacity import hashing_slot
from tribune.core.errors import DomainError
from tribune.moderation.selectors import rule_list
from tribune.web import throttle
from tribune.web.account_forms import SignInForm, SignUpForm
from tribune.web.errors import reason

PENDING_KEY = "tribune_two_factor_pending"  # {"user": id, "backend": path, "at": seconds}
PENDING_SECONDS = 300


def two_factor_pending_start(request: HttpRequest, user) -> None:
    """Remember ``user``, who gave the right password, in the not yet signed-in
    session for ``PENDING_SECONDS``, until it gives a code
    (``auth_views.sign_in_two_factor``)."""
    request.session[PENDING_KEY] = {"user": user.pk, "backend": user.backend,
                                    "at": int(time.time())}


def see_other(url: str) -> HttpResponseRedirect:
    """A 303 redirect: the answer to a successful form post."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


class SignInView(LoginView):
    """Django's sign-in page with rate limits (``web/throttle.py``), a clear
    answer for an account awaiting approval or e-mail confirmation, and the second
    step (``auth_views.sign_in_two_factor``) for a login with two-factor
    authentication."""

    template_name = "web/sign_in.html"
    authentication_form = SignInForm
    extra_context = {"title": gettext_lazy("Sign in")}
    refusal = ""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.refusal = throttle.sign_in_refusal(request, request.POST.get("username", ""))
        if self.refusal:  # refused before any password is checked
            return super().post(request, *args, **kwargs)
        # One slot for the whole sign-in: checking the password, the "pending review"
        # check and re-hashing an old hash with today's parameters.
        with hashing_slot():
            return super().post(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "refusal": self.refusal}

    def form_valid(self, form) -> HttpResponse:
        user = form.get_user()
        if two_factor_enabled(user=user):
            # Not signed in yet: the second step asks for a code (auth_views).
            two_factor_pending_start(self.request, user)
            return see_other(reverse("web:sign_in_two_factor") + "?"
                             + urlencode({"next": self.get_success_url()}))
        return super().form_valid(form)

    def form_invalid(self, form) -> HttpResponse:
        if form.has_error(NON_FIELD_ERRORS, "invalid_login"):
            throttle.sign_in_failed(form.cleaned_data.get("username", ""))
        response = super().form_invalid(form)
        response.status_code = 429 if self.refusal else 422
        return response


def sign_up(request: HttpRequest) -> HttpResponse:
    """``/auth/sign_up``: the form for the current registration mode (``?invite=``
    fills the invite code), or a notice when registrations are closed (a post is
    then refused with 403). Someone signed in is sent home."""
    if request.user.is_authenticated:
        return see_other(reverse("web:home"))
    mode = registration_mode()
    if mode == "closed" and (request.GET.get("invite") or request.POST.get("invite_code")):
        mode = "invite"  # invites still work while registrations are closed
    context = {"title": _("Sign up"), "mode": mode, "rules": rule_list()}
    if mode == "closed":
        return render(request, "web/sign_up.html", context,
                      status=403 if request.method == "POST" else 200)
    if request.method != "POST":
        form = SignUpForm(mode=mode, initial={"invite_code": request.GET.get("invite", "")})
        return render(request, "web/sign_up.html", {**context, "form": form})
    form = SignUpForm(request.POST, mode=mode)
    # The slot is taken first, so a busy server spends none of the sign-up budget.
    with hashing_slot():
        status = _sign_up_checked(request, form)
        if status is not None:
            return render(request, "web/sign_up.html", {**context, "form": form},
                          status=status)
        try:
            account = account_sign_up(**form.sign_up_arguments())
        except DomainError as error:  # only races get here: the form checked the rest
            form.add_error(None, reason(error))
            return render(request, "web/sign_up.html", {**context, "form": form},
                          status=422)
    if not account.user.is_active:
        return see_other(reverse("web:sign_up_pending"))
    if email_unconfirmed(user=account.user):
        return see_other(reverse("web:sign_up_confirm"))
    login(request, account.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    messages.success(request, _("Welcome to %(site)s!") % {"site": settings.TRIBUNE_TITLE})
    return see_other(reverse("web:home"))


def _sign_up_checked(request: HttpRequest, form: SignUpForm) -> int | None:
    """Validate ``form`` within the rate limits: None when it may go ahead, else the
    status to answer with (the error is on the form)."""
    refusal = throttle.sign_up_attempt_refusal(request)
    valid = form.is_valid()
    if not refusal and valid:
        refusal = throttle.sign_up_refusal(request)  # counts only complete sign-ups
    if refusal:
        form.add_error(None, refusal)
        return 429
    return None if valid else 422


def sign_up_confirm(request: HttpRequest) -> HttpResponse:
    """Where a sign-up lands when its e-mail address must be confirmed first."""
    return render(request, "web/sign_up_confirm.html",
                  {"title": _("Confirm your e-mail address")})


def sign_up_pending(request: HttpRequest) -> HttpResponse:
    """Where a sign-up awaiting approval lands."""
    return render(request, "web/sign_up_pending.html",
                  {"title": _("Your account is pending review")})


def invite(request: HttpRequest, code: str) -> HttpResponse:
    """``/invite/<code>``, the link to share: the sign-up page with the code filled."""
    return HttpResponseRedirect(reverse("web:sign_up") + "?" + urlencode({"invite": code}))
