"""Password rules of our own, beside Django's (``settings.AUTH_PASSWORD_VALIDATORS``,
which the web forms, the API's sign-up and ``account_create`` all apply)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

# Mastodon caps passwords too (72 characters, bcrypt's limit); Argon2 has no such
# limit, so ours only bounds the work one sign-in or sign-up asks of the server.
PASSWORD_MAX = 128


class MaximumLengthValidator:
    """Refuses a password longer than ``max_length`` characters (code
    ``password_too_long``), in the words of Django's MinimumLengthValidator."""

    def __init__(self, max_length: int = PASSWORD_MAX):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(self.get_error_message(), code="password_too_long",
                                  params={"max_length": self.max_length})

    def get_error_message(self) -> str:
        return ngettext(
            "This password is too long. It must contain at most %(max_length)d character.",
            "This password is too long. It must contain at most %(max_length)d characters.",
            self.max_length) % {"max_length": self.max_length}

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must contain at most %(max_length)d character.",
            "Your password must contain at most %(max_length)d characters.",
            self.max_length) % {"max_length": self.max_length}
