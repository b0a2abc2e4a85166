"""The transparency report as tables people read: captions, row labels and
formatted values in the reader's language, for the public page and the
standalone HTML document (``tribune moderation transparency --format html``)."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribune.moderation.models import ReportCategory, Restriction, SanctionKind


def duration(seconds: float | None) -> str:
    """``seconds`` as a short readable length ("45 seconds", "3.5 hours"), or an
    em dash when there is no figure."""
    if seconds is None:
        return "—"
    if seconds < 60:
        n = round(seconds)
        return ngettext("%(n)d second", "%(n)d seconds", n) % {"n": n}
    if seconds < 3600:
        n = round(seconds / 60)
        return ngettext("%(n)d minute", "%(n)d minutes", n) % {"n": n}
    if seconds < 86400:
        return _("%(n)s hours") % {"n": number_format(round(seconds / 3600, 1))}
    return _("%(n)s days") % {"n": number_format(round(seconds / 86400, 1))}


def share(value: float | None) -> str:
    """A fraction (0…1) as a percentage, or an em dash when there is no figure."""
    if value is None:
        return "—"
    return _("%(n)s%%") % {"n": number_format(round(value * 100, 1))}


def _labels() -> dict[str, dict[str, str]]:
    return {
        "category": {
            ReportCategory.SPAM: _("Spam"), ReportCategory.VIOLATION: _("Breaks the rules"),
            ReportCategory.LEGAL: _("Illegal content"), ReportCategory.OTHER: _("Other"),
        },
        "restriction": {r.value: str(r.label) for r in Restriction if r != Restriction.NONE},
        "sanction": {
            SanctionKind.ILLEGAL_CONTENT: _("Manifestly illegal content"),
            SanctionKind.UNFOUNDED_NOTICES: _("Manifestly unfounded notices"),
            SanctionKind.UNFOUNDED_COMPLAINTS: _("Manifestly unfounded complaints"),
        },
    }


def report_tables(report: dict) -> list[dict]:
    """The sections of a ``transparency_report`` as tables: a list of
    ``{"id", "caption", "header", "rows": [(label, value), ...]}`` where ``header``
    names the value column; values are formatted strings or integers."""
    labels = _labels()
    notices, actions, appeals = report["notices"], report["actions"], report["appeals"]
    juries, backlog = report["juries"], report["backlog"]
    count = _("Number")
    tables = [
        {"id": "notices", "caption": _("Notices received (DSA Art. 16)"), "header": count,
         "rows": [(_("All notices"), notices["total"]),
                  (_("Alleging illegal content"), notices["alleging_illegal"]),
                  (_("Filed while the reporter's notices were suspended"),
                   notices["filed_while_suspended"])]
         + [(labels["category"][c], n) for c, n in notices["by_category"].items()]},
        {"id": "rules", "caption": _("Notices by rule cited"), "header": count,
         "rows": [(row["text"], row["notices"]) for row in notices["by_rule"]]},
        {"id": "actions", "caption": _("Actions taken (restrictive decisions)"),
         "header": count,
         "rows": [(_("All actions"), actions["total"]),
                  (_("On grounds of law"), actions["by_ground"]["law"]),
                  (_("On grounds of the server rules"), actions["by_ground"]["tc"]),
                  (_("Detected automatically"), actions["by_detection"]["automated"]),
                  (_("Not detected automatically"), actions["by_detection"]["not_automated"]),
                  (_("Share detected automatically"),
                   share(actions["automated_detection_share"])),
                  (_("On our own initiative (no notice)"), actions["own_initiative"])]
         + [(labels["restriction"][r], n) for r, n in actions["by_restriction"].items()]},
        {"id": "time-to-action", "caption": _("Median time from a case opening to its "
                                              "first decision, by severity tier"),
         "header": _("Median time"),
         "rows": [(ngettext("%(tier)s (%(n)d case)", "%(tier)s (%(n)d cases)", row["cases"])
                   % {"tier": tier, "n": row["cases"]}, duration(row["median_seconds"]))
                  for tier, row in report["time_to_action"].items()]},
        {"id": "appeals", "caption": _("Appeals (DSA Art. 20)"), "header": count,
         "rows": [(_("Appeals filed"), appeals["filed"]),
                  (_("Filed by the affected author"), appeals["filed_by_role"]["author"]),
                  (_("Filed by a reporter"), appeals["filed_by_role"]["reporter"]),
                  (_("Appeals decided"), appeals["decided"]),
                  (_("Decision upheld"), appeals["upheld"]),
                  (_("Decision reversed"), appeals["reversed"]),
                  (_("Median time to decide"), duration(appeals["median_seconds_to_decide"])),
                  (_("Appeals about automatically detected content"),
                   appeals["automated_detection"]["filed"]),
                  (_("…of which upheld"), appeals["automated_detection"]["upheld"]),
                  (_("…of which reversed"), appeals["automated_detection"]["reversed"]),
                  (_("Reinstated by us without an appeal"),
                   appeals["proactive_reinstatements"])]},
        {"id": "juries", "caption": _("Community juries"), "header": count,
         "rows": [(_("Panels opened"), juries["panels_opened"]),
                  (_("Panels that decided"), juries["panels_decided"]),
                  (_("Panels without a verdict"), juries["panels_hung"]),
                  (_("Panels that expired without a quorum"), juries["panels_expired"]),
                  (_("Share of closed panels without a decision"), share(juries["hung_rate"]))]},
        {"id": "sanctions", "caption": _("Measures against misuse (DSA Art. 23)"),
         "header": count,
         "rows": [(_("Warning: %(kind)s") % {"kind": labels["sanction"][k]}, n)
                  for k, n in report["sanctions"]["warning"].items()]
         + [(_("Suspension: %(kind)s") % {"kind": labels["sanction"][k]}, n)
            for k, n in report["sanctions"]["suspension"].items()]},
        {"id": "backlog", "caption": _("Open cases at the end of the period"),
         "header": count,
         "rows": [(tier, n) for tier, n in backlog["open_by_tier"].items()]
         + [(_("All open cases"), backlog["open_total"]),
            (_("Age of the oldest open case"), duration(backlog["oldest_open_age_seconds"]))]},
    ]
    return tables


def period_label(report: dict) -> str:
    """The report's period as people say it, with the last day included
    ("2025-01-01 to 2025-12-31")."""
    start = date.fromisoformat(report["period"]["start"])
    end = date.fromisoformat(report["period"]["end"])
    if end <= start:
        return _("%(start)s (no days)") % {"start": start.isoformat()}
    return _("%(start)s to %(last)s (UTC)") % {
        "start": start.isoformat(), "last": (end - timedelta(days=1)).isoformat()}


def report_html(report: dict) -> str:
    """A ``transparency_report`` as a standalone HTML document (no external
    resources), in the active language."""
    return render_to_string("moderation/transparency_report.html", {
        "title": _("Transparency report"), "instance": settings.TRIBUNE_TITLE,
        "report": report, "tables": report_tables(report), "period_label": period_label(report),
    })
