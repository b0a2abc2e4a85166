"""Scheduled posts: the viewer's posts waiting for their time
(``tribune.scheduling``), each to move to another time or cancel."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tribune.core.errors import NotFound, ValidationFailed
from tribune.scheduling import selectors, services
from tribune.web.errors import reason
from tribune.web.forms import ScheduleForm
from tribune.web.viewer import account_required


def _page(request: HttpRequest, *, errors: dict | None = None, status: int = 200):
    rows = selectors.scheduled_statuses_by_time(account=request.viewer)
    items = [(row, (errors or {}).get(row.pk) or ScheduleForm(
        initial={"scheduled_at": row.scheduled_at}, prefix=str(row.pk))) for row in rows]
    return render(request, "web/scheduled.html",
                  {"title": _("Scheduled posts"), "nav": "scheduled", "items": items},
                  status=status)


@account_required
def scheduled_statuses(request: HttpRequest) -> HttpResponse:
    """The viewer's scheduled posts, the next first, each with a form to move it
    and a button to cancel it; a post whose publication failed says why."""
    return _page(request)


@require_POST
@account_required
def scheduled_status_reschedule(request: HttpRequest, scheduled_status_id: str) -> HttpResponse:
    """Move a scheduled post to the time sent; a refused time comes back on the
    page with the reason (422)."""
    try:
        row = selectors.scheduled_status_get(account=request.viewer,
                                             scheduled_status_id=scheduled_status_id)
    except NotFound:
        raise Http404 from None
    form = ScheduleForm(request.POST, prefix=str(row.pk))
    if form.is_valid():
        try:
            services.scheduled_status_update(account=request.viewer, scheduled_status_id=row.pk,
                                             scheduled_at=form.cleaned_data["scheduled_at"])
        except ValidationFailed as exc:
            form.add_error("scheduled_at", reason(exc))
        else:
            return _back()
    return _page(request, errors={row.pk: form}, status=422)


@require_POST
@account_required
def scheduled_status_cancel(request: HttpRequest, scheduled_status_id: str) -> HttpResponse:
    """Cancel a scheduled post."""
    try:
        services.scheduled_status_delete(account=request.viewer,
                                         scheduled_status_id=scheduled_status_id)
    except NotFound:
        raise Http404 from None
    return _back()


def _back() -> HttpResponseRedirect:
    response = HttpResponseRedirect(reverse("web:scheduled_statuses"))
    response.status_code = 303
    return response
