"""Writes to moderation state: rules, and reports grouped into cases.

Every change is recorded in the hash-chained log (``log.log_append``) in the same
transaction. Nothing here changes what anyone can see: reports and flags only open
cases and order the queue; restrictions come from decisions made by people."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import NotFound, ValidationFailed
from tribune.core.events import ReportForwarded, publish
from tribune.core.ids import parse_id
from tribune.core.ratelimit import Limit, Window, peek, spend
from tribune.moderation.log import log_append
from tribune.moderation.misuse import notices_suspended
from tribune.moderation.models import (
    AutomatedFlag,
    Case,
    CaseState,
    Report,
    ReportCategory,
    Rule,
    Tier,
)
from tribune.statuses.models import Status

RULE_TEXT_MAX = 300
COMMENT_MAX = 1000  # Mastodon's Report::COMMENT_SIZE_LIMIT
MAX_STATUSES = 100
# Mastodon's ``reports`` family (app/lib/rate_limiter.rb): 400 reports per account a
# day, from the API, the report form and signed-in notices alike.
REPORTING = Limit("reports", 400, 24 * 3600)


def reporting_window(*, account: Account) -> Window:
    """Where ``account`` stands in its ``REPORTING`` budget, counting nothing: for
    the ``X-RateLimit-*`` headers of a filed report."""
    return peek(REPORTING, f"account:{account.pk}")

# Target time to first human action per tier (moderation reference §7.2).
TIER_DEADLINES = {
    Tier.P0: timedelta(hours=1),
    Tier.P1: timedelta(hours=24),
    Tier.P2: timedelta(hours=72),
    Tier.P3: timedelta(days=7),
    Tier.P4: timedelta(days=30),
}
# Tier of a report by category when it cites no rule.
CATEGORY_TIERS = {
    ReportCategory.LEGAL: Tier.P2,
    ReportCategory.VIOLATION: Tier.P3,
    ReportCategory.SPAM: Tier.P4,
    ReportCategory.OTHER: Tier.P4,
}


def _rule_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationFailed(_("Validation failed: Text can't be blank"))
    if len(text) > RULE_TEXT_MAX:
        raise ValidationFailed(
            _("Validation failed: Text is too long (maximum is %(max)d characters)")
            % {"max": RULE_TEXT_MAX})
    return text


def rule_create(*, text: str, hint: str = "", position: int | None = None,
                severity_tier: int = Tier.P3, ground: str = "tc",
                legal_reference: str = "") -> Rule:
    """Publish an instance rule; without ``position`` it goes after the last one.

    ``severity_tier`` (0 = P0 … 4 = P4) is the tier reports citing the rule start
    in. Raises ValidationFailed for blank text, text over 300 characters or an
    unknown tier.
    """
    text = _rule_text(text)
    if severity_tier not in Tier.values:
        raise ValidationFailed(_("Validation failed: Severity tier is not included in the list"))
    with transaction.atomic():
        if position is None:
            last = Rule.objects.aggregate(last=Max("position"))["last"]
            position = 0 if last is None else last + 1
        rule = Rule.objects.create(text=text, hint=hint.strip(), position=position,
                                   severity_tier=severity_tier, ground=ground,
                                   legal_reference=legal_reference)
        log_append(action="rule.published", target_type="rule", target_id=rule.pk,
                   actor_kind="system", payload={"text": text, "tier": severity_tier})
    return rule


def rule_update(*, rule_id, text: str, hint: str = "", severity_tier: int | None = None,
                ground: str | None = None, legal_reference: str | None = None) -> Rule:
    """Publish a new version of a rule (``version`` goes up by one when the text,
    hint, tier or ground changes; decisions keep the version they applied).

    Raises NotFound for an unknown rule, ValidationFailed as :func:`rule_create`.
    """
    text = _rule_text(text)
    if severity_tier is not None and severity_tier not in Tier.values:
        raise ValidationFailed(_("Validation failed: Severity tier is not included in the list"))
    with transaction.atomic():
        try:
            rule = Rule.objects.select_for_update().get(pk=parse_id(rule_id))
        except (Rule.DoesNotExist, TypeError, ValueError, OverflowError):
            raise NotFound(_("Record not found")) from None
        new = {"text": text, "hint": hint.strip(),
               "severity_tier": rule.severity_tier if severity_tier is None else severity_tier,
               "ground": ground or rule.ground,
               "legal_reference": rule.legal_reference if legal_reference is None else legal_reference}
        if all(getattr(rule, k) == v for k, v in new.items()):
            return rule
        for key, value in new.items():
            setattr(rule, key, value)
        rule.version += 1
        rule.updated_at = timezone.now()
        rule.save()
        log_append(action="rule.updated", target_type="rule", target_id=rule.pk,
                   actor_kind="system",
                   payload={"text": text, "tier": rule.severity_tier, "version": rule.version})
    return rule


def _ids(values, what: str) -> list[int]:
    try:
        return list(dict.fromkeys(parse_id(v) for v in values or []))
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("Validation failed: %(what)s contains an invalid id") % {"what": what}) from None


def _snapshot(status: Status) -> dict:
    return {"text": status.text, "content": status.content,
            "spoiler_text": status.spoiler_text, "visibility": status.visibility,
            "created_at": status.created_at.isoformat()}


def report_create(
    *, reporter: Account, target: Account, status_ids=(), rule_ids=(),
    category: str | None = None, comment: str = "", forward: bool = False,
) -> Report:
    """File a report (Mastodon's ``POST /api/v1/reports``; a DSA Art. 16 notice)
    and return it, acknowledged at once.

    Rules as Mastodon validates them: ``rule_ids`` make the category ``violation``
    and are allowed only then; every id must exist; statuses must be the target's.
    The report joins the subject's open case, or opens one: the subject is the
    status when exactly one is named, else the account. The case takes the most
    severe tier of its reports (from the cited rules, else the category), the
    earliest deadline, and one more point of priority per distinct reporter.

    Raises NotFound for statuses that are not the target's, ValidationFailed for
    bad input (reporting oneself, unknown category or rule, comment over 1,000
    characters), and RateLimited past the reporter's ``REPORTING`` budget
    (``report_file``).
    """
    if reporter.pk == target.pk:
        raise ValidationFailed(_("Validation failed: You cannot report yourself"))
    rule_pks = _ids(rule_ids, "rule_ids")
    status_pks = _ids(status_ids, "status_ids")
    if rule_pks:
        category = ReportCategory.VIOLATION
    category = category or ReportCategory.OTHER
    if category not in ReportCategory.values:
        raise ValidationFailed(_("Validation failed: Category is not included in the list"))
    if category == ReportCategory.VIOLATION and not rule_pks:
        raise ValidationFailed(_("Validation failed: Rule ids can't be blank"))
    if "\x00" in comment:
        raise ValidationFailed(_("Validation failed: Comment contains a character that is "
                                 "not allowed"))
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed(_("Validation failed: Comment is too long (maximum is "
                                 "%(max)d characters)") % {"max": COMMENT_MAX})
    if len(status_pks) > MAX_STATUSES:
        raise ValidationFailed(_("Validation failed: Too many statuses"))
    rules = list(Rule.objects.filter(pk__in=rule_pks))
    if len(rules) != len(rule_pks):
        raise ValidationFailed(_("Validation failed: Rule ids are not valid"))
    statuses = list(Status.objects.filter(pk__in=status_pks, account=target,
                                          reblog_of__isnull=True))
    if len(statuses) != len(status_pks):
        raise NotFound(_("Record not found"))
    tier = min([r.severity_tier for r in rules] or [CATEGORY_TIERS[category]])
    return report_file(reporter=reporter, target=target, statuses=statuses, rules=rules,
                       category=category, comment=comment, forward=forward, tier=tier)


def report_file(*, reporter: Account | None, target: Account, statuses: list[Status],
                category: str, tier: int, rules=(), comment: str = "",
                forward: bool = False, notice: dict | None = None) -> Report:
    """Store an already validated report in the subject's open case (opening it if
    needed) and return it, acknowledged at once; shared by ``report_create`` and
    ``notices.notice_create``. ``notice`` holds the Art. 16(2) fields of a notice
    of illegal content (``reporter_name``, ``reporter_email``, ``subject_url``,
    ``explanation``, ``good_faith_confirmed``, ``legal_category``).

    While the reporter's notices are suspended (DSA Art. 23(2),
    ``misuse.notices_suspended``) the report is stored as evidence but ``muted``:
    it gives the case no priority, does not count as a new reporter, and neither
    raises the case's tier nor opens one above the lowest tier, unless its tier is
    P0, which is never held back. Nothing in what is returned to the reporter
    differs (Ozone's ``isReporterMuted``).

    A report by an account spends one of its ``REPORTING`` budget (Mastodon: 400 a
    day); past it, RateLimited and nothing is stored. Anonymous notices are
    limited per address by the interface instead.
    """
    if reporter is not None and reporter.is_local:
        spend(REPORTING, f"account:{reporter.pk}")
    subject = statuses[0] if len(statuses) == 1 else None
    subject_key = f"status:{subject.pk}" if subject else f"account:{target.pk}"
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _file(reporter=reporter, target=target, statuses=statuses,
                             rules=rules, category=category, comment=comment,
                             forward=forward, tier=tier, subject=subject,
                             subject_key=subject_key, notice=notice or {})
        except IntegrityError:
            continue  # another report opened the same case at the same moment
    raise IntegrityError(f"could not file a report on {subject_key}")


def case_for(*, subject_key: str, target_id: int, status: Status | None, tier: int,
              now, actor_kind: str, payload: dict) -> tuple[Case, dict]:
    """The subject's open case, locked, or a new one (logged as ``case.opened``);
    with the changes that raise it to ``tier`` when that is more severe (logged as
    ``case.tier_raised``), for the caller to apply in its one update."""
    deadline = now + TIER_DEADLINES[Tier(tier)]
    case = (Case.objects.select_for_update()
            .filter(subject_key=subject_key, state__in=[CaseState.OPEN, CaseState.JURY]).first())
    if case is None:
        case = Case.objects.create(
            subject_key=subject_key, target_account_id=target_id, status=status,
            subject_snapshot=_snapshot(status) if status else {},
            severity_tier=tier, deadline_at=deadline, opened_at=now)
        log_append(action="case.opened", target_type="case", target_id=case.pk,
                   case_id=case.pk, actor_kind=actor_kind,
                   payload={"subject": subject_key, "tier": tier, **payload})
        return case, {}
    if tier >= case.severity_tier:
        return case, {}
    log_append(action="case.tier_raised", target_type="case", target_id=case.pk,
               case_id=case.pk, actor_kind=actor_kind,
               payload={"from": case.severity_tier, "to": tier, **payload})
    return case, {"severity_tier": tier, "deadline_at": min(case.deadline_at, deadline)}


def _file(*, reporter, target, statuses, rules, category, comment, forward, tier, subject,
          subject_key, notice) -> Report:
    now = timezone.now()
    muted = reporter is not None and notices_suspended(account_id=reporter.pk, now=now)
    if muted and tier != Tier.P0:  # P0 (e.g. child sexual abuse) is never held back
        tier = Tier.P4
    case, changes = case_for(subject_key=subject_key, target_id=target.pk, status=subject,
                              tier=tier, now=now, actor_kind="system", payload={})
    # Anonymous notices are told apart by their e-mail address (none for some
    # child sexual abuse notices: those count as one reporter per case).
    same = Report.objects.filter(case=case, muted=False, reporter=reporter)
    if reporter is None:
        same = same.filter(reporter_email__iexact=notice.get("reporter_email", ""))
    new_reporter = not muted and not same.exists()
    report = Report.objects.create(
        reporter=reporter, target_account=target, category=category, comment=comment,
        forward=forward, case=case, created_at=now, acknowledged_at=now, muted=muted,
        **notice)
    report.statuses.set(statuses)
    report.rules.set(rules)
    if forward and not target.is_local and reporter is not None and reporter.is_local:
        # Mastodon's forward: the remote account's server gets a copy (Flag).
        publish(ReportForwarded(report_id=report.pk))
    changes["report_count"] = F("report_count") + 1
    if new_reporter:
        changes.update(reporter_count=F("reporter_count") + 1, priority=F("priority") + 1)
    if category == ReportCategory.LEGAL and not muted:
        changes["alleges_illegal"] = True
    Case.objects.filter(pk=case.pk).update(**changes)
    payload = {"category": category, "rules": [r.pk for r in rules],
               "statuses": [str(s.pk) for s in statuses]}
    if notice:  # no personal data in the log: it is never edited or deleted
        payload.update(legal_category=notice["legal_category"], source="article_16")
    if muted:
        payload["muted"] = True
    log_append(action="report.created", target_type="report", target_id=report.pk,
               case_id=case.pk, actor_id=reporter.pk if reporter else None,
               actor_kind="human", payload=payload)
    return report


def flag_create(*, status: Status, detector_name: str, detector_version: str, label: str,
                score: float, tier: int = Tier.P3) -> AutomatedFlag:
    """Record what an automated detector found about ``status`` (moderation
    reference §8.3 and behaviour 1): the status's open case is opened or joined,
    marked ``automated_detection``, raised to ``tier`` if that is more severe, and
    given priority by the score (``round(score * 10)`` points). The status and its
    author are never changed here, whatever the score.

    Raises ValidationFailed for a score outside [0, 1] or an unknown tier.
    """
    if not 0.0 <= score <= 1.0:
        raise ValidationFailed(_("Validation failed: Score must be between 0 and 1"))
    if tier not in Tier.values:
        raise ValidationFailed(_("Validation failed: Severity tier is not included in the list"))
    subject_key = f"status:{status.pk}"
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _flag(status=status, subject_key=subject_key,
                             detector_name=detector_name, detector_version=detector_version,
                             label=label, score=score, tier=tier)
        except IntegrityError:
            continue
    raise IntegrityError(f"could not flag {subject_key}")


def _flag(*, status, subject_key, detector_name, detector_version, label, score, tier):
    now = timezone.now()
    detector = f"detector:{detector_name}@{detector_version}"
    case, changes = case_for(subject_key=subject_key, target_id=status.account_id,
                              status=status, tier=tier, now=now, actor_kind="detector",
                              payload={"by": detector})
    changes.update(automated_detection=True, priority=F("priority") + round(score * 10))
    Case.objects.filter(pk=case.pk).update(**changes)
    flag = AutomatedFlag.objects.create(
        case=case, status=status, detector_name=detector_name,
        detector_version=detector_version, label=label[:200], score=score, created_at=now)
    log_append(action="flag.created", target_type="flag", target_id=flag.pk, case_id=case.pk,
               actor_kind="detector",
               payload={"by": detector, "label": label[:200], "score": score, "tier": tier})
    return flag


def status_scan(*, status_id: int) -> list[AutomatedFlag]:
    """Run every detector in ``detectors.DETECTORS`` on a local status (after it is
    posted or edited) and record their findings as flags. Returns the flags."""
    from tribune.moderation.detectors import DETECTORS

    status = Status.objects.filter(pk=status_id, reblog_of__isnull=True,
                                   account__domain="").first()
    if status is None:
        return []
    flags = []
    for detector in DETECTORS:
        for found in detector.scan(status):
            flags.append(flag_create(status=status, detector_name=detector.name,
                                     detector_version=detector.version, label=found.label,
                                     score=found.score, tier=found.tier))
    return flags
