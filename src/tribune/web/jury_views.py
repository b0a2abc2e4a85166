"""The interface's jury pages: volunteering and the rules quiz
(``/settings/jury``), a juror's panels (``/jury``), the blind voting page
(``/jury/<panel_id>``), and staff sending a case to a jury. Reads and writes go
through ``moderation.jurors`` and ``moderation.juries``; no other vote is shown
while a panel votes."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tribune.core.errors import DomainError, NotFound
from tribune.moderation.juries import (
    PanelView,
    juror_panel,
    juror_panels,
    panel_open,
    vote_cast,
)
from tribune.moderation.jurors import (
    juror_ineligibility,
    juror_opt_in,
    juror_opt_out,
    juror_profile,
    juror_quiz,
    juror_quiz_submit,
)
from tribune.moderation.models import PanelState, Restriction, Verdict
from tribune.moderation.selectors import rule_list
from tribune.web.errors import reason
from tribune.web.join import see_other
from tribune.web.viewer import account_required, staff_required, viewer_of

VERDICTS = {
    Verdict.VIOLATES: gettext_lazy("It breaks a rule"),
    Verdict.DOES_NOT_VIOLATE: gettext_lazy("It does not break the rules"),
    Verdict.ABSTAIN: gettext_lazy("I abstain"),
}
RESTRICTIONS = {
    Restriction.LABEL: gettext_lazy("Add a content warning"),
    Restriction.REDUCE: gettext_lazy("Reduce its reach"),
    Restriction.REMOVE: gettext_lazy("Remove the post"),
    Restriction.FREEZE: gettext_lazy("Freeze the account (read-only)"),
    Restriction.SUSPEND: gettext_lazy("Suspend the account"),
}
PANEL_STATES = {
    PanelState.VOTING: gettext_lazy("Voting"),
    PanelState.DECIDED: gettext_lazy("Decided"),
    PanelState.HUNG: gettext_lazy("No agreement: back with the moderators"),
    PanelState.EXPIRED: gettext_lazy("Too few votes in time: back with the moderators"),
}
YES_NO = [("yes", gettext_lazy("Yes, it is a rule here")),
          ("no", gettext_lazy("No, it is not"))]


class QuizForm(forms.Form):
    """One yes/no question per quiz statement (``juror_quiz``)."""

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        for i, question in enumerate(questions):
            self.fields[f"q{i}"] = forms.ChoiceField(label=question.text, choices=YES_NO,
                                                     widget=forms.RadioSelect)

    def answers(self) -> list[bool]:
        return [self.cleaned_data[name] == "yes" for name in self.fields]


class VoteForm(forms.Form):
    """A juror's vote; ``vote_cast`` checks what depends on the verdict."""

    verdict = forms.ChoiceField(label=gettext_lazy("Your verdict"),
                                choices=list(VERDICTS.items()), widget=forms.RadioSelect)
    rule_id = forms.ChoiceField(label=gettext_lazy("The rule it breaks"), required=False)
    proposed_restriction = forms.ChoiceField(
        label=gettext_lazy("What should be done"), required=False,
        choices=[("", "—"), *RESTRICTIONS.items()],
        help_text=gettext_lazy("Only if you find that it breaks a rule."))
    rationale = forms.CharField(
        label=gettext_lazy("Your reasons"), widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Required. Other jurors and the moderators read them once "
                               "the jury has closed; they are never shown with your name."))

    def __init__(self, *args, rules=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule_id"].choices = [("", "—"), *((str(r.pk), r.text) for r in rules)]


def vote_rows(view: PanelView) -> list[dict]:
    """A closed panel's votes as a page lists them, without jurors' names."""
    return [{"verdict": VERDICTS.get(v.verdict, v.verdict),
             "rule": v.rule.text if v.rule else "",
             "restriction": RESTRICTIONS.get(v.proposed_restriction, ""),
             "rationale": v.rationale} for v in view.votes]


@account_required
def settings_jury(request: HttpRequest) -> HttpResponse:
    """``/settings/jury``: volunteer as a juror, take the rules quiz, or stop."""
    account = request.viewer
    action = request.POST.get("form") if request.method == "POST" else None
    try:
        if action == "opt_in":
            juror_opt_in(account=account)
            messages.success(request, _("You have volunteered. Pass the short quiz to be "
                                        "drawn for juries."))
            return see_other(reverse("web:settings_jury"))
        if action == "opt_out":
            juror_opt_out(account=account)
            messages.success(request, _("You will not be drawn for new juries."))
            return see_other(reverse("web:settings_jury"))
    except DomainError as error:
        messages.error(request, reason(error))
        return see_other(reverse("web:settings_jury"))
    profile = juror_profile(account=account)
    active = profile is not None and profile.opted_out_at is None
    quiz = None
    if active and profile.quiz_passed_at is None:
        questions = juror_quiz(account=account) if rule_list() else []
        quiz = QuizForm(request.POST if action == "quiz" else None, questions=questions)
        if quiz.is_bound and quiz.is_valid():
            if juror_quiz_submit(account=account, answers=quiz.answers()):
                messages.success(request, _("You passed the quiz. You can now be drawn "
                                            "for juries."))
                return see_other(reverse("web:settings_jury"))
            quiz.add_error(None, _("Some answers are not right. Read the rules and try again."))
    return render(request, "web/jury_settings.html", {
        "title": _("Jury"), "nav": "settings", "tab": "jury", "profile": profile,
        "active": active, "quiz": quiz,
        "reasons": [] if active else juror_ineligibility(account),
    }, status=422 if quiz is not None and quiz.is_bound and quiz.errors else 200)


@account_required
def inbox(request: HttpRequest) -> HttpResponse:
    """``/jury``: the panels the viewer sits on, newest first."""
    rows = [{"view": view, "state": PANEL_STATES[view.panel.state]}
            for view in juror_panels(juror=request.viewer)]
    return render(request, "web/jury_inbox.html", {"title": _("Your juries"), "rows": rows})


@account_required
def panel(request: HttpRequest, panel_id: str) -> HttpResponse:
    """``/jury/<panel_id>``: the case as first reported, the rules, and the
    viewer's vote (the form until they vote); other votes only once closed."""
    try:
        view = juror_panel(juror=request.viewer, panel_id=panel_id)
    except NotFound:
        raise Http404 from None
    rules = rule_list()
    can_vote = view.voting and view.own_vote is None
    form = VoteForm(request.POST if request.method == "POST" and can_vote else None,
                    rules=rules)
    if form.is_bound and form.is_valid():
        try:
            vote_cast(juror=request.viewer, panel_id=view.panel.pk, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, reason(error))
        else:
            messages.success(request, _("Your vote has been recorded."))
            return see_other(reverse("web:jury_panel", args=[view.panel.pk]))
    own = view.own_vote
    return render(request, "web/jury_panel.html", {
        "title": _("A case for the jury"), "view": view, "case": view.panel.case, "rules": rules, "form": form if can_vote else None,
        "state": PANEL_STATES[view.panel.state], "votes": vote_rows(view),
        "own": vote_rows(PanelView(panel=view.panel, votes=(own,)))[0] if own else None,
    }, status=422 if form.is_bound and form.errors else 200)


@require_POST
@staff_required
def send_to_jury(request: HttpRequest, case_id: str) -> HttpResponse:
    """Staff send an open P2–P4 case to a jury drawn at random; back to the case."""
    moderator = viewer_of(request)
    if moderator is None:
        raise PermissionDenied
    try:
        panel_open(case_id=case_id, moderator=moderator)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, reason(error))
    else:
        messages.success(request, _("The case has gone to a jury. It leaves the queue until "
                                    "the jury closes."))
    return see_other(reverse("web:moderation_case", args=[case_id]))
