"""Forms of the security pages: the second step of signing in, two-factor set-up
and removal, password reset, and asking for a confirmation link again. Their
checks are the services' (``accounts.emails``, ``accounts.two_factor``); the forms
only parse and label."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tribune.accounts.emails import password_reset_complete
from tribune.core.errors import ValidationFailed
from tribune.web.account_forms import password_help
from tribune.web.errors import reason


def _code_field(label=None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Two-factor code"), max_length=32, strip=True,
        help_text=_("The 6-digit code from your authenticator app, or one of your "
                    "recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                      "autocapitalize": "none", "spellcheck": "false"}))


class TwoFactorCodeForm(forms.Form):
    """The second step of signing in."""

    code = _code_field()


class TotpEnableForm(forms.Form):
    """The first code of a newly added authenticator app."""

    code = forms.CharField(
        label=_("Code from the app"), max_length=6, min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                      "inputmode": "numeric", "pattern": "[0-9]{6}"}))


class TwoFactorDisableForm(forms.Form):
    """Turning two-factor authentication off: the password and a code."""

    current_password = forms.CharField(
        label=_("Current password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = _code_field()


class EmailAddressForm(forms.Form):
    """An e-mail address to send a link to (password reset, confirmation)."""

    email = forms.EmailField(label=_("Email address"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class ResetPasswordForm(SetPasswordForm):
    """Django's new-password form; saving goes through ``password_reset_complete``,
    which also signs every session out and revokes the apps' tokens."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = password_help()

    def save(self, commit: bool = True):
        try:
            return password_reset_complete(user=self.user,
                                           password=self.cleaned_data["new_password1"])
        except ValidationFailed as error:  # the validators ran already: only a race
            raise ValidationError(reason(error)) from None
