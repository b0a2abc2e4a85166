"""Two-factor authentication: a TOTP authenticator app (RFC 6238: 6 digits every
30 seconds) and ten single-use recovery codes, on django-otp's ``TOTPDevice`` and
``StaticDevice``, as Mastodon offers (docs.joinmastodon.org/user/preferences,
"Two-factor authentication").

Enabling takes two steps: ``totp_setup`` makes an unconfirmed device whose secret
the person scans, ``two_factor_enable`` confirms it with a first code and returns
the recovery codes, shown once. From then on signing in asks for a code after the
password (``two_factor_verify``). django-otp refuses a TOTP code used before and
slows guessing down: after each wrong code the device refuses every code for
1, 2, 4... seconds.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tribune.core.errors import Forbidden, ValidationFailed

RECOVERY_CODES = 10
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"
_TOTP_CODE = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class TotpSetup:
    """What the person needs to add the account to an authenticator app: the
    ``otpauth://`` URI (for the QR code) and the same secret in base32, to type."""

    uri: str
    secret: str


def two_factor_enabled(*, user: AbstractBaseUser) -> bool:
    """Whether signing in as ``user`` asks for a second factor."""
    return user_has_device(user, confirmed=True)


def recovery_codes_left(*, user: AbstractBaseUser) -> int:
    """How many unused recovery codes ``user`` has."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def totp_setup_pending(*, user: AbstractBaseUser) -> TotpSetup | None:
    """The secret being set up for ``user`` (not confirmed by a code yet), if any."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        return None
    return TotpSetup(uri=device.config_url,
                     secret=base64.b32encode(device.bin_key).decode("ascii"))


def totp_setup(*, user: AbstractBaseUser) -> TotpSetup:
    """Start setting up an authenticator app for ``user``: a new secret, replacing
    any earlier unconfirmed one. Raises Forbidden when two-factor authentication is
    already on."""
    if two_factor_enabled(user=user):
        raise Forbidden(_("Two-factor authentication is already enabled."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return totp_setup_pending(user=user)


def two_factor_enable(*, user: AbstractBaseUser, code: str) -> list[str]:
    """Confirm the device of ``totp_setup`` with a code from the app; returns the
    ten recovery codes, which are shown once and then stored only as unused rows.
    Raises ValidationFailed for a wrong code, Forbidden when there is nothing to
    confirm (already on, or no set-up started)."""
    with transaction.atomic():
        device = (TOTPDevice.objects.select_for_update()
                  .filter(user=user, confirmed=False).first())
        if device is None or two_factor_enabled(user=user):
            raise Forbidden(_("Start setting up two-factor authentication first."))
        if not _TOTP_CODE.fullmatch(code.strip()) or not device.verify_token(code.strip()):
            raise ValidationFailed(_("This code is not valid. Check the time on your "
                                     "device and try the newest code."))
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return recovery_codes_regenerate(user=user)


def recovery_codes_regenerate(*, user: AbstractBaseUser) -> list[str]:
    """Replace ``user``'s recovery codes with ten new ones and return them."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _n in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def two_factor_verify(*, user: AbstractBaseUser, code: str) -> bool:
    """Check a second factor for ``user``: six digits are a TOTP code, anything
    else a recovery code, which is used up. False for a wrong, reused or throttled
    code, and for a login without a second factor."""
    code = re.sub(r"\s+", "", code or "").lower()
    if not code:
        return False
    kind = TOTPDevice if _TOTP_CODE.fullmatch(code) else StaticDevice
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if isinstance(device, kind) and device.verify_token(code):
                return True
    return False


def two_factor_wait(*, user: AbstractBaseUser, code: str) -> int:
    """Whole seconds (at least 1) before ``user`` may try a code of ``code``'s kind
    again after wrong ones (django-otp's ``verify_is_allowed``: 1, 2, 4...
    seconds after each failure), 0 when a code may be tried now. A right code
    is refused while this lasts, so a person is told to wait rather than that
    the code is wrong."""
    code = re.sub(r"\s+", "", code or "").lower()
    kind = TOTPDevice if _TOTP_CODE.fullmatch(code) else StaticDevice
    now = timezone.now()
    wait = 0
    for device in devices_for_user(user, confirmed=True):
        if not isinstance(device, kind):
            continue
        allowed, details = device.verify_is_allowed()
        until = (details or {}).get("locked_until")
        if not allowed and until is not None and until > now:
            wait = max(wait, math.ceil((until - now).total_seconds()))
    return wait


def two_factor_disable(*, user: AbstractBaseUser, password: str, code: str) -> None:
    """Turn two-factor authentication off, after the password and a current code (or
    a recovery code). Raises ValidationFailed when either is wrong, Forbidden when
    it is not on."""
    if not two_factor_enabled(user=user):
        raise Forbidden(_("Two-factor authentication is not enabled."))
    if not user.check_password(password):
        raise ValidationFailed(_("Your current password is incorrect."))
    if not two_factor_verify(user=user, code=code):
        raise ValidationFailed(_("This code is not valid. Check the time on your "
                                 "device and try the newest code."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
