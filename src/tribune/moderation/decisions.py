"""Decisions on cases: the statement of reasons, the notice, the restriction, its end.

A decision is made by a person (a moderator, an appeal reviewer) or a jury, never
by a machine (moderation reference §8.12, behaviours 1–3, 5). A restrictive
decision is refused unless its statement of reasons is complete (DSA Art. 17(3)).
The affected account is notified in the same transaction that applies the
restriction, before it (``author_notified_at <= applied_at``), in the app
(Mastodon's ``moderation_warning`` notification) and by e-mail after commit.

Restrictions are fields on the status or account (``Status.moderation_label``,
``reach_reduced_at``, ``removed_at``; ``Account.frozen_at``, ``suspended_at``)
recomputed from the decisions in force (:func:`_sync`), so lifting one decision
never lifts another that still applies. A temporary restriction ends by itself: a
task scheduled for ``ends_at`` lifts it, and :func:`decisions_lift_due` catches up
on any that a stopped worker missed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_language
from tribune.core.entity_cache import new_version
from tribune.core.errors import Forbidden, NotFound, ValidationFailed
from tribune.core.ids import new_id, parse_id
from tribune.core.languages import is_language_code
from tribune.core.urls import absolute
from tribune.moderation import tdb
from tribune.moderation.log import log_append
from tribune.moderation.misuse import misuse_review
from tribune.moderation.models import (
    Case,
    CaseState,
    DecidedVia,
    Decision,
    DecisionKind,
    Report,
    Restriction,
    Rule,
    Strike,
    Tier,
)
from tribune.notifications.models import Notification, NotificationType
from tribune.notifications.services import notification_stream
from tribune.statuses.models import Status

logger = logging.getLogger(__name__)

FACTS_MAX = 5000  # TDB decision_facts
EXPLANATION_MAX = 2000  # TDB *_explanation
GROUND_MAX = 500  # TDB illegal_content_legal_ground, incompatible_content_ground
LABEL_MAX = 200
MAX_DURATION = timedelta(days=3650)
# DSA Art. 20(1): complaints stay possible for at least six months.
APPEAL_WINDOW = timedelta(days=183)
STRIKE_LIFETIME = timedelta(days=90)  # Mastodon's AccountWarning::RECENT_PERIOD
# Active strike weight at which escalation is proposed to a moderator (a new case
# on the account); nothing is ever applied automatically.
STRIKE_ESCALATION_WEIGHT = 3

STATUS_RESTRICTIONS = {Restriction.LABEL, Restriction.REDUCE, Restriction.REMOVE}
ACCOUNT_RESTRICTIONS = {Restriction.FREEZE, Restriction.SUSPEND}


@dataclass
class Reasons:
    """What the decider states (DSA Art. 17(3)). ``ground`` is ``"tc"`` (against
    rule ``rule_id``: ``explanation`` says why) or ``"law"`` (``legal_ground``
    names the law, ``explanation`` says why the content is illegal under it).
    ``facts`` are the facts and circumstances relied on (no personal data: they
    are published in the Transparency Database). ``category`` is a TDB
    ``STATEMENT_CATEGORY_*`` (default: other violation of the terms for ``tc``);
    ``keywords`` are TDB ``KEYWORD_*`` values; ``territorial_scope`` ISO codes of
    EEA countries (default: all of them)."""

    facts: str
    ground: str = "tc"
    rule_id: int | str | None = None
    explanation: str = ""
    legal_ground: str = ""
    category: str = ""
    keywords: list[str] = field(default_factory=list)
    territorial_scope: list[str] = field(default_factory=list)


def require_moderator(account: Account | None) -> None:
    """Forbidden unless ``account`` is an active, unsuspended staff member's."""
    user = getattr(account, "user", None)
    if user is None or not user.is_staff or not user.is_active or account.suspended_at:
        raise Forbidden(_("This action is not allowed"))


