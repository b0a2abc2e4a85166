"""Writes to accounts: creation (login + public account) and profile updates."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account, Visibility
from tribune.core.errors import Conflict, ValidationFailed
from tribune.core.languages import is_language_code
from tribune.core.text import render
from tribune.core.urls import absolute

USERNAME_RE = re.compile(r"^[a-z0-9_]+([a-z0-9_.\-]+[a-z0-9_]+)?$", re.IGNORECASE)
NOTE_MAX = 500
DISPLAY_NAME_MAX = 30


def account_create(
    *, username: str, email: str, password: str, admin: bool = False,
    display_name: str = "", note: str = "", locked: bool = False, bot: bool = False,
    check_password: bool = True, active: bool = True,
) -> Account:
    """Create a local login and its public account in one transaction.

    Usernames follow Mastodon's rule (letters, digits and underscores, at most 30;
    unique case-insensitively). ``active=False`` makes a login that cannot sign in
    yet (a sign-up awaiting approval). Raises ValidationFailed for bad input and
    Conflict when the username or email is taken.
    """
    if not username or len(username) > 30 or not USERNAME_RE.match(username):
        raise ValidationFailed(_(
            "Validation failed: Username must contain only letters, numbers and "
            "underscores, at most 30 characters"
        ))
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(_("Validation failed: Email is invalid")) from None
    if check_password:
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            raise ValidationFailed(_("Validation failed: %(reasons)s")
                                   % {"reasons": " ".join(exc.messages)}) from None
    User = get_user_model()
    if Account.objects.filter(username__iexact=username, domain="").exists():
        raise Conflict(_("Username %(username)s is already taken") % {"username": username})
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(_("Email %(email)s is already taken") % {"email": email})
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=username, email=email, password=password,
                is_staff=admin, is_superuser=admin, is_active=active,
            )
            account = Account.objects.create(
                user=user, username=username, domain="", created_at=timezone.now(),
                display_name=display_name[:DISPLAY_NAME_MAX], locked=locked, bot=bot,
            )
            if note:
                _set_note(account, note)
                account.save(update_fields=["note", "note_html"])
    except IntegrityError:
        raise Conflict(_("Username %(username)s is already taken") % {"username": username}) from None
    return account


def _set_note(account: Account, note: str) -> None:
    from tribune.accounts.selectors import account_url_for_handle

    account.note = note
    account.note_html = render(
        note, mention_url=account_url_for_handle,
        tag_url=lambda name: absolute(f"/tags/{name}"),
    )


def account_update(
    *, account: Account, display_name: str | None = None, note: str | None = None,
    locked: bool | None = None, bot: bool | None = None,
    discoverable: bool | None = None, indexable: bool | None = None,
    default_visibility: str | None = None, default_sensitive: bool | None = None,
    default_language: str | None = None, locale: str | None = None,
) -> Account:
    """Change profile fields and posting preferences; None leaves a field as it is.

    Limits are Mastodon's: display name 30 characters, note 500. ``locale`` is the
    interface language, one of ``settings.LANGUAGES`` or "" for the browser's choice.
    Raises ValidationFailed.
    """
    if display_name is not None:
        if len(display_name) > DISPLAY_NAME_MAX:
            raise ValidationFailed(_("Validation failed: Display name is too long (maximum is 30 characters)"))
        account.display_name = display_name
    if note is not None:
        if len(note) > NOTE_MAX:
            raise ValidationFailed(_("Validation failed: Note is too long (maximum is 500 characters)"))
        _set_note(account, note)
    if default_visibility is not None:
        # Mastodon's posting default may not be direct (UserSettings privacy).
        if default_visibility not in (Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE):
            raise ValidationFailed(_("Validation failed: Privacy is not included in the list"))
        account.default_visibility = default_visibility
    if default_language is not None:
        if default_language and not is_language_code(default_language):
            raise ValidationFailed(_("Validation failed: Language is not a valid language code"))
        account.default_language = default_language
    if locale is not None:
        if locale and locale not in dict(settings.LANGUAGES):
            raise ValidationFailed(_("Validation failed: Locale is not included in the list"))
        account.locale = locale
    for field, value in (("locked", locked), ("bot", bot), ("discoverable", discoverable),
                         ("indexable", indexable), ("default_sensitive", default_sensitive)):
        if value is not None:
            setattr(account, field, value)
    account.save()
    return account


def account_email_set(*, account: Account, email: str) -> Account:
    """Change the login's email address. The caller has re-authenticated the person
    (the web asks for the current password). Raises ValidationFailed for a malformed
    address and Conflict when another login has it (compared case-insensitively)."""
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(_("Validation failed: Email is invalid")) from None
    User = get_user_model()
    if User.objects.filter(email__iexact=email).exclude(pk=account.user_id).exists():
        raise Conflict(_("Email %(email)s is already taken") % {"email": email})
    User.objects.filter(pk=account.user_id).update(email=email)
    account.user.email = email
    return account


def account_password_set(*, account: Account, password: str) -> Account:
    """Give the login a new password, checked by ``AUTH_PASSWORD_VALIDATORS``. The
    caller has re-authenticated the person. Raises ValidationFailed."""
    user = account.user
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(_("Validation failed: %(reasons)s")
                                   % {"reasons": " ".join(exc.messages)}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    return account
