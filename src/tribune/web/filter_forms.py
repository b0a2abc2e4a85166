"""Forms of the filters settings: a filter (title, contexts, action, end,
keywords one per line), and a muted word."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tribune.filters.models import (
    KEYWORD_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    FilterAction,
    FilterContext,
)

KEEP = "keep"
EXPIRY_CHOICES = [
    ("", _("Never")),
    ("1800", _("30 minutes")),
    ("3600", _("1 hour")),
    ("21600", _("6 hours")),
    ("43200", _("12 hours")),
    ("86400", _("1 day")),
    ("604800", _("1 week")),
]


class FilterForm(forms.Form):
    """A new filter, or changes to one (``existing`` keywords may be removed or
    switched to whole words, and its end kept)."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    context = forms.MultipleChoiceField(
        label=_("Apply in"),
        choices=FilterContext.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    filter_action = forms.ChoiceField(
        label=_("Action"),
        choices=FilterAction.choices,
        initial=FilterAction.WARN,
        widget=forms.RadioSelect,
    )
    expires_in = forms.ChoiceField(
        label=_("Expires after"), choices=EXPIRY_CHOICES, required=False
    )
    keywords = forms.CharField(
        label=_("Add keywords"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One word or phrase per line."),
    )
    whole_word = forms.BooleanField(
        label=_("Whole words only (for the keywords added)"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, existing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.existing = list(existing or [])
        if existing is not None:
            self.fields["expires_in"].choices = [
                (KEEP, _("Keep as it is")),
                *EXPIRY_CHOICES,
            ]
            self.fields["expires_in"].initial = KEEP
            self.fields["remove"] = forms.MultipleChoiceField(
                label=_("Remove keywords"),
                required=False,
                choices=[(str(k.pk), k.keyword) for k in self.existing],
                widget=forms.CheckboxSelectMultiple,
            )

    def clean_keywords(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["keywords"].splitlines()]
        words = [line for line in lines if line]
        if any(len(word) > KEYWORD_MAX_LENGTH for word in words):
            raise forms.ValidationError(_("A keyword is too long."))
        return words

    def keywords_attributes(self) -> list[dict]:
        """The keyword changes as the services take them."""
        whole_word = self.cleaned_data["whole_word"]
        added = [
            {"keyword": word, "whole_word": whole_word}
            for word in self.cleaned_data["keywords"]
        ]
        removed = [
            {"id": pk, "_destroy": True} for pk in self.cleaned_data.get("remove", [])
        ]
        return removed + added


class MutedWordForm(forms.Form):
    """A word to hide everywhere."""

    word = forms.CharField(
        label=_("Word or phrase to mute"), max_length=KEYWORD_MAX_LENGTH
    )
    whole_word = forms.BooleanField(
        label=_("Whole word only"), required=False, initial=True
    )