def case_locked(case_id) -> Case:
    """The case, locked for update (call inside a transaction); NotFound if unknown."""
    try:
        return Case.objects.select_for_update().get(pk=parse_id(case_id))
    except (Case.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound(_("Record not found")) from None


def _check_reasons(reasons: Reasons, restriction: str, label_text: str,
                   status: Status | None) -> Rule | None:
    """The rule relied on, after checking that the reasons are complete for
    ``restriction``; ValidationFailed naming the first missing part otherwise."""
    facts = reasons.facts.strip()
    if not facts:
        raise ValidationFailed(_("Validation failed: The facts and circumstances can't be blank"))
    if len(facts) > FACTS_MAX:
        raise ValidationFailed(_("Validation failed: The facts are too long (maximum is "
                                 "%(max)d characters)") % {"max": FACTS_MAX})
    if problems := tdb.personal_data(facts):
        # The facts are published in the Transparency Database (DSA Art. 24(5)).
        raise ValidationFailed(_("Validation failed: The facts are published, so they must "
                                 "not name anyone: %(problems)s")
                               % {"problems": ", ".join(problems)})
    if restriction not in Restriction.values:
        raise ValidationFailed(_("Validation failed: Restriction is not included in the list"))
    rule = None
    if reasons.rule_id not in (None, ""):
        try:
            rule = Rule.objects.get(pk=parse_id(reasons.rule_id))
        except (Rule.DoesNotExist, TypeError, ValueError, OverflowError):
            raise ValidationFailed(_("Validation failed: Rule is not valid")) from None
    if restriction == Restriction.NONE:
        return rule
    if restriction in STATUS_RESTRICTIONS and status is None:
        raise ValidationFailed(_("Validation failed: This restriction applies to a post, "
                                 "and the case has none"))
    if restriction == Restriction.LABEL and not label_text.strip():
        raise ValidationFailed(_("Validation failed: The content warning can't be blank"))
    if len(label_text) > LABEL_MAX:
        raise ValidationFailed(_("Validation failed: The content warning is too long"))
    explanation = reasons.explanation.strip()
    if reasons.ground == "tc":
        if rule is None:
            raise ValidationFailed(_("Validation failed: Name the rule the content breaks"))
    elif reasons.ground == "law":
        if not reasons.legal_ground.strip():
            raise ValidationFailed(_("Validation failed: Name the law the content breaks"))
        if len(reasons.legal_ground) > GROUND_MAX:
            raise ValidationFailed(_("Validation failed: The legal ground is too long"))
        if not reasons.category:
            raise ValidationFailed(_("Validation failed: Choose the category of illegal content"))
    else:
        raise ValidationFailed(_("Validation failed: Ground is not included in the list"))
    if not explanation:
        raise ValidationFailed(_("Validation failed: Explain why the content breaks it"))
    if len(explanation) > EXPLANATION_MAX:
        raise ValidationFailed(_("Validation failed: The explanation is too long (maximum "
                                 "is %(max)d characters)") % {"max": EXPLANATION_MAX})
    if reasons.category and reasons.category not in tdb.CATEGORIES:
        raise ValidationFailed(_("Validation failed: Category is not included in the list"))
    if any(k not in tdb.KEYWORDS for k in reasons.keywords):
        raise ValidationFailed(_("Validation failed: Keyword is not included in the list"))
    if any(c not in tdb.EEA_COUNTRIES for c in reasons.territorial_scope):
        raise ValidationFailed(_("Validation failed: Territorial scope must list EU or EEA "
                                 "country codes"))
    return rule


def rule_url(rule: Rule) -> str:
    """The public address of one rule (the rules list on the about page)."""
    return absolute(f"/about#rule-{rule.pk}")


def _source_type(case: Case) -> str:
    if case.alleges_illegal:
        return tdb.SOURCE_ARTICLE_16
    if Report.objects.filter(case=case).exists():
        return tdb.SOURCE_OTHER
    return tdb.SOURCE_VOLUNTARY


def _statement_fields(*, case: Case, restriction: str, reasons: Reasons, rule: Rule | None,
                      status: Status | None, target: Account, now: datetime,
                      ends_at: datetime | None) -> dict:
    """The Transparency Database fields of one decision (moderation reference §1.6)."""
    end_date = ends_at.date() if ends_at else None
    fields = {
        "decision_visibility": [], "decision_provision": "", "decision_account": "",
        "end_date_visibility_restriction": None, "end_date_service_restriction": None,
        "end_date_account_restriction": None,
    }
    if restriction == Restriction.LABEL:
        fields.update(decision_visibility=[tdb.VISIBILITY_LABELLED],
                      end_date_visibility_restriction=end_date)
    elif restriction == Restriction.REDUCE:
        fields.update(decision_visibility=[tdb.VISIBILITY_DEMOTED],
                      end_date_visibility_restriction=end_date)
    elif restriction == Restriction.REMOVE:
        # The post is kept for the author and for a reversal: access is disabled.
        fields.update(decision_visibility=[tdb.VISIBILITY_DISABLED],
                      end_date_visibility_restriction=end_date)
    elif restriction == Restriction.FREEZE:
        fields.update(decision_provision=tdb.PROVISION_PARTIAL_SUSPENSION,
                      end_date_service_restriction=end_date)
    elif restriction == Restriction.SUSPEND:
        fields.update(decision_account=tdb.ACCOUNT_SUSPENDED,
                      end_date_account_restriction=end_date)
    if reasons.ground == "law":
        fields.update(decision_ground=tdb.GROUND_ILLEGAL,
                      illegal_content_legal_ground=reasons.legal_ground.strip(),
                      illegal_content_explanation=reasons.explanation.strip(),
                      decision_ground_reference_url="")
    else:
        fields.update(decision_ground=tdb.GROUND_INCOMPATIBLE,
                      incompatible_content_ground=(
                          f"Rule {rule.position + 1} (version {rule.version}): {rule.text}"[:GROUND_MAX]
                          if rule else ""),
                      incompatible_content_explanation=reasons.explanation.strip(),
                      decision_ground_reference_url=rule_url(rule) if rule else "")
    language = (status.language or "") if status else ""
    fields.update(
        category=reasons.category or ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
                                      if reasons.ground == "tc" else ""),
        category_specification=list(dict.fromkeys(reasons.keywords)),
        territorial_scope=list(dict.fromkeys(reasons.territorial_scope)) or list(tdb.EEA_COUNTRIES),
        content_type=[tdb.CONTENT_TYPE_TEXT] if status else [tdb.CONTENT_TYPE_OTHER],
        content_type_other="" if status else "account",
        content_language=language.upper() if len(language) == 2 and is_language_code(language) else "",
        content_date=(status.created_at if status else target.created_at).date(),
        application_date=now.date(),
        decision_facts=reasons.facts.strip(),
        source_type=_source_type(case),
        automated_detection="Yes" if case.automated_detection else "No",
        # A person or a jury decides every case; nothing is decided by a machine.
        automated_decision=tdb.AUTOMATED_DECISION_NOT,
    )
    return fields


