"""E-mail addresses of local logins: confirming one's address after signing up,
changing it (the new address counts only once confirmed), and resetting a
forgotten password by e-mail. The rules are Mastodon's (Devise's confirmable and
recoverable, docs.joinmastodon.org/user/signup and /methods/emails).

The writes publish an event; the mails are sent after commit by ``effects``
through Django's e-mail backend (``*_mail_send`` below), never inside a
transaction. Links carry tokens signed with the secret key: a confirmation link
names the login and the address and lasts ``TRIBUNE_EMAIL_CONFIRMATION_SECONDS``
(3 days); a reset link is Django's ``PasswordResetTokenGenerator`` token, which
lasts ``PASSWORD_RESET_TIMEOUT`` (6 hours) and dies once the password changes.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)

from tribune.accounts.models import EmailConfirmation, LoginSession
from tribune.accounts.selectors import logins_with_email
from tribune.accounts.services import password_hash
from tribune.core.errors import Conflict, Forbidden, ValidationFailed
from tribune.core.events import (
    EmailConfirmationRequested,
    PasswordResetRequested,
    publish,
)
from tribune.core.urls import absolute

CONFIRMATION_SALT = "tribune.accounts.email-confirmation"


def email_unconfirmed(*, user: AbstractBaseUser) -> bool:
    """Whether ``user``'s own address still awaits confirmation (so the login may
    neither sign in nor use an app). One query."""
    return EmailConfirmation.objects.filter(user=user, confirmed_at__isnull=True).exists()


def email_pending_change(*, user: AbstractBaseUser) -> str:
    """The new address ``user`` asked for and has not confirmed yet, else ""."""
    row = EmailConfirmation.objects.filter(user=user).values("unconfirmed_email").first()
    return row["unconfirmed_email"] if row else ""


def email_confirmation_start(*, user: AbstractBaseUser, language: str = "") -> None:
    """Mark ``user``'s address as awaiting confirmation and mail it the link after
    commit. Called by the sign-up, inside its transaction, when
    ``TRIBUNE_REQUIRE_EMAIL_CONFIRMATION`` is on."""
    EmailConfirmation.objects.update_or_create(
        user=user, defaults={"confirmed_at": None, "unconfirmed_email": ""})
    publish(EmailConfirmationRequested(user_id=user.pk, email=user.email,
                                       language=language))


def email_confirmation_resend(*, user: AbstractBaseUser, email: str = "",
                              language: str = "") -> None:
    """Send the confirmation link again (``POST /api/v1/emails/confirmations``).
    ``email``, if given, first replaces the address that awaits confirmation, as
    Mastodon allows. Raises Forbidden when nothing awaits confirmation
    (Mastodon's words), ValidationFailed for a malformed address, Conflict when
    another login has it."""
    User = get_user_model()
    with transaction.atomic():
        row = EmailConfirmation.objects.select_for_update().filter(user=user).first()
        if row is None or (row.confirmed_at is not None and not row.unconfirmed_email):
            raise Forbidden(_("This method is only available while the e-mail is "
                              "awaiting confirmation"))
        email = email.strip()
        if email:
            _check_free(email, user)
            if row.confirmed_at is None:
                User.objects.filter(pk=user.pk).update(email=email)
                user.email = email
            else:
                row.unconfirmed_email = email
                row.save(update_fields=["unconfirmed_email"])
        pending = row.unconfirmed_email if row.confirmed_at is not None else user.email
        publish(EmailConfirmationRequested(user_id=user.pk, email=pending, language=language,
                                           change=row.confirmed_at is not None))


def email_confirmation_resend_to(*, email: str, language: str = "") -> None:
    """Mail the confirmation link again to each login whose own address ``email``
    (compared case-insensitively) awaits confirmation. Says nothing either way, so
    the answer never tells whether an address is known."""
    rows = (EmailConfirmation.objects.select_related("user")
            .filter(confirmed_at__isnull=True, user__in=logins_with_email(email.strip())))
    for row in rows:
        publish(EmailConfirmationRequested(user_id=row.user_id, email=row.user.email,
                                           language=language))


def email_change_request(*, user: AbstractBaseUser, email: str, language: str = "") -> None:
    """Ask to use ``email`` instead of the current address: it is kept as
    unconfirmed and takes effect only when the link mailed to it is followed; the
    current address gets a notice. The caller has re-authenticated the person.
    Raises ValidationFailed for a malformed address and Conflict when another login
    has it (compared case-insensitively)."""
    email = email.strip()
    _check_free(email, user)
    with transaction.atomic():
        row, _created = EmailConfirmation.objects.get_or_create(
            user=user, defaults={"confirmed_at": timezone.now()})
        row.unconfirmed_email = email
        row.save(update_fields=["unconfirmed_email"])
        publish(EmailConfirmationRequested(user_id=user.pk, email=email, language=language,
                                           change=True))


def _check_free(email: str, user: AbstractBaseUser) -> None:
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(_("Validation failed: Email is invalid")) from None
    if logins_with_email(email).exclude(pk=user.pk).exists():
        raise Conflict(_("Email %(email)s is already taken") % {"email": email})


def confirmation_token(*, user_id: int, email: str) -> str:
    """The signed token of a confirmation link for ``email`` of login ``user_id``."""
    return signing.dumps({"u": user_id, "e": email}, salt=CONFIRMATION_SALT)


def email_confirm(*, token: str) -> AbstractBaseUser:
    """Follow a confirmation link: the login's own address becomes confirmed, or
    the new address it asked for replaces the old one. Returns the login. Raises
    ValidationFailed for a token that is forged, expired, already used or
    superseded by a later request, and Conflict when another login took the
    address meanwhile."""
    invalid = ValidationFailed(_("This confirmation link is invalid or has expired."))
    try:
        data = signing.loads(token, salt=CONFIRMATION_SALT,
                             max_age=settings.TRIBUNE_EMAIL_CONFIRMATION_SECONDS)
        user_id, email = int(data["u"]), str(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise invalid from None
    User = get_user_model()
    with transaction.atomic():
        row = (EmailConfirmation.objects.select_for_update().select_related("user")
               .filter(user_id=user_id).first())
        if row is None:
            raise invalid
        user = row.user
        if row.unconfirmed_email and row.unconfirmed_email.lower() == email.lower():
            _check_free(email, user)
            User.objects.filter(pk=user.pk).update(email=email)
            user.email = email
            row.unconfirmed_email = ""
            row.confirmed_at = row.confirmed_at or timezone.now()
        elif row.confirmed_at is None and user.email.lower() == email.lower():
            row.confirmed_at = timezone.now()
        else:
            raise invalid
        row.save(update_fields=["unconfirmed_email", "confirmed_at"])
    return user


def password_reset_request(*, email: str, language: str = "") -> None:
    """Mail a password-reset link to each active login with ``email`` (compared
    case-insensitively) that has a usable password. Says nothing either way, so
    the answer never tells whether an address is known (Mastodon's paranoid
    mode)."""
    for user in logins_with_email(email.strip()).filter(is_active=True):
        if user.has_usable_password():
            publish(PasswordResetRequested(user_id=user.pk, language=language))


def password_reset_complete(*, user: AbstractBaseUser, password: str) -> AbstractBaseUser:
    """Give ``user`` the new ``password`` after it followed a valid reset link; every
    session of the login is signed out and every app's token revoked, as Mastodon
    does (``User#reset_password!``). Raises ValidationFailed for a password the
    ``AUTH_PASSWORD_VALIDATORS`` refuse, Overloaded when no hashing slot is free."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(_("Validation failed: %(reasons)s")
                               % {"reasons": " ".join(exc.messages)}) from None
    hashed = password_hash(password, check=False)
    with transaction.atomic():
        user.password = hashed
        user.save(update_fields=["password"])
        sessions_and_tokens_revoke(user=user)
    return user


def sessions_and_tokens_revoke(*, user: AbstractBaseUser) -> None:
    """Sign every browser of ``user`` out and revoke every token its apps hold."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in LoginSession.objects.filter(user=user).values_list("session_key", flat=True):
        store(session_key=key).delete()
    LoginSession.objects.filter(user=user).delete()
    get_refresh_token_model().objects.filter(user=user).delete()
    get_access_token_model().objects.filter(user=user).delete()
    get_grant_model().objects.filter(user=user).delete()


# --- after commit: the mails ----------------------------------------------------------


def confirmation_mail_send(*, user_id: int, email: str, language: str = "",
                           change: bool = False) -> None:
    """Mail ``email`` the link that confirms it for login ``user_id``; for a change
    of address, also tell the current address (Mastodon's ``email_changed``)."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return
    link = absolute("/auth/confirmation?token=" + confirmation_token(user_id=user_id,
                                                                     email=email))
    context = {"user": user, "link": link, "email": email, "instance": settings.TRIBUNE_TITLE,
               "hours": settings.TRIBUNE_EMAIL_CONFIRMATION_SECONDS // 3600}
    with translation.override(language or settings.LANGUAGE_CODE):
        if change:
            _send(_("Confirm your new e-mail address on %(instance)s") % context,
                  "accounts/email_change_confirm.txt", context, email)
            _send(_("Your e-mail address on %(instance)s is being changed") % context,
                  "accounts/email_change_notice.txt", context, user.email)
        else:
            _send(_("Confirm your e-mail address on %(instance)s") % context,
                  "accounts/email_confirm.txt", context, email)


def password_reset_mail_send(*, user_id: int, language: str = "") -> None:
    """Mail login ``user_id`` the link to choose a new password."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = absolute(f"/auth/password/reset/{uid}/{default_token_generator.make_token(user)}")
    context = {"user": user, "link": link, "instance": settings.TRIBUNE_TITLE,
               "hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
    with translation.override(language or settings.LANGUAGE_CODE):
        _send(_("Reset your password on %(instance)s") % context,
              "accounts/password_reset.txt", context, user.email)


def _send(subject: str, template: str, context: dict, to: str) -> None:
    body = render_to_string(template, context).strip() + "\n"
    send_mail(subject, body, None, [to])
