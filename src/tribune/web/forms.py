"""Forms of the interface. They only parse and label input; the rules (length,
visibility, who may reply) are the services', whose errors the views attach here."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tribune.accounts.models import Account, Visibility
from tribune.statuses.models import Status

VISIBILITY_CHOICES = [
    (Visibility.PUBLIC, pgettext_lazy("visibility", "Public")),
    (Visibility.UNLISTED, pgettext_lazy("visibility", "Unlisted")),
    (Visibility.PRIVATE, pgettext_lazy("visibility", "Followers only")),
    (Visibility.DIRECT, pgettext_lazy("visibility", "Mentioned people only")),
]


class ComposeForm(forms.Form):
    """A new post or a reply. ``in_reply_to`` pre-fills the mentions and visibility
    as Mastodon's compose box does."""

    spoiler_text = forms.CharField(label=_("Content warning"), required=False,
                                   max_length=settings.TRIBUNE_MAX_CHARACTERS)
    text = forms.CharField(label=_("What's on your mind?"), widget=forms.Textarea(
        attrs={"rows": 4}), required=True, strip=False)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=VISIBILITY_CHOICES)
    in_reply_to_id = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, viewer: Account, *args, in_reply_to: Status | None = None,
                 initial_text: str = "", **kwargs):
        initial = {"visibility": viewer.default_visibility, "text": initial_text}
        if in_reply_to is not None:
            handles = [in_reply_to.account.acct] + [
                m.account.acct for m in in_reply_to.mentions.all()]
            mentions = [h for h in dict.fromkeys(handles) if h != viewer.acct]
            initial["text"] = "".join(f"@{h} " for h in mentions)
            initial["in_reply_to_id"] = str(in_reply_to.pk)
            initial["spoiler_text"] = in_reply_to.spoiler_text  # as Mastodon does
            order = [v for v, _label in VISIBILITY_CHOICES]
            # A reply is never more public than what it answers.
            initial["visibility"] = max(viewer.default_visibility, in_reply_to.visibility,
                                        key=order.index)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.in_reply_to = in_reply_to
        self.fields["text"].widget.attrs["data-counter"] = "compose-counter"


class EditForm(forms.Form):
    """A new version of one's own post (visibility cannot change, as in Mastodon)."""

    spoiler_text = forms.CharField(label=_("Content warning"), required=False)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={
        "rows": 6, "data-counter": "edit-counter"}), strip=False)