def _statement_text(decision: Decision, *, rule: Rule | None, language: str) -> str:
    with translation.override(language):
        return render_to_string("moderation/statement.txt", {
            "d": decision, "rule": rule, "appeal_url": absolute(f"/moderation/decisions/{decision.pk}"),
            "instance": settings.TRIBUNE_TITLE,
        }).strip()


def _sync(*, status_id: int | None, account_id: int) -> None:
    """Set the restriction fields of a status and its author from the decisions in
    force on them (not lifted, not superseded)."""
    in_force = Decision.objects.filter(lifted_at__isnull=True).exclude(
        restriction=Restriction.NONE)
    if status_id is not None:
        on_status = list(in_force.filter(status_id=status_id,
                                         restriction__in=STATUS_RESTRICTIONS)
                         .order_by("created_at").values("restriction", "label_text",
                                                        "applied_at"))
        labels = [d["label_text"] for d in on_status if d["restriction"] == Restriction.LABEL]

        def since(kind):
            return next((d["applied_at"] for d in on_status if d["restriction"] == kind), None)

        Status.objects.filter(pk=status_id).update(
            moderation_label=labels[-1] if labels else "",
            reach_reduced_at=since(Restriction.REDUCE), removed_at=since(Restriction.REMOVE),
            version=new_version())
    on_account = list(in_force.filter(target_account_id=account_id,
                                      restriction__in=ACCOUNT_RESTRICTIONS)
                      .order_by("created_at").values("restriction", "applied_at"))

    def account_since(kind):
        return next((d["applied_at"] for d in on_account if d["restriction"] == kind), None)

    Account.objects.filter(pk=account_id).update(
        frozen_at=account_since(Restriction.FREEZE),
        suspended_at=account_since(Restriction.SUSPEND), version=new_version())


