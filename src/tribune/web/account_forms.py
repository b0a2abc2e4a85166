"""Forms of the account pages: joining, signing in, settings.

They check what a person can fix on the spot (format, availability, matching
passwords, a valid invite) so each problem shows on its own field, translated. The
services check the same rules again and have the last word; the rare error that only
they can see (a race for a username) is shown above the form.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.conf.global_settings import LANGUAGES as DJANGO_LANGUAGES
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tribune.accounts.emails import email_unconfirmed
from tribune.accounts.models import Account, QuotePolicy, Visibility
from tribune.accounts.registrations import REASON_MAX
from tribune.accounts.selectors import (
    InviteState,
    email_taken,
    invite_state,
    pending_account_with_credentials,
    username_taken,
)
from tribune.accounts.services import DISPLAY_NAME_MAX, NOTE_MAX, USERNAME_RE
from tribune.core.errors import ValidationFailed
from tribune.media.account_images import check_picture
from tribune.web.errors import reason
from tribune.web.forms import IMAGE_ACCEPT, VISIBILITY_CHOICES

INVITE_ERRORS = {
    InviteState.UNKNOWN: _("This invite code is not valid."),
    InviteState.EXPIRED: _("This invite has expired."),
    InviteState.USED_UP: _("This invite has been used up."),
}


def _password_help() -> str:
    return " ".join(password_validators_help_texts())


password_help = lazy(_password_help, str)


def _password(label, autocomplete: str, **kwargs) -> forms.CharField:
    return forms.CharField(label=label, strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": autocomplete}), **kwargs)


class SignInForm(AuthenticationForm):
    """Django's sign-in form, plus three answers it cannot give: "your account is
    pending review" and "confirm your e-mail address first" (only to someone who
    typed its password) and "too many attempts"
    (``refusal``, decided by the view before any password is checked)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "pending": _("Your account is pending review. You can sign in once a "
                     "moderator has approved it."),
        "unconfirmed": _("Confirm your e-mail address first: open the link we sent "
                         "you."),
    }

    def __init__(self, request=None, *args, refusal: str = "", **kwargs):
        super().__init__(request, *args, **kwargs)
        self.refusal = refusal
        # Our own words, from our catalogue, rather than the User model's.
        self.fields["username"].label = _("Username")
        self.fields["password"].label = _("Password")

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if email_unconfirmed(user=user):
            raise ValidationError(self.error_messages["unconfirmed"], code="unconfirmed")

    def clean(self):
        if self.refusal:
            raise ValidationError(self.refusal, code="rate_limited")
        try:
            return super().clean()
        except ValidationError:
            username = self.cleaned_data.get("username")
            password = self.cleaned_data.get("password")
            if username and password and pending_account_with_credentials(
                    username=username, password=password):
                raise ValidationError(self.error_messages["pending"], code="pending") from None
            raise


