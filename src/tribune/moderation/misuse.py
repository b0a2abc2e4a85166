"""Protection against misuse of the notice mechanism (DSA Art. 23(2) and (3)).

When a decision finds some of a case's reports manifestly unfounded ("evident to a
layperson, without any substantive analysis", Recital 63), each of their reporters
is reviewed by :func:`misuse_review`:

1. **Warning.** At least ``WARN_AT`` manifestly unfounded notices in the last
   ``WINDOW``, making up at least ``MIN_PROPORTION`` of the notices they filed in
   it (Art. 23(3)(a) absolute numbers and (b) relative proportion), earn a
   prior warning, e-mailed to them.
2. **Suspension.** Only a later repetition, a manifestly unfounded notice *filed
   after* that warning, with at least ``SUSPEND_AT`` in the window and the same
   proportion, suspends the processing of their notices for ``SUSPENSION_LENGTH``:
   a reasonable, bounded period, never open-ended. A suspension always follows a
   warning that no earlier suspension has used; the next one needs a new warning.

While a suspension is active (:func:`notices_suspended`) new reports are still
stored as evidence but muted (``services.report_file``). Every sanction carries its
evidence and is logged in the same transaction as the decision that prompted it;
gravity and intent (Art. 23(3)(c), (d)) are for the moderator who marks notices
manifestly unfounded, since only a person makes that finding.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_language
from tribune.moderation.log import log_append
from tribune.moderation.models import MisuseSanction, Report, SanctionKind

logger = logging.getLogger(__name__)

WINDOW = timedelta(days=30)
WARN_AT = 3
SUSPEND_AT = 5
MIN_PROPORTION = 0.5
SUSPENSION_LENGTH = timedelta(days=14)
# A warning older than this no longer counts as the prior warning for a suspension.
WARNING_LIFETIME = timedelta(days=90)

WARNING = "warning"
SUSPENSION = "suspension"


def notices_suspended(*, account_id: int, now: datetime | None = None) -> bool:
    """Whether the processing of ``account_id``'s notices is suspended at ``now``
    (an Art. 23(2) suspension that has started and not yet ended)."""
    now = now or timezone.now()
    return MisuseSanction.objects.filter(
        account_id=account_id, kind=SanctionKind.UNFOUNDED_NOTICES, stage=SUSPENSION,
        starts_at__lte=now, ends_at__gt=now).exists()


@transaction.atomic
def misuse_review(*, account_id: int, now: datetime | None = None,
                  decided_by: Account | None = None) -> MisuseSanction | None:
    """Weigh a reporter's manifestly unfounded notices and issue the next step, if
    one is due: a warning, or (after a warning, on a repetition) a suspension
    ending ``SUSPENSION_LENGTH`` after ``now``. Returns the new sanction, or None.

    Runs inside the transaction of the decision that marked the notices
    (``decisions.decide`` calls it), else in a transaction of its own (the
    reporter's row is locked while the notices are weighed); the reporter is
    e-mailed after commit.
    ``decided_by`` is the moderator whose finding prompted the review. The
    sanction's ``evidence`` is ``{"window_days", "notices", "unfounded",
    "proportion", "unfounded_after_warning", "reports", "thresholds"}``.
    Implements DSA Art. 23(2) and (3)(a)-(b).
    """
    now = now or timezone.now()
    Account.objects.select_for_update().filter(pk=account_id).first()
    sanctions = MisuseSanction.objects.filter(account_id=account_id,
                                              kind=SanctionKind.UNFOUNDED_NOTICES)
    last_suspension = sanctions.filter(stage=SUSPENSION).order_by("-starts_at").first()
    if last_suspension and last_suspension.ends_at > now:
        return None  # already suspended
    # A suspension answers everything before it; counting starts afresh after it.
    since = now - WINDOW
    if last_suspension and last_suspension.starts_at > since:
        since = last_suspension.starts_at
    notices = Report.objects.filter(reporter_id=account_id, muted=False,
                                    created_at__gte=since, created_at__lte=now)
    total = notices.count()
    unfounded = list(notices.filter(manifestly_unfounded=True)
                     .order_by("created_at").values_list("pk", "created_at"))
    proportion = len(unfounded) / total if total else 0.0
    warnings = sanctions.filter(stage=WARNING, created_at__gte=now - WARNING_LIFETIME)
    if last_suspension:  # a warning that led to a suspension is used up
        warnings = warnings.filter(created_at__gt=last_suspension.starts_at)
    warning = warnings.order_by("-created_at").first()
    after_warning = [pk for pk, at in unfounded if warning and at > warning.created_at]
    evidence = {
        "window_days": WINDOW.days, "notices": total, "unfounded": len(unfounded),
        "proportion": round(proportion, 3), "unfounded_after_warning": len(after_warning),
        "reports": [str(pk) for pk, _at in unfounded],
        "thresholds": {"warn_at": WARN_AT, "suspend_at": SUSPEND_AT,
                       "min_proportion": MIN_PROPORTION},
    }
    if proportion < MIN_PROPORTION:
        return None
    if warning is None:
        if len(unfounded) < WARN_AT:
            return None
        return _sanction(account_id=account_id, stage=WARNING, now=now, ends_at=None,
                         evidence=evidence, decided_by=decided_by)
    if not after_warning or len(unfounded) < SUSPEND_AT:
        return None
    evidence["warning"] = str(warning.pk)
    return _sanction(account_id=account_id, stage=SUSPENSION, now=now,
                     ends_at=now + SUSPENSION_LENGTH, evidence=evidence,
                     decided_by=decided_by)


def _sanction(*, account_id: int, stage: str, now: datetime, ends_at: datetime | None,
              evidence: dict, decided_by: Account | None) -> MisuseSanction:
    sanction = MisuseSanction.objects.create(
        account_id=account_id, kind=SanctionKind.UNFOUNDED_NOTICES, stage=stage,
        starts_at=now, ends_at=ends_at, evidence=evidence, decided_by=decided_by,
        created_at=now)
    log_append(action="sanction.warning" if stage == WARNING else "sanction.applied",
               target_type="sanction", target_id=sanction.pk,
               actor_id=decided_by.pk if decided_by else None, actor_kind="system",
               payload={"account": str(account_id), "kind": sanction.kind, "stage": stage,
                        "ends_at": ends_at.isoformat() if ends_at else None, **evidence})
    sanction_id = sanction.pk
    transaction.on_commit(lambda: _tell_reporter(sanction_id))
    return sanction


def _tell_reporter(sanction_id: int) -> None:
    """After commit: e-mail the reporter the warning or the suspension, with the
    reasons and its end; logged as ``notice.sent``."""
    sanction = MisuseSanction.objects.select_related("account__user").get(pk=sanction_id)
    user = sanction.account.user
    if user is None or not user.email:
        return
    try:
        with translation.override(account_language(sanction.account)):
            subject = (_("A warning about your reports on %(instance)s")
                       if sanction.stage == WARNING else
                       _("Your reports on %(instance)s are suspended for a while")) % {
                "instance": settings.TRIBUNE_TITLE}
            body = render_to_string("moderation/misuse.txt", {
                "s": sanction, "instance": settings.TRIBUNE_TITLE,
                "window_days": WINDOW.days}).strip()
        send_mail(subject, body, None, [user.email])
    except Exception:  # an unreachable mail server must not undo the sanction
        logger.exception("could not e-mail misuse sanction %s", sanction_id)
        return
    with transaction.atomic():
        log_append(action="notice.sent", target_type="sanction", target_id=sanction.pk,
                   actor_kind="system", payload={"channel": "email"})
