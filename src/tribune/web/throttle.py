"""Rate limits of the sign-in and sign-up pages, counted by ``core.ratelimit``.

The numbers are Mastodon's (config/initializers/rack_attack.rb) unless said:

* sign-in attempts: 25 per 5 minutes per IP (``throttle_login_attempts/ip``);
* failed sign-ins: 25 per hour per username. Mastodon counts every attempt per
  email (``throttle_login_attempts/email``, 25 per hour); we count only failures, so
  someone who types the password right spends nothing. Once the budget is spent the
  right password is refused too until the hour ends, or guessing could go on;
* sign-up form posts: 25 per 5 minutes per IP (``throttle_sign_up_attempts/ip``);
* sign-ups: 5 per 30 minutes per IP, counted when a valid form is submitted, in the
  same bucket as the API's ``POST /api/v1/accounts`` (``api/ratelimit.py``);
* password-reset requests: 25 per 5 minutes per IP and 5 per 30 minutes per
  e-mail address (``throttle_password_resets/ip`` and ``/email``), the same for
  confirmation links asked for again (``throttle_email_confirmations``);
* second-factor codes: wrong ones count as failed sign-ins of the username;
* notices of illegal content (ours): 25 form posts per 5 minutes and 10 notices per
  hour per IP, the latter counted when a valid form is submitted.

Posting (posts and boosts, 300 per 3 hours) and reporting (400 a day) are limited
per account by the services themselves, so the web interface and the API share one
budget; their ``RateLimited`` becomes a form error through ``limited_message``.

A refused request gets its page back with a form error and status 429. All of it is
off when ``settings.TRIBUNE_RATE_LIMITS`` is False (``TRIBUNE_RATE_LIMITS=off``).
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import ngettext

from tribune.core.errors import RateLimited
from tribune.core.ratelimit import Limit, Window, client_ip, digest, hit, peek

SIGN_IN_ATTEMPTS = Limit("web_sign_in", 25, 300)
SIGN_IN_FAILURES = Limit("web_sign_in_failures", 25, 3600)
SIGN_UP_ATTEMPTS = Limit("web_sign_up", 25, 300)
SIGN_UPS = Limit("sign_ups", 5, 1800)
PASSWORD_RESETS_IP = Limit("web_password_resets", 25, 300)
PASSWORD_RESETS_EMAIL = Limit("web_password_resets_email", 5, 1800)
CONFIRMATIONS_IP = Limit("web_confirmations", 25, 300)
CONFIRMATIONS_EMAIL = Limit("web_confirmations_email", 5, 1800)
NOTICE_ATTEMPTS = Limit("web_notice", 25, 300)
NOTICES = Limit("web_notices", 10, 3600)


def _ip(request: HttpRequest) -> str:
    return "ip:" + client_ip(request)


def _username(username: str) -> str:
    return "username:" + digest(username.strip().lower())


def sign_in_refusal(request: HttpRequest, username: str) -> str:
    """Count one sign-in attempt; the error to show if it must be refused, else ""."""
    if not settings.TRIBUNE_RATE_LIMITS:
        return ""
    window = hit(SIGN_IN_ATTEMPTS, _ip(request))
    if window.exceeded:
        return wait_message(window)
    if username:
        failures = peek(SIGN_IN_FAILURES, _username(username))
        if failures.remaining == 0:
            return wait_message(failures)
    return ""


def sign_in_failed(username: str) -> None:
    """Count a wrong password (or unknown username) against ``username``."""
    if settings.TRIBUNE_RATE_LIMITS and username:
        hit(SIGN_IN_FAILURES, _username(username))


def sign_up_attempt_refusal(request: HttpRequest) -> str:
    """Count one sign-up form post; the error to show if it must be refused, else ""."""
    if not settings.TRIBUNE_RATE_LIMITS:
        return ""
    window = hit(SIGN_UP_ATTEMPTS, _ip(request))
    return wait_message(window) if window.exceeded else ""


def sign_up_refusal(request: HttpRequest) -> str:
    """Count one sign-up about to be made; the error to show if it must be refused,
    else ""."""
    if not settings.TRIBUNE_RATE_LIMITS:
        return ""
    window = hit(SIGN_UPS, _ip(request))
    return wait_message(window) if window.exceeded else ""


def mail_link_refusal(request: HttpRequest, email: str, *, kind: str) -> str:
    """Count one request for a mailed link (``kind``: "password_reset" or
    "confirmation") to ``email``; the error to show if it must be refused, else "".
    Unknown addresses are counted like known ones, so a refusal reveals nothing."""
    if not settings.TRIBUNE_RATE_LIMITS:
        return ""
    per_ip, per_email = ((PASSWORD_RESETS_IP, PASSWORD_RESETS_EMAIL)
                         if kind == "password_reset" else
                         (CONFIRMATIONS_IP, CONFIRMATIONS_EMAIL))
    window = hit(per_ip, _ip(request))
    if not window.exceeded:
        window = hit(per_email, "email:" + digest(email.strip().lower()))
    return wait_message(window) if window.exceeded else ""


def notice_refusal(request: HttpRequest, *, valid: bool) -> str:
    """Count one post of the notice form (and, when ``valid``, one notice); the
    error to show if it must be refused, else ""."""
    if not settings.TRIBUNE_RATE_LIMITS:
        return ""
    window = hit(NOTICE_ATTEMPTS, _ip(request))
    if not window.exceeded and valid:
        window = hit(NOTICES, _ip(request))
    return wait_message(window) if window.exceeded else ""


def limited_message(error: RateLimited) -> str:
    """The form error for a service's ``RateLimited``: how long to wait."""
    if error.reset is None:
        return wait_message(Window(limit=0, count=1, reset=int(time.time()) + 60))
    return wait_message(Window(limit=error.limit or 0, count=(error.limit or 0) + 1,
                               reset=error.reset))


def wait_message(window: Window) -> str:
    """"Too many attempts", with the whole minutes left until the window ends."""
    minutes = max(1, math.ceil((window.reset - time.time()) / 60))
    return ngettext(
        "Too many attempts. Please try again in %(count)d minute.",
        "Too many attempts. Please try again in %(count)d minutes.",
        minutes,
    ) % {"count": minutes}