class SignUpForm(forms.Form):
    """Joining under registration ``mode``: ``reason`` is asked for in ``approval``
    mode; ``invite_code`` is required in ``invite`` mode and optional in
    ``approval`` mode (a valid one skips the review); neither exists otherwise."""

    username = forms.CharField(
        label=_("Username"), max_length=30,
        help_text=_("Letters, numbers and underscores. It cannot be changed later."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none",
                                      "spellcheck": "false"}))
    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(
        attrs={"autocomplete": "email"}))
    password = _password(_("Password"), "new-password", help_text=password_help())
    password_confirmation = _password(_("Confirm password"), "new-password")
    reason = forms.CharField(label=_("Why do you want to join?"), max_length=REASON_MAX,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("A moderator reads this before approving your "
                                         "account."))
    invite_code = forms.CharField(label=_("Invite code"), max_length=32)
    agreement = forms.BooleanField(label=_("I have read and agree to the server rules."))

    def __init__(self, *args, mode: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.mode = mode
        if mode != "approval":
            del self.fields["reason"]
        if mode == "approval":
            # Required unless an invite comes with it (``clean``).
            self.fields["reason"].required = False
            self.fields["invite_code"].required = False
            self.fields["invite_code"].help_text = _(
                "Optional. With an invite your account is ready at once.")
        elif mode != "invite":
            del self.fields["invite_code"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if not USERNAME_RE.match(username):
            raise ValidationError(_("Use only letters, numbers and underscores."),
                                  code="invalid")
        if username_taken(username):
            raise ValidationError(_("This username is already taken."), code="taken")
        return username

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if email_taken(email):
            raise ValidationError(_("This email address is already in use."), code="taken")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        validate_password(password)
        return password

    def clean_invite_code(self) -> str:
        code = self.cleaned_data["invite_code"].strip()
        state = invite_state(code=code) if code else InviteState.VALID
        if state is not InviteState.VALID:
            raise ValidationError(INVITE_ERRORS[state], code=state.value)
        return code

    def clean(self):
        cleaned = super().clean()
        password, confirmation = cleaned.get("password"), cleaned.get("password_confirmation")
        if password and confirmation and password != confirmation:
            self.add_error("password_confirmation",
                           ValidationError(_("The two passwords do not match."),
                                           code="password_mismatch"))
        if (self.mode == "approval" and not cleaned.get("reason", "").strip()
                and not cleaned.get("invite_code") and "invite_code" not in self.errors):
            self.add_error("reason", ValidationError(self.fields["reason"].error_messages[
                "required"], code="required"))
        return cleaned

    def sign_up_arguments(self) -> dict:
        """The valid form as ``account_sign_up``'s keyword arguments."""
        data = self.cleaned_data
        return {"username": data["username"], "email": data["email"],
                "password": data["password"], "agreement": data["agreement"],
                "reason": data.get("reason", ""), "invite_code": data.get("invite_code", "")}


def _picture_field(label, help_text) -> forms.FileField:
    return forms.FileField(label=label, required=False, help_text=help_text,
                           widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}))


def _checked_picture(upload):
    """A chosen picture that passes ``check_picture``, as a field error otherwise."""
    if upload is None:
        return None
    try:
        return check_picture(upload)
    except ValidationFailed as error:
        raise ValidationError(reason(error), code="invalid") from None


class ProfileForm(forms.Form):
    """What others see: Mastodon's limits, 30 characters of name, 500 of bio; the
    avatar and header pictures, and a way back to the default ones (offered only
    for a picture the account has)."""

    display_name = forms.CharField(label=_("Display name"), max_length=DISPLAY_NAME_MAX,
                                   required=False)
    note = forms.CharField(label=_("Bio"), max_length=NOTE_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("You can mention @people and #hashtags."))
    avatar = _picture_field(_("Avatar"), _("JPEG, PNG, GIF or WebP. It is cropped to "
                                           "400×400 pixels."))
    remove_avatar = forms.BooleanField(label=_("Remove the avatar"), required=False)
    header = _picture_field(_("Header"), _("JPEG, PNG, GIF or WebP. It is cropped to "
                                           "1500×500 pixels."))
    remove_header = forms.BooleanField(label=_("Remove the header"), required=False)
    locked = forms.BooleanField(label=_("Require follow requests"), required=False,
                                help_text=_("You approve each new follower yourself."))
    bot = forms.BooleanField(label=_("This is a bot account"), required=False,
                             help_text=_("It mostly posts automatically and may not be "
                                         "watched."))
    discoverable = forms.BooleanField(
        label=_("Suggest my profile to others"), required=False,
        help_text=_("Your profile may appear in suggestions and directories."))
    indexable = forms.BooleanField(
        label=_("Let people find my public posts by searching"), required=False,
        help_text=_("Anyone signed in here can then find your public posts by the words "
                    "in them. Without it, only you and the people who interacted with a "
                    "post find it."))

    def __init__(self, *args, account: Account, **kwargs):
        kwargs.setdefault("initial", self.initial_for(account))
        super().__init__(*args, **kwargs)
        for kind in ("avatar", "header"):
            if not getattr(account, kind):
                del self.fields[f"remove_{kind}"]

    @staticmethod
    def initial_for(account: Account) -> dict:
        return {"display_name": account.display_name, "note": account.note,
                "locked": account.locked, "bot": account.bot,
                "discoverable": account.discoverable, "indexable": account.indexable}

    def clean_avatar(self):
        return _checked_picture(self.cleaned_data.get("avatar"))

    def clean_header(self):
        return _checked_picture(self.cleaned_data.get("header"))


