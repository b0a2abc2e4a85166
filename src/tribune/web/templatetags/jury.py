"""``{% jury_section case %}``: the jury part of a staff case page (the panels
with their votes once closed, and the button that sends the case to a jury)."""

from __future__ import annotations

from django import template

from tribune.moderation.juries import JURY_TIERS, case_panels
from tribune.moderation.models import CaseState

register = template.Library()


@register.inclusion_tag("web/jury_case_section.html", takes_context=True)
def jury_section(context, case) -> dict:
    from tribune.web.jury_views import PANEL_STATES, vote_rows

    panels = [{"view": view, "state": PANEL_STATES[view.panel.state], "votes": vote_rows(view)}
              for view in case_panels(case_id=case.pk)]
    return {"case": case, "panels": panels, "csrf_token": context.get("csrf_token"),
            "can_send": case.state == CaseState.OPEN and case.severity_tier in JURY_TIERS}