def decision_create(*, case_id, moderator: Account, restriction: str, reasons: Reasons,
                    label_text: str = "", duration: timedelta | None = None,
                    unfounded_report_ids=(), strike: bool = True) -> Decision:
    """A moderator decides an open case (``restriction`` is a ``Restriction``
    value; ``none`` decides to take no action). Returns the decision, applied.

    ``duration`` makes the restriction temporary (it lifts itself when it ends);
    ``unfounded_report_ids`` are the case's reports the moderator found manifestly
    unfounded (DSA Art. 23); ``strike`` adds a strike for a restrictive decision.

    Raises Forbidden unless ``moderator`` is staff and not the case's subject,
    NotFound for an unknown case, Conflict-free ValidationFailed for a case that is
    not open or incomplete reasons (see :class:`Reasons`).
    """
    require_moderator(moderator)
    with transaction.atomic():
        case = case_locked(case_id)
        if case.target_account_id == moderator.pk:
            raise Forbidden(_("You cannot decide a case about your own account"))
        if case.state != CaseState.OPEN:
            raise ValidationFailed(_("Validation failed: This case is not open"))
        return decide(case=case, decided_by=moderator, decided_via=DecidedVia.MODERATOR,
                      restriction=restriction, reasons=reasons, label_text=label_text,
                      duration=duration, unfounded_report_ids=unfounded_report_ids,
                      strike=strike)


def decide(*, case: Case, decided_by: Account | None, decided_via: str, restriction: str,
           reasons: Reasons, label_text: str = "", duration: timedelta | None = None,
           unfounded_report_ids=(), strike: bool = True, kind: str = DecisionKind.INITIAL,
           supersedes: Decision | None = None) -> Decision:
    """Make and apply a decision on ``case`` (locked by the caller, inside its
    transaction): the one path for moderators, juries and appeal reviewers.

    Superseding a decision lifts its restriction and overrules its strikes before
    the new restriction, if any, applies. Raises ValidationFailed for incomplete
    reasons or a bad duration.
    """
    if decided_via not in DecidedVia.values:
        raise ValidationFailed(_("Validation failed: Only people decide cases"))
    status = case.status
    rule = _check_reasons(reasons, restriction, label_text, status)
    if duration is not None and not timedelta(0) < duration <= MAX_DURATION:
        raise ValidationFailed(_("Validation failed: Duration must be between one hour and "
                                 "ten years"))
    if duration is not None and restriction == Restriction.NONE:
        duration = None
    target = Account.objects.get(pk=case.target_account_id)
    now = timezone.now()
    ends_at = now + duration if duration else None
    restrictive = restriction != Restriction.NONE
    decision = Decision(
        id=new_id(), case=case, supersedes=supersedes, kind=kind, decided_by=decided_by,
        decided_via=decided_via, target_account=target, status=status,
        restriction=restriction, label_text=label_text.strip() if restrictive else "",
        rule=rule, rule_version=rule.version if rule else None, created_at=now,
        ends_at=ends_at, appeal_deadline=now + APPEAL_WINDOW,
    )
    decision.puid = f"tribune-decision-{decision.id}"
    if restrictive:
        for name, value in _statement_fields(case=case, restriction=restriction,
                                             reasons=reasons, rule=rule, status=status,
                                             target=target, now=now, ends_at=ends_at).items():
            setattr(decision, name, value)
    else:
        decision.decision_facts = reasons.facts.strip()
        decision.content_date = (status.created_at if status else target.created_at).date()
        decision.application_date = now.date()
        decision.source_type = _source_type(case)
        decision.automated_detection = "Yes" if case.automated_detection else "No"
        decision.automated_decision = tdb.AUTOMATED_DECISION_NOT
    decision.statement_text = _statement_text(
        decision, rule=rule, language=account_language(target))
    decision.save(force_insert=True)
    actor_kind = "jury" if decided_via == DecidedVia.JURY else "human"
    actor_id = decided_by.pk if decided_by else None
    log_append(action="decision.created", target_type="decision", target_id=decision.pk,
               case_id=case.pk, actor_id=actor_id, actor_kind=actor_kind,
               payload={"kind": kind, "via": decided_via, "restriction": restriction,
                        "rule": rule.pk if rule else None, "ground": reasons.ground,
                        "ends_at": ends_at.isoformat() if ends_at else None,
                        "supersedes": str(supersedes.pk) if supersedes else None,
                        "automated_detection": case.automated_detection,
                        "source_type": decision.source_type,
                        "tier": case.severity_tier})
    if supersedes is not None:
        Decision.objects.filter(pk=supersedes.pk, lifted_at__isnull=True).update(lifted_at=now)
        overruled = Strike.objects.filter(decision=supersedes, overruled_at__isnull=True).update(
            overruled_at=now)
        log_append(action="decision.superseded", target_type="decision",
                   target_id=supersedes.pk, case_id=case.pk, actor_id=actor_id,
                   actor_kind=actor_kind,
                   payload={"by": str(decision.pk), "strikes_overruled": overruled})
    if restrictive:
        # Notice first, in the same transaction: the restriction never precedes it.
        warning = Notification.objects.create(account=target, from_account=target,
                                              type=NotificationType.MODERATION_WARNING,
                                              subject_id=decision.pk)
        notification_stream(warning)  # after commit
        notified = timezone.now()
        Decision.objects.filter(pk=decision.pk).update(author_notified_at=notified)
        log_append(action="notice.sent", target_type="decision", target_id=decision.pk,
                   case_id=case.pk, actor_kind="system", payload={"channel": "app"})
        applied = timezone.now()
        Decision.objects.filter(pk=decision.pk).update(applied_at=applied)
        decision.author_notified_at, decision.applied_at = notified, applied
        log_append(action="decision.applied", target_type="decision", target_id=decision.pk,
                   case_id=case.pk, actor_kind="system", payload={"restriction": restriction})
    _sync(status_id=status.pk if status else None, account_id=target.pk)
    if supersedes is not None and supersedes.status_id and supersedes.status_id != (
            status.pk if status else None):
        _sync(status_id=supersedes.status_id, account_id=supersedes.target_account_id)
    if restrictive and strike:
        _strike(decision=decision, rule=rule, now=now)
    unfounded = {parse_id(i) for i in unfounded_report_ids if str(i).strip()}
    reports = Report.objects.filter(case=case)
    if unfounded:
        reports.filter(pk__in=unfounded).update(manifestly_unfounded=True)
        log_append(action="reports.unfounded", target_type="case", target_id=case.pk,
                   case_id=case.pk, actor_id=actor_id, actor_kind=actor_kind,
                   payload={"reports": sorted(str(i) for i in unfounded)})
        # Art. 23: weigh each such reporter now, in this transaction, so the
        # finding and any warning or suspension it prompts commit together.
        for reporter_id in set(reports.filter(pk__in=unfounded, reporter__isnull=False)
                               .values_list("reporter_id", flat=True)):
            misuse_review(account_id=reporter_id, decided_by=decided_by)
    if restrictive:
        reports.filter(action_taken_at__isnull=True).update(action_taken_at=now)
    Case.objects.filter(pk=case.pk).update(state=CaseState.DECIDED, closed_at=now)
    log_append(action="case.decided", target_type="case", target_id=case.pk, case_id=case.pk,
               actor_id=actor_id, actor_kind=actor_kind,
               payload={"decision": str(decision.pk), "opened_at": case.opened_at.isoformat(),
                        "decided_at": now.isoformat(), "tier": case.severity_tier})
    decision_id = decision.pk
    transaction.on_commit(lambda: _after_decision(decision_id))
    return decision


