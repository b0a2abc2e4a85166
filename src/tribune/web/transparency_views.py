"""``/about/transparency``: the public transparency report (DSA Art. 15 and 24;
Santa Clara Principles, Numbers) as tables, and the same report as JSON."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribune.moderation.transparency import transparency_report
from tribune.moderation.transparency_tables import period_label, report_tables


class PeriodForm(forms.Form):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``: the period, ``to`` not included."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label, help_text in (
                ("from", gettext_lazy("From"), gettext_lazy("First day, included")),
                ("to", gettext_lazy("To"), gettext_lazy("Day after the last, not included"))):
            self.fields[name] = forms.DateField(
                label=label, help_text=help_text, required=False, input_formats=["%Y-%m-%d"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean(self):
        data = super().clean()
        if data.get("from") and data.get("to") and data["from"] > data["to"]:
            raise forms.ValidationError(_("The period must start before it ends."))
        return data


def _default_period() -> tuple[date, date]:
    """The current year to date, today included (UTC)."""
    today = timezone.now().date()
    return date(today.year, 1, 1), today + timedelta(days=1)


def _period(request: HttpRequest) -> tuple[date, date, PeriodForm]:
    """The requested period, or the default one when a value is missing or bad."""
    start, end = _default_period()
    form = PeriodForm(request.GET if request.GET else None,
                      initial={"from": start, "to": end})
    if form.is_bound and form.is_valid():
        start = form.cleaned_data["from"] or start
        end = form.cleaned_data["to"] or end
        if start > end:
            form.add_error(None, _("The period must start before it ends."))
            start, end = _default_period()
    return start, end, form


def transparency(request: HttpRequest) -> HttpResponse:
    """The transparency report of a period as tables (the year to date unless
    ``?from=&to=`` choose another), with a link to the same figures as JSON."""
    start, end, form = _period(request)
    report = transparency_report(start=start, end=end)
    query = urlencode({"from": start.isoformat(), "to": end.isoformat()})
    return render(request, "web/transparency.html", {
        "title": _("Transparency report"), "form": form, "report": report,
        "tables": report_tables(report), "period_label": period_label(report),
        "json_url": f"{reverse('web:transparency_json')}?{query}"})


def transparency_json(request: HttpRequest) -> JsonResponse:
    """The report of :func:`transparency` as JSON; 400 with ``{"error"}`` for a
    bad period."""
    start, end, form = _period(request)
    if form.is_bound and form.errors:
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return JsonResponse({"error": message}, status=400)
    return JsonResponse(transparency_report(start=start, end=end),
                        json_dumps_params={"ensure_ascii": False})
