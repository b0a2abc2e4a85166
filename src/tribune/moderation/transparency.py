"""The transparency report: what moderation did in a period, as published figures.

Two sources give the same headline figures: the tables (:func:`transparency_report`)
and the hash-chained log alone (:func:`transparency_from_log`). They must agree
(moderation reference §8.12, behaviour 15); :func:`reconciled_figures` picks the
part of a report that the log can prove.

The figures are those DSA Art. 15(1)(b)–(d) and Art. 24(1)(b) ask of a platform
(notices by type, actions by ground, detection method and restriction, median time
to action, complaints and reversals, misuse sanctions) and the Santa Clara
Principles' "Numbers" (appeals of automation-flagged content, proactive
reinstatements). A period is ``[start, end)`` in UTC; every date is a
``datetime.date``.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, time

from django.db.models import Count, Min, Q
from django.utils import timezone

from tribune.moderation import tdb
from tribune.moderation.models import (
    Appeal,
    AppealState,
    Case,
    Decision,
    DecisionKind,
    JuryPanel,
    LogEntry,
    MisuseSanction,
    PanelState,
    Report,
    ReportCategory,
    Restriction,
    Rule,
    SanctionKind,
    Tier,
)

FORMAT_VERSION = "tribune-transparency/1"
TIERS = tuple(f"P{tier.value}" for tier in Tier)
RESTRICTIONS = tuple(r for r in Restriction.values if r != Restriction.NONE)
GROUNDS = ("law", "tc")
SANCTION_STAGES = ("warning", "suspension")

# Log actions of the jury and misuse services (``juries.panel_open`` and ``_close``,
# ``misuse._sanction``): a panel opened; a panel closed, payload
# {"outcome": "decided" | "hung" | "expired"}; a sanction, payload {"kind", "stage"}.
JURY_OPENED = "jury.panel_opened"
JURY_CLOSED = "jury.panel_closed"
SANCTION_ACTIONS = ("sanction.warning", "sanction.applied")


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``[start, end)`` as aware UTC datetimes at midnight."""
    return (datetime.combine(start, time.min, tzinfo=UTC),
            datetime.combine(end, time.min, tzinfo=UTC))


def _median_seconds(durations: list[float]) -> float | None:
    return round(statistics.median(durations), 3) if durations else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _tier_medians(pairs: list[tuple[int, float]]) -> dict:
    """``{"P0": {"cases", "median_seconds"}, ...}`` from (tier, seconds) pairs."""
    by_tier: dict[str, list[float]] = {name: [] for name in TIERS}
    for tier, seconds in pairs:
        by_tier[f"P{tier}"].append(seconds)
    return {name: {"cases": len(values), "median_seconds": _median_seconds(values)}
            for name, values in by_tier.items()}


def _sanctions(rows: list[tuple[str, str]]) -> dict:
    """``{"warning": {kind: n}, "suspension": {kind: n}}`` from (stage, kind) pairs,
    every Art. 24(1)(b) kind present."""
    counts = Counter(rows)
    return {stage: {kind: counts[(stage, kind)] for kind in SanctionKind.values}
            for stage in SANCTION_STAGES}


def _juries(opened: int, closed: Counter) -> dict:
    hung = closed[PanelState.HUNG] + closed[PanelState.EXPIRED]
    total = closed[PanelState.DECIDED] + hung
    return {"panels_opened": opened, "panels_decided": closed[PanelState.DECIDED],
            "panels_hung": closed[PanelState.HUNG],
            "panels_expired": closed[PanelState.EXPIRED], "hung_rate": _share(hung, total)}


def _actions(rows: list[dict]) -> dict:
    """The actions block from restrictive decisions given as dicts with
    ``restriction``, ``ground`` (law/tc), ``automated`` (bool), ``source_type``
    and ``kind``."""
    total = len(rows)
    automated = sum(1 for r in rows if r["automated"])
    return {
        "total": total,
        "by_ground": {g: sum(1 for r in rows if r["ground"] == g) for g in GROUNDS},
        "by_restriction": {x: sum(1 for r in rows if r["restriction"] == x) for x in RESTRICTIONS},
        "by_detection": {"automated": automated, "not_automated": total - automated},
        "automated_detection_share": _share(automated, total),
        "own_initiative": sum(1 for r in rows if r["source_type"] == tdb.SOURCE_VOLUNTARY),
    }