SCRIPT_VARIANTS = {"zh-hans": "zh-Hans", "zh-hant": "zh-Hant"}


def posting_language_choices() -> list[tuple[str, str]]:
    """"No default" then every language Django names (without regional variants,
    but with Chinese in its two scripts as BCP 47 writes them: ``zh-Hans``,
    ``zh-Hant``), each in its own language, sorted by that name."""
    from django.utils.translation import get_language_info

    names = {}
    for code, _name in DJANGO_LANGUAGES:
        if "-" in code and code not in SCRIPT_VARIANTS:
            continue
        try:
            names[SCRIPT_VARIANTS.get(code, code)] = get_language_info(code)["name_local"]
        except KeyError:
            continue
    ordered = sorted(names.items(), key=lambda item: item[1].casefold())
    return [("", _("No default")), *ordered]


class PreferencesForm(forms.Form):
    """Posting defaults and the interface language (``""`` follows the browser)."""

    default_visibility = forms.ChoiceField(
        label=_("Default visibility of new posts"),
        choices=[c for c in VISIBILITY_CHOICES if c[0] != Visibility.DIRECT])
    default_language = forms.ChoiceField(
        label=_("Posting language"), required=False, choices=posting_language_choices,
        help_text=_("The language new posts are marked with, unless you choose another."))
    default_quote_policy = forms.ChoiceField(
        label=_("Who can quote new posts"), choices=[
            (QuotePolicy.PUBLIC, _("Anyone")), (QuotePolicy.FOLLOWERS, _("Followers")),
            (QuotePolicy.NOBODY, _("Nobody"))], required=False)
    locale = forms.ChoiceField(
        label=_("Interface language"), required=False,
        choices=[("", pgettext_lazy("interface language", "Follow the browser")),
                 *settings.LANGUAGES])

    def __init__(self, *args, account: Account, **kwargs):
        kwargs.setdefault("initial", {"default_visibility": account.default_visibility,
                                      "default_language": account.default_language,
                                      "default_quote_policy": account.default_quote_policy,
                                      "locale": account.locale})
        super().__init__(*args, **kwargs)
        field = self.fields["default_language"]
        # A language set elsewhere (the API takes any code) stays selectable.
        if account.default_language and account.default_language not in dict(field.choices):
            field.choices = [*field.choices, (account.default_language,
                                              account.default_language)]


    def clean_default_quote_policy(self) -> str | None:
        """Not sent (an older form): left as it is."""
        return self.cleaned_data["default_quote_policy"] or None


class EmailForm(forms.Form):
    """A new email address, confirmed with the current password."""

    email = forms.EmailField(label=_("New email address"), widget=forms.EmailInput(
        attrs={"autocomplete": "email"}))
    current_password = _password(_("Current password"), "current-password")

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if email_taken(email, except_account=self.account):
            raise ValidationError(_("This email address is already in use."), code="taken")
        return email

    def clean_current_password(self) -> str:
        password = self.cleaned_data["current_password"]
        if not self.account.user.check_password(password):
            raise ValidationError(_("Your current password is incorrect."),
                                  code="password_incorrect")
        return password


class PasswordForm(PasswordChangeForm):
    """Django's change-password form (current password, new one twice, the password
    validators); the view saves through ``account_password_set``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.fields["old_password"]
        current.label = _("Current password")
        current.widget.attrs.pop("autofocus", None)  # the email form comes first
        # Django's help is a list, which may not sit inside <small>.
        self.fields["new_password1"].help_text = password_help()


class InviteForm(forms.Form):
    """A new invite; the choices are Mastodon's."""

    max_uses = forms.TypedChoiceField(
        label=_("Maximum number of uses"), required=False, coerce=int, empty_value=None,
        choices=[("", _("No limit")), *((str(n), str(n)) for n in (1, 5, 10, 25, 50, 100))])
    expires_in = forms.TypedChoiceField(
        label=_("Expires after"), required=False, coerce=int, empty_value=None,
        choices=[("", _("Never")), ("1800", _("30 minutes")), ("3600", _("1 hour")),
                 ("21600", _("6 hours")), ("43200", _("12 hours")),
                 ("86400", _("1 day")), ("604800", _("1 week"))])