def _strike(*, decision: Decision, rule: Rule | None, now: datetime) -> None:
    strike = Strike.objects.create(account=decision.target_account, decision=decision,
                                   rule=rule, issued_at=now, expires_at=now + STRIKE_LIFETIME)
    log_append(action="strike.issued", target_type="strike", target_id=strike.pk,
               case_id=decision.case_id, actor_kind="system",
               payload={"account": str(decision.target_account_id),
                        "expires_at": strike.expires_at.isoformat()})
    weight = active_strike_weight(decision.target_account_id, now=now)
    if weight >= STRIKE_ESCALATION_WEIGHT:
        _propose_escalation(account_id=decision.target_account_id, weight=weight, now=now)


def active_strike_weight(account_id: int, *, now: datetime | None = None) -> int:
    """The total weight of an account's strikes that are neither expired nor
    overruled."""
    now = now or timezone.now()
    return Strike.objects.filter(account_id=account_id, overruled_at__isnull=True,
                                 expires_at__gt=now).aggregate(w=Sum("weight"))["w"] or 0


def _propose_escalation(*, account_id: int, weight: int, now: datetime) -> None:
    """Open (or join) a case on the account for a moderator to consider a stronger
    restriction; it restricts nothing."""
    from tribune.moderation.services import case_for

    case, changes = case_for(subject_key=f"account:{account_id}", target_id=account_id,
                             status=None, tier=Tier.P3, now=now, actor_kind="system",
                             payload={"reason": "strikes", "weight": weight})
    if changes:
        Case.objects.filter(pk=case.pk).update(**changes)
    log_append(action="strike.escalation_proposed", target_type="account",
               target_id=account_id, case_id=case.pk, actor_kind="system",
               payload={"weight": weight, "threshold": STRIKE_ESCALATION_WEIGHT})