def _appeals(*, filed: list[tuple[str, bool]], decided: list[tuple[str, bool, float]],
             proactive: int) -> dict:
    """The appeals block from filed (role, automated) and decided (outcome,
    automated, seconds to decide) appeals."""
    outcome = Counter(o for o, _a, _s in decided)
    flagged = Counter(o for o, a, _s in decided if a)
    return {
        "filed": len(filed),
        "filed_by_role": {role: sum(1 for r, _a in filed if r == role)
                          for role in ("author", "reporter")},
        "decided": len(decided),
        "upheld": outcome[AppealState.UPHELD],
        "reversed": outcome[AppealState.REVERSED],
        "median_seconds_to_decide": _median_seconds([s for _o, _a, s in decided]),
        "automated_detection": {"filed": sum(1 for _r, a in filed if a),
                                "upheld": flagged[AppealState.UPHELD],
                                "reversed": flagged[AppealState.REVERSED]},
        "proactive_reinstatements": proactive,
    }


def transparency_report(*, start: date, end: date) -> dict:
    """The transparency report of ``[start, end)`` (UTC) from the tables, as a
    JSON-serialisable dict (moderation reference §1.5, §2.1, §8.11).

    Shape (``format_version`` is ``FORMAT_VERSION``; durations are seconds)::

        {"format_version", "generated_at", "period": {"start", "end", "timezone"},
         "notices": {"total", "alleging_illegal", "filed_while_suspended",
                     "by_category": {category: n}, "by_rule": [{"rule_id", "text", "notices"}]},
         "actions": {"total", "by_ground": {"law", "tc"}, "by_restriction": {...},
                     "by_detection": {"automated", "not_automated"},
                     "automated_detection_share", "own_initiative"},
         "time_to_action": {"P0": {"cases", "median_seconds"}, ...},
         "appeals": {"filed", "filed_by_role", "decided", "upheld", "reversed",
                     "median_seconds_to_decide", "automated_detection": {...},
                     "proactive_reinstatements"},
         "juries": {"panels_opened", "panels_decided", "panels_hung",
                    "panels_expired", "hung_rate"},
         "sanctions": {"warning": {kind: n}, "suspension": {kind: n}},
         "backlog": {"at", "open_by_tier": {"P0": n, ...}, "open_total",
                     "oldest_open_age_seconds"}}

    Notices are reports filed in the period (a report citing two rules counts for
    each in ``by_rule``); "alleging illegal" means category ``legal`` (Art. 16).
    Actions are restrictive decisions made in the period (Art. 15(1)(c)): own
    initiative means a case opened by a detector with no notice (TDB
    ``SOURCE_VOLUNTARY``). Time to action runs from a case's opening to its first
    decision, for cases first decided in the period, by the case's tier.
    ``backlog`` is a snapshot at the period's end (or now, if earlier), from the
    tables only: the tier is the case's current one. ``filed_while_suspended`` and
    ``by_rule``'s texts are also table-only; see :func:`reconciled_figures`.
    Raises ValueError when ``start`` is after ``end``.
    """
    if start > end:
        raise ValueError("the period starts after it ends")
    lo, hi = period_bounds(start, end)
    reports = Report.objects.filter(created_at__gte=lo, created_at__lt=hi)
    by_category = dict(reports.values_list("category").annotate(n=Count("id")))
    rule_counts = _rule_counts(reports)
    rules = Rule.objects.filter(pk__in=rule_counts).order_by("position", "pk")
    notices = {
        "total": reports.count(),
        "alleging_illegal": reports.filter(category=ReportCategory.LEGAL).count(),
        "filed_while_suspended": reports.filter(muted=True).count(),
        "by_category": {c: by_category.get(c, 0) for c in ReportCategory.values},
        "by_rule": [{"rule_id": str(r.pk), "text": r.text, "notices": rule_counts[r.pk]}
                    for r in rules],
    }
    decisions = Decision.objects.filter(created_at__gte=lo, created_at__lt=hi)
    actions = _actions([
        {"restriction": d["restriction"],
         "ground": "law" if d["decision_ground"] == tdb.GROUND_ILLEGAL else "tc",
         "automated": d["automated_detection"] == "Yes", "source_type": d["source_type"],
         "kind": d["kind"]}
        for d in decisions.exclude(restriction=Restriction.NONE).values(
            "restriction", "decision_ground", "automated_detection", "source_type", "kind")])
    firsts = (Case.objects.annotate(first=Min("decisions__created_at"))
              .filter(first__gte=lo, first__lt=hi)
              .values_list("severity_tier", "opened_at", "first"))
    appeals_filed = Appeal.objects.filter(filed_at__gte=lo, filed_at__lt=hi)
    appeals_decided = Appeal.objects.filter(decided_at__gte=lo, decided_at__lt=hi,
                                            state__in=[AppealState.UPHELD, AppealState.REVERSED])
    appeals = _appeals(
        filed=[(role, auto == "Yes") for role, auto in
               appeals_filed.values_list("appellant_role", "decision__automated_detection")],
        decided=[(state, auto == "Yes", (decided - filed).total_seconds())
                 for state, auto, filed, decided in appeals_decided.values_list(
                     "state", "decision__automated_detection", "filed_at", "decided_at")],
        proactive=decisions.filter(kind=DecisionKind.REVERSAL_PROACTIVE).count())
    closed = Counter(JuryPanel.objects.filter(closed_at__gte=lo, closed_at__lt=hi)
                     .values_list("state", flat=True))
    juries = _juries(JuryPanel.objects.filter(opened_at__gte=lo, opened_at__lt=hi).count(),
                     closed)
    sanctions = _sanctions(list(MisuseSanction.objects.filter(
        created_at__gte=lo, created_at__lt=hi).values_list("stage", "kind")))
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "period": {"start": start.isoformat(), "end": end.isoformat(), "timezone": "UTC"},
        "notices": notices,
        "actions": actions,
        "time_to_action": _tier_medians([(tier, (first - opened).total_seconds())
                                         for tier, opened, first in firsts]),
        "appeals": appeals,
        "juries": juries,
        "sanctions": sanctions,
        "backlog": _backlog(min(hi, timezone.now())),
    }


