"""Joining the server: sign-up under the registration mode, the operator's review of
sign-ups awaiting approval, and invites."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribune.accounts.emails import email_confirmation_start
from tribune.accounts.instance import registration_mode
from tribune.accounts.models import Account, ApprovalRequest, Invite
from tribune.accounts.selectors import InviteState, invite_state, invite_usable_q
from tribune.accounts.services import account_create, password_hash
from tribune.core.errors import Conflict, Forbidden, ValidationFailed

# Mastodon's limit on the "Why do you want to join?" text (UserInviteRequest).
REASON_MAX = 420
# Mastodon's invite codes are 8 letters and digits too.
INVITE_CODE_LENGTH = 8
INVITE_CODE_CHARS = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

INVITE_ERRORS = {
    InviteState.UNKNOWN: gettext_lazy("Validation failed: Invite code is not valid"),
    InviteState.EXPIRED: gettext_lazy("Validation failed: Invite has expired"),
    InviteState.USED_UP: gettext_lazy("Validation failed: Invite has been used up"),
}


def _supported(locale: str) -> str:
    """The interface language that ``locale`` names (``fr``, ``fr-FR``), or ""."""
    code = (locale or "").strip().replace("_", "-").lower()
    languages = dict(settings.LANGUAGES)
    for candidate in (code, code.split("-")[0]):
        if candidate in languages:
            return candidate
    return ""


def account_sign_up(
    *, username: str, email: str, password: str, agreement: bool,
    reason: str = "", invite_code: str = "", locale: str = "",
    then: Callable[[Account], None] | None = None,
) -> Account:
    """Join this server under the current registration mode; returns the new account.

    - ``open``: the account is active at once.
    - ``approval``: the login stays inactive and an ``ApprovalRequest`` records
      ``reason`` (required, at most 420 characters) until an operator decides. A
      valid ``invite_code`` skips the review, as an invite does in Mastodon.
    - ``invite``: a valid ``invite_code`` is required; its use is counted in the
      same transaction as the account, so a failed sign-up spends nothing.
    - ``closed``: Forbidden, unless a valid ``invite_code`` is given: invites still
      work while registrations are closed, as in Mastodon.

    In ``open`` mode an invite code is ignored. ``agreement`` is the person's
    acceptance of the server rules. Raises Forbidden, ValidationFailed (missing
    agreement or reason, a bad invite code, and ``account_create``'s input rules) or
    Conflict (username or email taken), and Overloaded when no password-hashing
    slot is free. The password is hashed before the transaction opens, so a
    sign-up holds no database lock while it hashes.

    With ``TRIBUNE_REQUIRE_EMAIL_CONFIRMATION`` on, the address awaits
    confirmation and its link is mailed after commit (``emails``).

    ``locale`` (Mastodon's parameter of the same name: a language of the interface,
    ``fr`` or ``fr-FR``; another is ignored) becomes the account's language, and
    that of its confirmation mail; without it the mail is in the request's.

    ``then(account)``, if given, runs inside the sign-up's transaction after the
    account is made (an app's sign-up issues the login's token there), so the
    sign-up and what follows from it are kept or undone together.
    """
    mode = registration_mode()
    if mode == "closed":
        if not invite_code.strip():
            raise Forbidden(_("Registrations are closed"))
        mode = "invite"
    if not agreement:
        raise ValidationFailed(_("Validation failed: Agreement must be accepted"))
    invite_code = invite_code.strip() if mode in ("approval", "invite") else ""
    if mode == "invite" and not invite_code:
        raise ValidationFailed(_("Validation failed: Invite code can't be blank"))
    reason = reason.strip()
    needs_review = mode == "approval" and not invite_code
    if needs_review and not reason:
        raise ValidationFailed(_("Validation failed: Reason can't be blank"))
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            _("Validation failed: Reason is too long (maximum is %(max)d characters)")
            % {"max": REASON_MAX})
    hashed = password_hash(password)
    with transaction.atomic():
        if invite_code:
            invite_use(code=invite_code)
        language = _supported(locale)
        account = account_create(username=username, email=email, hashed_password=hashed,
                                 active=not needs_review, locale=language)
        if settings.TRIBUNE_REQUIRE_EMAIL_CONFIRMATION:
            email_confirmation_start(user=account.user,
                                     language=language or translation.get_language())
        if needs_review:
            ApprovalRequest.objects.create(account=account, reason=reason,
                                           created_at=timezone.now())
        if then is not None:
            then(account)
    return account


def account_approve(*, account: Account) -> Account:
    """Let a sign-up awaiting approval in: its login becomes active and the request
    is removed. Raises Conflict if the account is not awaiting approval."""
    with transaction.atomic():
        deleted, _by_model = ApprovalRequest.objects.filter(account=account).delete()
        if not deleted:
            raise Conflict(_("Account is not awaiting approval"))
        get_user_model().objects.filter(pk=account.user_id).update(is_active=True)
    if account.user is not None:
        account.user.is_active = True
    return account


def account_reject(*, account: Account) -> None:
    """Turn a sign-up awaiting approval away: its login and account are deleted (as
    Mastodon deletes a rejected sign-up), so the username and email are free again.
    Raises Conflict if the account is not awaiting approval."""
    with transaction.atomic():
        if not ApprovalRequest.objects.filter(account=account).exists():
            raise Conflict(_("Account is not awaiting approval"))
        # Deleting the login cascades to the account and its request.
        get_user_model().objects.filter(pk=account.user_id).delete()


def invite_create(
    *, created_by: Account | None, max_uses: int | None = None,
    expires_at: datetime | None = None,
) -> Invite:
    """A new invite with a random 8-character code. ``max_uses`` None means no
    limit and ``expires_at`` None means it never expires; ``created_by`` is None for
    an operator without a public account. Raises ValidationFailed for a limit below
    1 or an expiry in the past."""
    if max_uses is not None and max_uses < 1:
        raise ValidationFailed(_("Validation failed: Max uses must be at least 1"))
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed(_("Validation failed: Expiry must be in the future"))
    for _attempt in range(5):
        code = get_random_string(INVITE_CODE_LENGTH, INVITE_CODE_CHARS)
        try:
            with transaction.atomic():
                return Invite.objects.create(code=code, created_by=created_by,
                                             max_uses=max_uses, expires_at=expires_at,
                                             created_at=now)
        except IntegrityError:
            continue  # a code collision: about 1 in 10^13 per existing invite
    raise Conflict(_("Could not find a free invite code"))


def invite_use(*, code: str) -> Invite:
    """Count one use of the invite ``code``; call it inside the sign-up's
    transaction. Raises ValidationFailed when the code is unknown, expired or used
    up (including losing a race for its last use)."""
    code = code.strip()
    now = timezone.now()
    state = invite_state(code=code, now=now)
    if state is not InviteState.VALID:
        raise ValidationFailed(str(INVITE_ERRORS[state]))
    used = Invite.objects.filter(invite_usable_q(now), code=code).update(uses=F("uses") + 1)
    if not used:
        raise ValidationFailed(str(INVITE_ERRORS[InviteState.USED_UP]))
    return Invite.objects.get(code=code)
