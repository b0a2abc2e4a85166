"""The interface's moderation pages: the report form on every post and profile;
the staff queue ordered by ``next_case``; the case page with its decision form
(which cannot be sent without reasons); the affected user's notices and appeal
form; the appeal reviewer's pages. Every change goes through a moderation
service; nothing here restricts anyone by itself."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_lookup
from tribune.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from tribune.core.ids import parse_id
from tribune.moderation.appeals import (
    appeal_create,
    appeal_decide,
    appeals_assign_pending,
    appellant_role,
)
from tribune.moderation.decisions import Reasons, decision_create
from tribune.moderation.models import Appeal, Case, ReportCategory, Restriction
from tribune.moderation.selectors import (
    appeals_assigned_to,
    appeals_without_reviewer,
    case_history,
    case_queue,
    decision_get,
    decisions_about,
    decisions_on_reports_of,
    queue_stats,
    rule_list,
)
from tribune.moderation.services import report_create
from tribune.statuses.selectors import status_get_visible
from tribune.web.errors import reason
from tribune.web.notice_views import LEGAL_CATEGORY_CHOICES
from tribune.web.throttle import limited_message
from tribune.web.viewer import account_required, staff_required, viewer_of

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
    code = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        category = form.cleaned_data["category"]
        rule_ids = form.cleaned_data["rule_ids"] if category == ReportCategory.VIOLATION else []
        try:
            filed = report_create(
                reporter=request.viewer, target=target,
                status_ids=[status.pk] if status else [], rule_ids=rule_ids,
                category=category, comment=form.cleaned_data["comment"])
        except ValidationFailed as exc:
            form.add_error(None, reason(exc))
        except RateLimited as exc:  # the account's budget, shared with the API
            form.add_error(None, limited_message(exc))
            code = 429
        else:
            return render(request, "web/report_received.html", {
                "title": _("Report received"), "report": filed, "target": target})
    return render(request, "web/report.html", {
        "title": _("Report @%(acct)s") % {"acct": target.acct}, "form": form,
        "target": target, "status": status,
    }, status=code)


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """Open cases, the most severe and most overdue first (``next_case`` order),
    with the appeals waiting for this moderator."""
    viewer = viewer_of(request)
    # Staff or ties may have changed since an appeal found nobody uninvolved.
    appeals_assign_pending()
    return render(request, "web/moderation_queue.html", {
        "title": _("Moderation queue"), "cases": case_queue(limit=50),
        "stats": queue_stats(), "nav": "moderation",
        "appeals": appeals_assigned_to(viewer) if viewer else [],
        "appeals_waiting": appeals_without_reviewer(),
    })


RESTRICTION_CHOICES = [
    (Restriction.NONE, gettext_lazy("No action")),
    (Restriction.LABEL, gettext_lazy("Add a content warning")),
    (Restriction.REDUCE, gettext_lazy("Reduce reach (out of public timelines and search)")),
    (Restriction.REMOVE, gettext_lazy("Remove the post")),
    (Restriction.FREEZE, gettext_lazy("Freeze the account (read-only)")),
    (Restriction.SUSPEND, gettext_lazy("Suspend the account")),
]
GROUND_CHOICES = [("tc", gettext_lazy("It breaks a rule of this server")),
                  ("law", gettext_lazy("It is illegal"))]


class DecisionForm(forms.Form):
    """A decision and its statement of reasons (DSA Art. 17(3)); completeness is
    checked by ``decision_create``, the browser only helps."""

    restriction = forms.ChoiceField(label=gettext_lazy("Decision"), choices=RESTRICTION_CHOICES,
                                    widget=forms.RadioSelect)
    label_text = forms.CharField(label=gettext_lazy("Content warning text"), required=False,
                                 max_length=200)
    duration_days = forms.IntegerField(
        label=gettext_lazy("Duration in days (empty: until reversed)"), required=False,
        min_value=1, max_value=3650)
    ground = forms.ChoiceField(label=gettext_lazy("Ground"), choices=GROUND_CHOICES,
                               widget=forms.RadioSelect, initial="tc")
    rule_id = forms.ChoiceField(label=gettext_lazy("Rule"), required=False)
    legal_ground = forms.CharField(label=gettext_lazy("Law relied on"), required=False,
                                   max_length=500)
    category = forms.ChoiceField(label=gettext_lazy("Category of illegal content"),
                                 required=False)
    explanation = forms.CharField(
        label=gettext_lazy("Why the content breaks the rule or the law"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}))
    facts = forms.CharField(
        label=gettext_lazy("Facts and circumstances (published without names)"),
        widget=forms.Textarea(attrs={"rows": 3}))
    unfounded = forms.MultipleChoiceField(
        label=gettext_lazy("Reports that were manifestly unfounded"), required=False,
        widget=forms.CheckboxSelectMultiple)
    strike = forms.BooleanField(label=gettext_lazy("Add a strike to the account"),
                                required=False, initial=True)

    def __init__(self, *args, reports=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule_id"].choices = [("", "—")] + [
            (str(r.pk), f"{r.position + 1}. {r.text}") for r in rule_list()]
        self.fields["category"].choices = [("", "—"), *LEGAL_CATEGORY_CHOICES]
        self.fields["unfounded"].choices = [
            (str(r.pk), f"{r.created_at:%Y-%m-%d %H:%M} · {r.get_category_display()}")
            for r in reports]

    def reasons(self) -> Reasons:
        data = self.cleaned_data
        return Reasons(facts=data["facts"], ground=data["ground"],
                       rule_id=data["rule_id"] or None, explanation=data["explanation"],
                       legal_ground=data["legal_ground"], category=data["category"])


def _case_or_404(case_id: str) -> Case:
    try:
        return Case.objects.select_related("target_account", "status").get(pk=parse_id(case_id))
    except (Case.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404 from None


@staff_required
def case(request: HttpRequest, case_id: str) -> HttpResponse:
    """One case: the subject as first reported (kept even if deleted since), every
    report and flag, its history, its decisions, and the decision form."""
    found = _case_or_404(case_id)
    reports = list(found.reports.select_related("reporter").prefetch_related("rules")
                   .order_by("created_at"))
    form = DecisionForm(request.POST or None, reports=reports)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            days = data["duration_days"]
            try:
                decision_create(
                    case_id=found.pk, moderator=viewer_of(request),
                    restriction=data["restriction"], reasons=form.reasons(),
                    label_text=data["label_text"],
                    duration=timedelta(days=days) if days else None,
                    unfounded_report_ids=data["unfounded"], strike=data["strike"])
            except (ValidationFailed, Forbidden) as exc:
                form.add_error(None, reason(exc))
            else:
                return redirect("web:moderation_case", case_id=found.pk)
    return render(request, "web/moderation_case.html", {
        "title": _("Case about @%(acct)s") % {"acct": found.target_account.acct},
        "case": found, "reports": reports, "nav": "moderation", "form": form,
        "flags": list(found.flags.order_by("created_at")),
        "history": case_history(found),
        "decisions": list(found.decisions.select_related("decided_by", "rule")
                          .order_by("created_at")),
    }, status=status)


def _may_read(viewer: Account | None, user, decision) -> bool:
    if user.is_authenticated and user.is_staff:
        return True
    if viewer is None:
        return False
    return viewer.pk == decision.target_account_id or appellant_role(viewer, decision) is not None


class AppealForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Why should the decision be changed? Add anything the moderators "
                           "did not know."), max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}))


@account_required
def notices(request: HttpRequest) -> HttpResponse:
    """The signed-in person's moderation notices: decisions about them, and the
    outcomes of their reports."""
    return render(request, "web/moderation_notices.html", {
        "title": _("Moderation notices"),
        "decisions": decisions_about(request.viewer),
        "outcomes": decisions_on_reports_of(request.viewer),
    })


@account_required
def decision(request: HttpRequest, decision_id: str) -> HttpResponse:
    """One decision's statement of reasons, its appeals and, for whoever may
    appeal it, the appeal form."""
    try:
        found = decision_get(decision_id)
    except NotFound:
        raise Http404 from None
    if not _may_read(request.viewer, request.user, found):
        raise Http404
    own_appeal = found.appeals.filter(appellant=request.viewer).first()
    can_appeal = (own_appeal is None and appellant_role(request.viewer, found) is not None
                  and not found.superseded_by.exists())
    form = AppealForm(request.POST or None) if can_appeal else None
    status = 200
    if request.method == "POST":
        if form is None:
            if own_appeal is not None:  # sent twice: show the appeal already made
                return redirect("web:moderation_decision", decision_id=found.pk)
            raise Http404
        status = 422
        if form.is_valid():
            try:
                appeal_create(account=request.viewer, decision_id=found.pk,
                              text=form.cleaned_data["text"])
            except (ValidationFailed, Forbidden, Conflict) as exc:
                form.add_error(None, reason(exc))
            else:
                return redirect("web:moderation_decision", decision_id=found.pk)
    return render(request, "web/moderation_decision.html", {
        "title": _("Moderation decision"), "decision": found, "form": form,
        "own_appeal": own_appeal, "replaced_by": found.superseded_by.first(),
    }, status=status)


class AppealAnswerForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), widget=forms.RadioSelect,
                                choices=[("uphold", gettext_lazy("The decision stands")),
                                         ("reverse", gettext_lazy("Reverse the decision"))])
    response = forms.CharField(label=gettext_lazy("Your reasons, sent to the appellant"),
                               max_length=5000, widget=forms.Textarea(attrs={"rows": 5}))


@staff_required
def appeal(request: HttpRequest, appeal_id: str) -> HttpResponse:
    """An appeal for its assigned reviewer: the decision, the appellant's text,
    and the answer form."""
    viewer = viewer_of(request)
    try:
        found = (Appeal.objects.select_related("decision__case", "decision__rule",
                                               "decision__target_account", "appellant")
                 .get(pk=parse_id(appeal_id)))
    except (Appeal.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404 from None
    form = AppealAnswerForm(request.POST or None)
    reporter_appeal = found.decision.restriction == Restriction.NONE
    decision_form = (DecisionForm(request.POST or None, prefix="d")
                     if reporter_appeal else None)
    status = 200
    if request.method == "POST":
        status = 422
        reversing = request.POST.get("outcome") == "reverse"
        if form.is_valid() and (not (reversing and decision_form) or decision_form.is_valid()):
            extra = {}
            if reversing and decision_form:
                data = decision_form.cleaned_data
                extra = {"restriction": data["restriction"], "reasons": decision_form.reasons(),
                         "label_text": data["label_text"],
                         "duration": timedelta(days=data["duration_days"])
                         if data["duration_days"] else None}
            try:
                appeal_decide(reviewer=viewer, appeal_id=found.pk, reverse=reversing,
                              response=form.cleaned_data["response"], **extra)
            except (ValidationFailed, Forbidden) as exc:
                form.add_error(None, reason(exc))
            else:
                return redirect("web:moderation_appeal", appeal_id=found.pk)
    return render(request, "web/moderation_appeal.html", {
        "title": _("Appeal"), "appeal": found, "form": form, "decision_form": decision_form,
        "is_reviewer": viewer is not None and found.reviewer_id == viewer.pk,
        "nav": "moderation",
    }, status=status)