def _after_decision(decision_id: int) -> None:
    """After commit: e-mail the notice and the reporters' outcome; schedule the lift."""
    decision = Decision.objects.select_related("target_account__user", "case").get(pk=decision_id)
    if decision.ends_at is not None:
        from tribune.moderation.tasks import lift_decision

        if lift_decision.get_backend().supports_defer:
            lift_decision.using(run_after=decision.ends_at).enqueue(str(decision.pk))
        # Otherwise (a backend that runs tasks at once) decisions_lift_due catches it.
    try:
        send_decision_emails(decision)
    except Exception:  # an unreachable mail server must not undo a made decision
        logger.exception("could not e-mail the notice of decision %s", decision_id)
    if decision.restriction == Restriction.REMOVE:
        from tribune.moderation.hashing import hash_bank_add_removed

        # Pictures people removed go to the hash bank, so a re-upload is flagged.
        hash_bank_add_removed(decision=decision)


def send_decision_emails(decision: Decision) -> None:
    """E-mail the affected account the statement of reasons (restrictive decisions)
    and every reporter with an address the outcome (DSA Art. 16(5)), each once."""
    target = decision.target_account
    if decision.restriction != Restriction.NONE and target.user and target.user.email:
        with translation.override(account_language(target)):
            subject = _("A moderation decision about your account on %(instance)s") % {
                "instance": settings.TRIBUNE_TITLE}
        send_mail(subject, decision.statement_text, None, [target.user.email])
        log_transaction_notice(decision, channel="email")
    reports = list(Report.objects.filter(case_id=decision.case_id,
                                         outcome_notified_at__isnull=True)
                   .select_related("reporter__user").order_by("created_at"))
    by_address: dict[str, list[Report]] = {}
    for report in reports:
        address = report.reporter_email or (
            report.reporter.user.email if report.reporter and report.reporter.user else "")
        if address:
            by_address.setdefault(address.lower(), []).append(report)
    for address_reports in by_address.values():  # one e-mail per person, naming each report
        first = address_reports[0]
        with translation.override(account_language(first.reporter)):
            subject = _("The outcome of your report on %(instance)s") % {
                "instance": settings.TRIBUNE_TITLE}
            body = render_to_string("moderation/outcome.txt", {
                "d": decision, "reports": address_reports, "instance": settings.TRIBUNE_TITLE,
                "appeal_url": absolute(f"/moderation/decisions/{decision.pk}"),
            }).strip()
        address = first.reporter_email or first.reporter.user.email
        send_mail(subject, body, None, [address])
    Report.objects.filter(pk__in=[r.pk for r in reports]).update(
        outcome_notified_at=timezone.now())


def log_transaction_notice(decision: Decision, *, channel: str) -> None:
    with transaction.atomic():
        log_append(action="notice.sent", target_type="decision", target_id=decision.pk,
                   case_id=decision.case_id, actor_kind="system", payload={"channel": channel})


def decision_lift(*, decision_id, now: datetime | None = None) -> bool:
    """End a temporary restriction whose time is up (run by the task scheduled for
    ``ends_at``). Idempotent: False when it is not due, already ended or superseded."""
    now = now or timezone.now()
    with transaction.atomic():
        decision = (Decision.objects.select_for_update()
                    .filter(pk=parse_id(decision_id), lifted_at__isnull=True,
                            ends_at__isnull=False, ends_at__lte=now).first())
        if decision is None:
            return False
        Decision.objects.filter(pk=decision.pk).update(lifted_at=now)
        _sync(status_id=decision.status_id, account_id=decision.target_account_id)
        log_append(action="decision.lifted", target_type="decision", target_id=decision.pk,
                   case_id=decision.case_id, actor_kind="system",
                   payload={"restriction": decision.restriction,
                            "ends_at": decision.ends_at.isoformat()})
    return True


def decisions_lift_due(*, now: datetime | None = None) -> int:
    """Lift every temporary restriction whose end has passed; returns how many."""
    now = now or timezone.now()
    due = Decision.objects.filter(lifted_at__isnull=True, ends_at__isnull=False,
                                  ends_at__lte=now).values_list("pk", flat=True)
    return sum(decision_lift(decision_id=pk, now=now) for pk in list(due))