def _rule_counts(reports) -> dict[int, int]:
    through = Report.rules.through.objects.filter(report__in=reports)
    return dict(through.values_list("rule_id").annotate(n=Count("id")))


def _backlog(at: datetime) -> dict:
    """Cases open at ``at`` (opened before it, not closed by then), by current tier."""
    open_then = Case.objects.filter(opened_at__lt=at).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=at))
    counts = dict(open_then.values_list("severity_tier").annotate(n=Count("id")))
    oldest = open_then.aggregate(oldest=Min("opened_at"))["oldest"]
    by_tier = {f"P{tier.value}": counts.get(tier.value, 0) for tier in Tier}
    return {"at": at.isoformat(timespec="seconds"), "open_by_tier": by_tier,
            "open_total": sum(by_tier.values()),
            "oldest_open_age_seconds": round((at - oldest).total_seconds()) if oldest else None}


def reconciled_figures(report: dict) -> dict:
    """The part of a :func:`transparency_report` that the log can prove, in the
    shape :func:`transparency_from_log` returns: ``notices`` (``by_rule`` as
    ``{rule_id: n}``), ``actions``, ``time_to_action``, ``appeals``, ``juries``,
    ``sanctions``. Left out: ``filed_while_suspended`` and the rule texts (the log
    does not record them) and ``backlog`` (its tier is the case's current one)."""
    notices = {k: v for k, v in report["notices"].items()
               if k not in ("filed_while_suspended", "by_rule")}
    notices["by_rule"] = {row["rule_id"]: row["notices"] for row in report["notices"]["by_rule"]}
    return {"period": report["period"], "notices": notices, "actions": report["actions"],
            "time_to_action": report["time_to_action"], "appeals": report["appeals"],
            "juries": report["juries"], "sanctions": report["sanctions"]}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def transparency_from_log(*, start: date, end: date) -> dict:
    """The headline figures of ``[start, end)`` recomputed from the moderation
    log alone (``LogEntry`` rows; no other table is read), in the shape of
    :func:`reconciled_figures`. Equal to it for the same period (behaviour 15).

    Each event falls in the period by its log entry's time, except a case's first
    decision and an appeal's answer, which carry their own times in the payload
    (``case.decided``'s ``opened_at`` and ``decided_at``; ``appeal.decided``'s
    ``filed_at`` and ``decided_at``). The entry of an event is written a few
    milliseconds after the row, so an event that close to midnight at a period
    boundary can fall on different sides in the two sources.
    Raises ValueError when ``start`` is after ``end``.
    """
    if start > end:
        raise ValueError("the period starts after it ends")
    lo, hi = period_bounds(start, end)
    entries = LogEntry.objects.filter(created_at__gte=lo, created_at__lt=hi)

    def payloads(*actions: str) -> list[dict]:
        return list(entries.filter(action__in=actions).order_by("seq")
                    .values_list("payload", flat=True))

    reports = payloads("report.created")
    categories = Counter(p["category"] for p in reports)
    rules = Counter(str(rule) for p in reports for rule in p.get("rules", []))
    notices = {
        "total": len(reports),
        "alleging_illegal": categories[ReportCategory.LEGAL],
        "by_category": {c: categories[c] for c in ReportCategory.values},
        "by_rule": dict(rules),
    }
    created = payloads("decision.created")
    actions = _actions([
        {"restriction": p["restriction"], "ground": p["ground"],
         "automated": bool(p["automated_detection"]), "source_type": p.get("source_type"),
         "kind": p["kind"]}
        for p in created if p["restriction"] != Restriction.NONE])
    filed = [(p["role"], p["automated_detection"] == "Yes") for p in payloads("appeal.filed")]
    decided = [(p["outcome"], p["automated_detection"] == "Yes",
                (_at(p["decided_at"]) - _at(p["filed_at"])).total_seconds())
               for p in LogEntry.objects.filter(action="appeal.decided")
               .values_list("payload", flat=True)
               if p["outcome"] in (AppealState.UPHELD, AppealState.REVERSED)
               and lo <= _at(p["decided_at"]) < hi]
    appeals = _appeals(filed=filed, decided=decided, proactive=sum(
        1 for p in created if p["kind"] == DecisionKind.REVERSAL_PROACTIVE))
    closed = Counter(p.get("outcome") for p in payloads(JURY_CLOSED))
    juries = _juries(len(payloads(JURY_OPENED)), closed)
    sanctions = _sanctions([(p.get("stage"), p.get("kind")) for p in payloads(*SANCTION_ACTIONS)])
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "timezone": "UTC"},
        "notices": notices, "actions": actions,
        "time_to_action": _tier_medians(_first_decisions(lo, hi)),
        "appeals": appeals, "juries": juries, "sanctions": sanctions,
    }


def _first_decisions(lo: datetime, hi: datetime) -> list[tuple[int, float]]:
    """(tier, seconds from opening) of every case whose first ``case.decided``
    entry falls in ``[lo, hi)``; later ones (after an appeal) are skipped."""
    decided = LogEntry.objects.filter(action="case.decided")
    # An entry is written just after its decision, so none decided in the period
    # has an entry before ``lo``.
    recent = decided.filter(created_at__gte=lo).values("case_id")
    first: dict[int, dict] = {}
    for case_id, payload in (decided.filter(case_id__in=recent).order_by("seq")
                             .values_list("case_id", "payload")):
        first.setdefault(case_id, payload)
    pairs = []
    for payload in first.values():
        decided_at = _at(payload["decided_at"])
        if lo <= decided_at < hi:
            pairs.append((payload["tier"],
                          (decided_at - _at(payload["opened_at"])).total_seconds()))
    return pairs
