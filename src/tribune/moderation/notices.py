"""Notices of illegal content (DSA Art. 16), from anyone, with or without an account.

A notice names the exact address of a post or profile on this instance, explains
why it is illegal, gives the notifier's name and e-mail address and confirms good
faith (Art. 16(2)(a)-(d)). It is filed as a ``legal`` report in the subject's open
case, which then alleges illegal content (the decision's source is
``SOURCE_ARTICLE_16``), and it is acknowledged at once (Art. 16(4)).

Child sexual abuse material: the notifier may stay anonymous (Art. 16(2)(c), the
offences of Directive 2011/93/EU Arts. 3-7). The notifier says so with the
``csam`` flag (a checkbox on the form), which belongs to the Transparency Database
category ``STATEMENT_CATEGORY_PROTECTION_OF_MINORS``; name and e-mail then become
optional and the case goes straight to tier P0, whatever else it holds.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_lookup
from tribune.core.errors import NotFound, ValidationFailed
from tribune.core.urls import absolute
from tribune.moderation import tdb
from tribune.moderation.log import log_append
from tribune.moderation.models import Report, ReportCategory, Tier
from tribune.moderation.services import CATEGORY_TIERS, report_file
from tribune.statuses.models import Status
from tribune.statuses.selectors import status_get_visible

logger = logging.getLogger(__name__)

EXPLANATION_MAX = 5000
NAME_MAX = 200  # Report.reporter_name
EMAIL_MAX = 254  # Report.reporter_email
URL_MAX = 500  # Report.subject_url
CSAM_CATEGORY = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"

# The addresses the interface shows posts and profiles at (web/urls.py).
_PROFILE_PATHS = (
    re.compile(r"/@(?P<acct>[^/]+?)(?:/(?P<status>\d+))?"),
    re.compile(r"/users/(?P<acct>[^/@]+)(?:/statuses/(?P<status>\d+))?"),
)


def notice_create(*, url: str, explanation: str, legal_category: str, good_faith: bool,
                  name: str = "", email: str = "", csam: bool = False,
                  reporter: Account | None = None) -> Report:
    """File a notice of illegal content (DSA Art. 16) and return the stored report,
    acknowledged at once; the notifier is e-mailed the acknowledgement after
    commit when ``email`` is given (Art. 16(4)).

    ``url`` is the absolute address of a post (``/@user/<id>``,
    ``/users/<user>/statuses/<id>``) or a profile (``/@user``, ``/users/<user>``)
    on this instance; a post must be visible to ``reporter`` (to anyone for a
    notice without an account). ``legal_category`` is a Transparency Database
    ``STATEMENT_CATEGORY_*`` value (``tdb.CATEGORIES``). ``csam`` marks child
    sexual abuse material: it requires ``CSAM_CATEGORY`` (the default when the
    category is blank), makes ``name`` and ``email`` optional and the tier P0;
    otherwise the tier is that of ``legal`` reports (P2). ``reporter`` is the
    signed-in account, if any; None files an anonymous notice.

    Raises ValidationFailed, with nothing written, for an address that is not a
    visible post or profile here, a blank or over-long (5,000 characters)
    explanation, an unknown category, no good-faith confirmation, or a missing
    name or invalid e-mail address when they are required.
    """
    url, explanation = url.strip(), explanation.strip()
    name, email = name.strip(), email.strip()
    if csam and not legal_category:
        legal_category = CSAM_CATEGORY
    if not legal_category:
        raise ValidationFailed(_("Validation failed: Choose the category of illegal content"))
    if legal_category not in tdb.CATEGORIES:
        raise ValidationFailed(_("Validation failed: Category is not included in the list"))
    if csam and legal_category != CSAM_CATEGORY:
        raise ValidationFailed(_("Validation failed: Child sexual abuse material is "
                                 "reported under the protection of minors category"))
    target, status = subject_from_url(url, viewer=reporter)
    if reporter is not None and reporter.pk == target.pk:
        raise ValidationFailed(_("Validation failed: You cannot report yourself"))
    if not explanation:
        raise ValidationFailed(_("Validation failed: Explain why the content is illegal"))
    if len(explanation) > EXPLANATION_MAX:
        raise ValidationFailed(_("Validation failed: The explanation is too long (maximum "
                                 "is %(max)d characters)") % {"max": EXPLANATION_MAX})
    _check_contact(name=name, email=email, required=not csam)
    if good_faith is not True:
        raise ValidationFailed(_("Validation failed: Confirm that you believe the "
                                 "information in your notice is accurate and complete"))
    report = report_file(
        reporter=reporter, target=target, statuses=[status] if status else [],
        category=ReportCategory.LEGAL,
        tier=Tier.P0 if csam else CATEGORY_TIERS[ReportCategory.LEGAL],
        notice={"reporter_name": name, "reporter_email": email, "subject_url": url,
                "explanation": explanation, "good_faith_confirmed": True,
                "legal_category": legal_category})
    if email:
        report_id, language = report.pk, translation.get_language()
        transaction.on_commit(lambda: _acknowledge(report_id, language))
    return report


def subject_from_url(url: str, *, viewer: Account | None) -> tuple[Account, Status | None]:
    """The account and, for a post's address, the post that ``url`` points to on
    this instance (see :func:`notice_create` for the forms understood).

    Raises ValidationFailed for an address elsewhere, of another kind, or of a post
    or profile that does not exist or that ``viewer`` may not see (one message for
    both, so hidden posts are not revealed).
    """
    parts = urlsplit(url)
    if (len(url) > URL_MAX or parts.scheme.lower() not in ("http", "https")
            or parts.netloc.lower() != settings.TRIBUNE_DOMAIN.lower()):
        raise ValidationFailed(
            _("Validation failed: Give the full address of a post or profile on "
              "%(domain)s, such as %(example)s")
            % {"domain": settings.TRIBUNE_DOMAIN, "example": absolute("/@username/123")})
    path = unquote(parts.path).rstrip("/")
    match = next((m for p in _PROFILE_PATHS if (m := p.fullmatch(path))), None)
    not_here = ValidationFailed(_("Validation failed: There is no post or profile at "
                                  "this address"))
    if match is None:
        raise not_here
    try:
        target = account_lookup(acct=match["acct"])
        if match["status"] is None:
            return target, None
        status = status_get_visible(status_id=match["status"], viewer=viewer)
    except NotFound:
        raise not_here from None
    if status.account_id != target.pk or status.reblog_of_id is not None:
        raise not_here
    return target, status


def _check_contact(*, name: str, email: str, required: bool) -> None:
    if required and not name:
        raise ValidationFailed(_("Validation failed: Give your name"))
    if len(name) > NAME_MAX:
        raise ValidationFailed(_("Validation failed: The name is too long (maximum is "
                                 "%(max)d characters)") % {"max": NAME_MAX})
    if required and not email:
        raise ValidationFailed(_("Validation failed: Give your e-mail address"))
    if email:
        try:
            if len(email) > EMAIL_MAX:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            raise ValidationFailed(_("Validation failed: The e-mail address is not "
                                     "valid")) from None


def _acknowledge(report_id: int, language: str | None) -> None:
    """After commit: e-mail the notifier the confirmation of receipt (Art. 16(4))
    in the language they used, and log that it was sent."""
    report = Report.objects.get(pk=report_id)
    try:
        with translation.override(language or settings.LANGUAGE_CODE):
            subject = _("We received your notice (reference %(ref)s)") % {"ref": report.pk}
            body = render_to_string("moderation/notice_received.txt", {
                "report": report, "instance": settings.TRIBUNE_TITLE}).strip()
        send_mail(subject, body, None, [report.reporter_email])
    except Exception:  # an unreachable mail server must not lose the notice
        logger.exception("could not acknowledge notice %s", report_id)
        return
    with transaction.atomic():
        log_append(action="report.acknowledged", target_type="report", target_id=report.pk,
                   case_id=report.case_id, actor_kind="system", payload={"channel": "email"})
