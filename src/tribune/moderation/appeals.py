"""Appeals (DSA Art. 20 complaints) and who may review them.

The affected author may appeal a restrictive decision, and a reporter a decision
to take no action, for at least six months (``Decision.appeal_deadline``). The
appeal goes to a staff member who was not involved (Santa Clara Principles 2.0,
Appeal): never anyone who decided the case or voted on it, reported it, or is its
subject, nor anyone who follows, is followed by, blocks or is blocked by one of
those people. With no such reviewer it waits, and the wait is raised as an alert
(logged, and shown on the moderation queue); it never falls back to someone
involved. Reversal is a new decision that supersedes the old one: the content
comes back and the strike is overruled.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_language
from tribune.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tribune.core.ids import parse_id
from tribune.graph.models import Block, Follow
from tribune.moderation.decisions import Reasons, decide
from tribune.moderation.log import log_append
from tribune.moderation.models import (
    Appeal,
    AppealState,
    Case,
    DecidedVia,
    Decision,
    DecisionKind,
    JuryMembership,
    Report,
    Restriction,
)

APPEAL_TEXT_MAX = 5000


def _decision(decision_id) -> Decision:
    try:
        return Decision.objects.select_related("case").get(pk=parse_id(decision_id))
    except (Decision.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound(_("Record not found")) from None


def appellant_role(account: Account, decision: Decision) -> str | None:
    """``"author"`` or ``"reporter"`` when ``account`` may appeal ``decision``
    (the affected author of a restriction; a reporter of a no-action decision),
    else None."""
    if decision.restriction != Restriction.NONE:
        return "author" if account.pk == decision.target_account_id else None
    if Report.objects.filter(case_id=decision.case_id, reporter=account).exists():
        return "reporter"
    return None


def involved_ids(decision: Decision) -> set[int]:
    """Everyone involved in ``decision``'s case: its subject, everyone who reported
    the same subject, every person who decided it (this decision and those it
    superseded) and every juror."""
    ids = {decision.target_account_id}
    # Reporters of the same subject in any case, not only the decided one.
    same_subject = Case.objects.filter(subject_key=decision.case.subject_key).values("pk")
    ids |= set(Report.objects.filter(case_id__in=same_subject, reporter__isnull=False)
               .values_list("reporter_id", flat=True))
    ids |= set(Decision.objects.filter(case_id=decision.case_id, decided_by__isnull=False)
               .values_list("decided_by_id", flat=True))
    chain = decision
    while chain is not None:
        if chain.decided_by_id:
            ids.add(chain.decided_by_id)
        chain = chain.supersedes
    ids |= set(JuryMembership.objects.filter(panel__case_id=decision.case_id)
               .values_list("juror_id", flat=True))
    return ids


def excluded_reviewer_ids(decision: Decision) -> set[int]:
    """Who may not review an appeal of ``decision``: the involved people and their
    follow and block neighbours, in both directions."""
    involved = involved_ids(decision)
    neighbours = set()
    for model, a, b in ((Follow, "account_id", "target_id"), (Block, "account_id", "target_id")):
        neighbours |= set(model.objects.filter(**{f"{a}__in": involved}).values_list(b, flat=True))
        neighbours |= set(model.objects.filter(**{f"{b}__in": involved}).values_list(a, flat=True))
    return involved | neighbours


def eligible_reviewers(decision: Decision) -> list[Account]:
    """Staff accounts that may review an appeal of ``decision``, least busy first
    (fewest appeals assigned and undecided), then oldest account."""
    staff = get_user_model().objects.filter(is_staff=True, is_active=True)
    return list(
        Account.objects.filter(user__in=staff, suspended_at__isnull=True, domain="")
        .exclude(pk__in=excluded_reviewer_ids(decision))
        .annotate(load=Count("pk", filter=Q(pk__in=Appeal.objects.filter(
            state=AppealState.ASSIGNED).values("reviewer_id"))))
        .order_by("load", "created_at", "pk"))


def appeal_create(*, account: Account, decision_id, text: str) -> Appeal:
    """File an appeal against a decision and assign it to an uninvolved reviewer
    when there is one. Returns the appeal (``pending`` when it waits).

    Raises NotFound for an unknown decision, Forbidden when ``account`` may not
    appeal it, ValidationFailed for a blank or over-long text, an appeal after the
    deadline, or a decision already superseded; Conflict for a second appeal by the
    same person.
    """
    decision = _decision(decision_id)
    role = appellant_role(account, decision)
    if role is None:
        raise Forbidden(_("You cannot appeal this decision"))
    text = text.strip()
    if not text:
        raise ValidationFailed(_("Validation failed: Text can't be blank"))
    if len(text) > APPEAL_TEXT_MAX:
        raise ValidationFailed(_("Validation failed: Text is too long (maximum is %(max)d "
                                 "characters)") % {"max": APPEAL_TEXT_MAX})
    now = timezone.now()
    if now > decision.appeal_deadline:
        raise ValidationFailed(_("Validation failed: The time to appeal this decision has passed"))
    if decision.superseded_by.exists():
        raise ValidationFailed(_("Validation failed: This decision has been replaced; appeal "
                                 "the new one"))
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(decision=decision, appellant=account,
                                           appellant_role=role, text=text, filed_at=now)
            log_append(action="appeal.filed", target_type="appeal", target_id=appeal.pk,
                       case_id=decision.case_id, actor_id=account.pk, actor_kind="human",
                       payload={"decision": str(decision.pk), "role": role,
                                "automated_detection": decision.automated_detection})
            _assign(appeal, now=now)
    except IntegrityError:
        raise Conflict(_("You have already appealed this decision")) from None
    return appeal


def _assign(appeal: Appeal, *, now: datetime) -> bool:
    reviewers = eligible_reviewers(appeal.decision)
    if not reviewers:
        if appeal.alert_raised_at is None:
            Appeal.objects.filter(pk=appeal.pk).update(alert_raised_at=now)
            appeal.alert_raised_at = now
            log_append(action="appeal.no_reviewer", target_type="appeal", target_id=appeal.pk,
                       case_id=appeal.decision.case_id, actor_kind="system",
                       payload={"waiting_since": appeal.filed_at.isoformat()})
        return False
    reviewer = reviewers[0]
    Appeal.objects.filter(pk=appeal.pk).update(state=AppealState.ASSIGNED, reviewer=reviewer,
                                               assigned_at=now)
    appeal.state, appeal.reviewer, appeal.assigned_at = AppealState.ASSIGNED, reviewer, now
    log_append(action="appeal.assigned", target_type="appeal", target_id=appeal.pk,
               case_id=appeal.decision.case_id, actor_kind="system",
               payload={"reviewer": str(reviewer.pk)})
    return True


def appeals_assign_pending() -> int:
    """Try again to assign every waiting appeal (after staff changes); returns how
    many found a reviewer."""
    assigned = 0
    for pk in list(Appeal.objects.filter(state=AppealState.PENDING).values_list("pk", flat=True)):
        with transaction.atomic():
            appeal = (Appeal.objects.select_for_update().select_related("decision__case")
                      .filter(pk=pk, state=AppealState.PENDING).first())
            if appeal is not None:
                assigned += _assign(appeal, now=timezone.now())
    return assigned


def appeal_decide(*, reviewer: Account, appeal_id, reverse: bool, response: str,
                  restriction: str | None = None, reasons: Reasons | None = None,
                  label_text: str = "", duration=None) -> Appeal:
    """The assigned reviewer answers an appeal with reasons (``response``).

    ``reverse=False`` upholds the decision. ``reverse=True`` replaces it: for an
    author's appeal by no action (the restriction is lifted, the strike overruled)
    unless ``restriction``/``reasons`` give a lighter one; for a reporter's appeal
    against no action, ``restriction`` and complete ``reasons`` are required.

    Raises NotFound for an unknown appeal, Forbidden unless ``reviewer`` is the
    assigned reviewer and still uninvolved, ValidationFailed for a blank response,
    an appeal already decided, or incomplete reasons for a new restriction.
    """
    response = response.strip()
    now = timezone.now()
    _give_up_if_now_involved(reviewer=reviewer, appeal_id=appeal_id)
    with transaction.atomic():
        try:
            appeal = (Appeal.objects.select_for_update().select_related("decision__case")
                      .get(pk=parse_id(appeal_id)))
        except (Appeal.DoesNotExist, TypeError, ValueError, OverflowError):
            raise NotFound(_("Record not found")) from None
        if appeal.reviewer_id != reviewer.pk or reviewer.pk in excluded_reviewer_ids(appeal.decision):
            raise Forbidden(_("This appeal is assigned to someone else"))
        if appeal.state != AppealState.ASSIGNED:
            raise ValidationFailed(_("Validation failed: This appeal is already decided"))
        if not response:
            raise ValidationFailed(_("Validation failed: Give your reasons to the appellant"))
        if len(response) > APPEAL_TEXT_MAX:
            raise ValidationFailed(_("Validation failed: The reasons are too long"))
        old = appeal.decision
        resolution = None
        if reverse:
            if restriction is None or restriction == Restriction.NONE:
                if old.restriction == Restriction.NONE:
                    raise ValidationFailed(_("Validation failed: Choose the restriction that "
                                             "replaces no action"))
                new_restriction, new_reasons = Restriction.NONE, Reasons(facts=response)
            else:
                if reasons is None:
                    raise ValidationFailed(_("Validation failed: The facts and circumstances "
                                             "can't be blank"))
                new_restriction, new_reasons = restriction, reasons
            case = Case.objects.select_for_update().get(pk=old.case_id)
            resolution = decide(case=case, decided_by=reviewer,
                                decided_via=DecidedVia.APPEAL_REVIEWER,
                                restriction=new_restriction, reasons=new_reasons,
                                label_text=label_text, duration=duration,
                                kind=DecisionKind.APPEAL, supersedes=old)
        state = AppealState.REVERSED if reverse else AppealState.UPHELD
        Appeal.objects.filter(pk=appeal.pk).update(state=state, reasoned_response=response,
                                                   resolution=resolution, decided_at=now)
        log_append(action="appeal.decided", target_type="appeal", target_id=appeal.pk,
                   case_id=old.case_id, actor_id=reviewer.pk, actor_kind="human",
                   payload={"outcome": state, "filed_at": appeal.filed_at.isoformat(),
                            "decided_at": now.isoformat(),
                            "resolution": str(resolution.pk) if resolution else None,
                            "automated_detection": old.automated_detection})
        appeal_pk = appeal.pk
        transaction.on_commit(lambda: _notify_appellant(appeal_pk))
    appeal.refresh_from_db()
    return appeal


def _give_up_if_now_involved(*, reviewer: Account, appeal_id) -> None:
    """An assigned reviewer who has since become connected to someone in the case
    (a follow or block) loses the appeal: it goes to another uninvolved reviewer,
    or waits. Raises Forbidden saying so; does nothing otherwise."""
    with transaction.atomic():
        appeal = (Appeal.objects.select_for_update().select_related("decision__case")
                  .filter(pk=_appeal_pk(appeal_id), reviewer=reviewer,
                          state=AppealState.ASSIGNED).first())
        if appeal is None or reviewer.pk not in excluded_reviewer_ids(appeal.decision):
            return
        Appeal.objects.filter(pk=appeal.pk).update(state=AppealState.PENDING, reviewer=None,
                                                   assigned_at=None)
        appeal.state, appeal.reviewer = AppealState.PENDING, None
        log_append(action="appeal.unassigned", target_type="appeal", target_id=appeal.pk,
                   case_id=appeal.decision.case_id, actor_kind="system",
                   payload={"reviewer": str(reviewer.pk), "reason": "now involved"})
        _assign(appeal, now=timezone.now())
    raise Forbidden(_("You are now connected to someone in this case, so this appeal has "
                      "gone to another reviewer"))


def _appeal_pk(appeal_id) -> int | None:
    try:
        return parse_id(appeal_id)
    except (TypeError, ValueError, OverflowError):
        return None


def _notify_appellant(appeal_id: int) -> None:
    """E-mail the appellant the reasoned answer (Art. 20(5)) and record it."""
    from django.conf import settings
    from django.template.loader import render_to_string
    from django.utils import translation

    from tribune.core.urls import absolute

    appeal = Appeal.objects.select_related("appellant__user", "decision").get(pk=appeal_id)
    user = appeal.appellant.user
    if user is not None and user.email:
        with translation.override(account_language(appeal.appellant)):
            subject = _("The answer to your appeal on %(instance)s") % {
                "instance": settings.TRIBUNE_TITLE}
            body = render_to_string("moderation/appeal_answer.txt", {
                "appeal": appeal, "instance": settings.TRIBUNE_TITLE,
                "url": absolute(f"/moderation/decisions/{appeal.decision_id}")}).strip()
        send_mail(subject, body, None, [user.email], fail_silently=True)
    Appeal.objects.filter(pk=appeal.pk).update(notified_at=timezone.now())
