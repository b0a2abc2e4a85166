"""The notice of illegal content form (DSA Art. 16), open to everyone: no account
needed. It parses the form, calls ``notices.notice_create`` and shows the
acknowledgement; form errors answer 422 and rate-limit refusals 429."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tribune.core.errors import RateLimited, ValidationFailed
from tribune.core.urls import absolute
from tribune.moderation.notices import EXPLANATION_MAX, notice_create
from tribune.web import throttle
from tribune.web.errors import reason
from tribune.web.viewer import viewer_of

# The Transparency Database categories in the words of its public site; breaches of
# the server's own rules go through the ordinary report form instead.
LEGAL_CATEGORY_CHOICES = [
    ("", gettext_lazy("Choose one")),
    ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", gettext_lazy("Illegal or harmful speech")),
    ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", gettext_lazy("Protection of minors")),
    ("STATEMENT_CATEGORY_CYBER_VIOLENCE", gettext_lazy("Cyber violence")),
    ("STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
     gettext_lazy("Cyber violence against women")),
    ("STATEMENT_CATEGORY_VIOLENCE", gettext_lazy("Violence")),
    ("STATEMENT_CATEGORY_SELF_HARM", gettext_lazy("Self-harm")),
    ("STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", gettext_lazy("Risk for public security")),
    ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", gettext_lazy("Scams and fraud")),
    ("STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
     gettext_lazy("Data protection and privacy violations")),
    ("STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
     gettext_lazy("Intellectual property infringements")),
    ("STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
     gettext_lazy("Negative effects on civic discourse or elections")),
    ("STATEMENT_CATEGORY_CONSUMER_INFORMATION", gettext_lazy("Consumer information infringements")),
    ("STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
     gettext_lazy("Unsafe or prohibited products")),
    ("STATEMENT_CATEGORY_ANIMAL_WELFARE", gettext_lazy("Animal welfare")),
    ("STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", gettext_lazy("Something else, or I am not sure")),
]


class NoticeForm(forms.Form):
    """The Art. 16(2) elements; whether name and e-mail are needed (not for child
    sexual abuse material) is decided by ``notice_create``."""

    url = forms.CharField(label=gettext_lazy("Address of the post or profile"), max_length=500,
                          widget=forms.URLInput)
    legal_category = forms.ChoiceField(label=gettext_lazy("What kind of illegal content is it?"),
                                       choices=LEGAL_CATEGORY_CHOICES, required=False)
    csam = forms.BooleanField(
        label=gettext_lazy("It is child sexual abuse material"), required=False,
        help_text=gettext_lazy("You may then leave out your name and e-mail address."))
    explanation = forms.CharField(
        label=gettext_lazy("Why is it illegal?"), max_length=EXPLANATION_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Explain the reasons in enough detail, and name the law "
                               "if you can."))
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200, required=False)
    email = forms.EmailField(label=gettext_lazy("Your e-mail address"), required=False,
                             help_text=gettext_lazy("We send the confirmation of receipt "
                                                    "and our decision here."))
    good_faith = forms.BooleanField(label=gettext_lazy(
        "I believe in good faith that the information and allegations in this notice "
        "are accurate and complete."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["url"].widget.attrs["placeholder"] = absolute("/@username/123")


def notice(request: HttpRequest) -> HttpResponse:
    """``/report-illegal-content``: the form (``?url=`` fills the address; a signed-in
    person's name and e-mail are filled in) and, once filed, the acknowledgement."""
    viewer = viewer_of(request)
    context = {"title": _("Report illegal content")}
    if request.method != "POST":
        url = request.GET.get("url", "")
        initial = {"url": absolute(url) if url.startswith("/") else url}
        if viewer is not None:
            initial.update(name=viewer.display_name or viewer.username,
                           email=viewer.user.email if viewer.user else "")
        return render(request, "web/notice.html", {**context, "form": NoticeForm(initial=initial)})
    form = NoticeForm(request.POST)
    valid = form.is_valid()
    refusal = throttle.notice_refusal(request, valid=valid)
    if refusal:
        form.add_error(None, refusal)
        return render(request, "web/notice.html", {**context, "form": form}, status=429)
    if valid:
        try:
            filed = notice_create(**form.cleaned_data, reporter=viewer)
        except ValidationFailed as exc:
            form.add_error(None, reason(exc))
        except RateLimited as exc:  # a signed-in reporter's daily budget of reports
            form.add_error(None, throttle.limited_message(exc))
            return render(request, "web/notice.html", {**context, "form": form}, status=429)
        else:
            return render(request, "web/notice_received.html",
                          {"title": _("Notice received"), "report": filed})
    return render(request, "web/notice.html", {**context, "form": form}, status=422)
