"""E-mail confirmation through an app (docs: methods/emails.md): an app whose
user signed up while confirmation is required resends the link, optionally to a
corrected address. Its token is refused everywhere else with 403 ``Your login is
missing a confirmed e-mail address`` (``api.auth``) until the link is followed."""

from __future__ import annotations

from django.utils import translation
from ninja import Router, Schema

from tribune.accounts.emails import email_confirmation_resend
from tribune.api.auth import Scoped
from tribune.api.base import responses

router = Router(tags=["emails"])


class ConfirmationIn(Schema):
    email: str = ""


@router.post("/v1/emails/confirmations", response=responses(dict),
             auth=Scoped(unconfirmed=True))
def confirmation_resend(request, payload: ConfirmationIn):
    """``{}``; 403 ``This method is only available while the e-mail is awaiting
    confirmation`` once there is nothing to confirm, 422 for a malformed or taken
    ``email``."""
    email_confirmation_resend(user=request.auth.account.user, email=payload.email,
                              language=translation.get_language())
    return {}
