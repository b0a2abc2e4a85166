"""The interface's moderation pages: the report form on every post and profile,
and the staff queue ordered by ``next_case``. Decisions, notices and appeals are
made through moderation services as they arrive; nothing here restricts anyone."""

from __future__ import annotations

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_lookup
from tribune.core.errors import NotFound, ValidationFailed
from tribune.moderation.models import Case, ReportCategory
from tribune.moderation.selectors import case_queue, queue_stats, rule_list
from tribune.moderation.services import report_create
from tribune.statuses.selectors import status_get_visible
from tribune.web.viewer import account_required

CATEGORY_CHOICES = [
    (ReportCategory.SPAM, gettext_lazy("It is spam")),
    (ReportCategory.VIOLATION, gettext_lazy("It breaks the server rules")),
    (ReportCategory.LEGAL, gettext_lazy("It is illegal")),
    (ReportCategory.OTHER, gettext_lazy("Something else")),
]


class ReportForm(forms.Form):
    """What the reporter says; the rules are checked by ``report_create``."""

    category = forms.ChoiceField(label=gettext_lazy("What is wrong?"),
                                 choices=CATEGORY_CHOICES, widget=forms.RadioSelect)
    rule_ids = forms.MultipleChoiceField(
        label=gettext_lazy("Which rules does it break?"), required=False,
        widget=forms.CheckboxSelectMultiple)
    comment = forms.CharField(label=gettext_lazy("Anything the moderators should know?"),
                              required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule_ids"].choices = [(str(r.pk), r.text) for r in rule_list()]


def _target(username: str) -> Account:
    try:
        return account_lookup(acct=username)
    except NotFound:
        raise Http404 from None


@account_required
def report(request: HttpRequest, username: str, status_id: str | None = None) -> HttpResponse:
    """Report an account, or one of its posts, to the moderators."""
    target = _target(username)
    status = None
    if status_id is not None:
        try:
            status = status_get_visible(status_id=status_id, viewer=request.viewer)
        except NotFound:
            raise Http404 from None
        if status.account_id != target.pk:
            raise Http404
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        category = form.cleaned_data["category"]
        rule_ids = form.cleaned_data["rule_ids"] if category == ReportCategory.VIOLATION else []
        try:
            filed = report_create(
                reporter=request.viewer, target=target,
                status_ids=[status.pk] if status else [], rule_ids=rule_ids,
                category=category, comment=form.cleaned_data["comment"])
        except ValidationFailed as exc:
            form.add_error(None, str(exc))
        else:
            return render(request, "web/report_received.html", {
                "title": _("Report received"), "report": filed, "target": target})
    return render(request, "web/report.html", {
        "title": _("Report @%(acct)s") % {"acct": target.acct}, "form": form,
        "target": target, "status": status,
    }, status=422 if request.method == "POST" else 200)


@staff_member_required(login_url="/auth/sign_in")
def queue(request: HttpRequest) -> HttpResponse:
    """Open cases, the most severe and most overdue first (``next_case`` order)."""
    return render(request, "web/moderation_queue.html", {
        "title": _("Moderation queue"), "cases": case_queue(limit=50),
        "stats": queue_stats(), "nav": "moderation",
    })


@staff_member_required(login_url="/auth/sign_in")
def case(request: HttpRequest, case_id: str) -> HttpResponse:
    """One case: the subject as first reported (kept even if deleted since), and
    every report about it."""
    try:
        found = Case.objects.select_related("target_account", "status").get(pk=int(case_id))
    except (Case.DoesNotExist, ValueError, OverflowError):
        raise Http404 from None
    reports = (found.reports.select_related("reporter").prefetch_related("rules")
               .order_by("created_at"))
    return render(request, "web/moderation_case.html", {
        "title": _("Case about @%(acct)s") % {"acct": found.target_account.acct},
        "case": found, "reports": reports, "nav": "moderation",
    })
