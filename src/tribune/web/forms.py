"""Forms of the interface. They only parse and label input; the rules (length,
visibility, who may reply) are the services', whose errors the views attach here."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tribune.accounts.models import Account, Visibility
from tribune.media.processing import IMAGE_TYPES
from tribune.media.services import DESCRIPTION_LIMIT, MAX_ATTACHMENTS
from tribune.statuses.models import QuotePolicy, ReplyPolicy, Status
from tribune.statuses.polls import MAX_OPTION_CHARACTERS, MAX_OPTIONS

VISIBILITY_CHOICES = [
    (Visibility.PUBLIC, pgettext_lazy("visibility", "Public")),
    (Visibility.UNLISTED, pgettext_lazy("visibility", "Unlisted")),
    (Visibility.PRIVATE, pgettext_lazy("visibility", "Followers only")),
    (Visibility.DIRECT, pgettext_lazy("visibility", "Mentioned people only")),
]


MEDIA_SLOTS = MAX_ATTACHMENTS
POLL_SLOTS = MAX_OPTIONS
# Mastodon's compose box offers these durations (seconds).
POLL_DURATIONS = [
    (300, _("5 minutes")),
    (1800, _("30 minutes")),
    (3600, _("1 hour")),
    (6 * 3600, _("6 hours")),
    (86400, _("1 day")),
    (3 * 86400, _("3 days")),
    (7 * 86400, _("7 days")),
]
IMAGE_ACCEPT = ",".join(IMAGE_TYPES)
# A browser's date-and-time field sends this form (HTML's local date and time string).
LOCAL_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def schedule_field(*, required: bool) -> forms.DateTimeField:
    """A date and time in UTC (the interface knows no time zone of its reader's),
    entered with the browser's own picker, which needs no script."""
    return forms.DateTimeField(
        label=_("Schedule for (UTC)"), required=required,
        input_formats=LOCAL_DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                   format="%Y-%m-%dT%H:%M"))


class ScheduleForm(forms.Form):
    """A new time for a scheduled post."""

    scheduled_at = schedule_field(required=True)


class ComposeForm(forms.Form):
    """A new post, a reply or a quote (``quoted``), with up to four pictures, each with its description,
    or a poll (its options, duration, whether several may be chosen and whether
    counts stay hidden until it ends; the poll rules are
    ``statuses.polls.poll_spec``'s), now or at ``scheduled_at``. ``in_reply_to`` pre-fills the mentions and visibility as Mastodon's compose box
    does."""

    spoiler_text = forms.CharField(label=_("Content warning"), required=False,
                                   max_length=settings.TRIBUNE_MAX_CHARACTERS)
    # Not required here: a post of pictures may have no text (the service decides).
    text = forms.CharField(label=_("What's on your mind?"), widget=forms.Textarea(
        attrs={"rows": 4}), required=False, strip=False)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=VISIBILITY_CHOICES)
    in_reply_to_id = forms.CharField(required=False, widget=forms.HiddenInput)
    # Empty: publish now; else kept for then (tribune.scheduling).
    scheduled_at = schedule_field(required=False)
    poll_duration = forms.TypedChoiceField(label=_("Poll duration"), choices=POLL_DURATIONS,
                                           coerce=int, initial=86400, required=False,
                                           empty_value=86400)
    poll_multiple = forms.BooleanField(label=_("Allow several choices"), required=False)
    # Mastodon's ``poll[hide_totals]``: counts shown to the author only until the end.
    poll_hide_totals = forms.BooleanField(label=_("Hide vote counts until the poll ends"),
                                          required=False)
    reply_policy = forms.ChoiceField(label=_("Who can reply"), choices=[
        (ReplyPolicy.EVERYONE, _("Everyone")),
        (ReplyPolicy.FOLLOWERS, _("Your followers and the people you mention")),
        (ReplyPolicy.MENTIONED, _("Only the people you mention")),
    ], initial=ReplyPolicy.EVERYONE, required=False)
    local_only = forms.BooleanField(
        label=_("Only on this server (not sent to other servers, hidden from visitors)"),
        required=False)
    quoted_status_id = forms.CharField(required=False, widget=forms.HiddenInput)
    quote_approval_policy = forms.ChoiceField(label=_("Who can quote"), choices=[
        (QuotePolicy.PUBLIC, _("Anyone")),
        (QuotePolicy.FOLLOWERS, _("Followers")),
        (QuotePolicy.NOBODY, _("Nobody")),
    ], initial=QuotePolicy.PUBLIC, required=False)

    def __init__(self, viewer: Account, *args, in_reply_to: Status | None = None,
                 initial_text: str = "", quoted: Status | None = None, **kwargs):
        initial = {"visibility": viewer.default_visibility, "text": initial_text,
                   "quote_approval_policy": viewer.default_quote_policy}
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
            initial["local_only"] = in_reply_to.local_only
        if quoted is not None:
            initial["quoted_status_id"] = str(quoted.pk)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.in_reply_to = in_reply_to
        self.quoted = quoted
        self.fields["text"].widget.attrs["data-counter"] = "compose-counter"
        for n in range(1, MEDIA_SLOTS + 1):
            self.fields[f"media_{n}"] = forms.FileField(
                label=_("Picture %(n)d") % {"n": n}, required=False,
                widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT, "data-preview": f"preview-{n}"}))
            self.fields[f"description_{n}"] = forms.CharField(
                label=_("Description of picture %(n)d (alt text)") % {"n": n}, required=False,
                max_length=DESCRIPTION_LIMIT, widget=forms.Textarea(attrs={"rows": 2}))
        for n in range(1, POLL_SLOTS + 1):
            self.fields[f"poll_option_{n}"] = forms.CharField(
                label=_("Choice %(n)d") % {"n": n}, required=False,
                max_length=MAX_OPTION_CHARACTERS)

    def poll_slots(self) -> list[forms.BoundField]:
        """The poll's option fields, in order."""
        return [self[f"poll_option_{n}"] for n in range(1, POLL_SLOTS + 1)]

    def poll_options_sent(self) -> bool:
        """Whether the sent form had any poll choice typed (to show the poll part
        open again with its errors)."""
        return self.is_bound and any(
            (self.data.get(f"poll_option_{n}") or "").strip() for n in range(1, POLL_SLOTS + 1))

    def poll_options(self) -> list[str]:
        """The options typed (after is_valid), blanks left out: none, no poll."""
        return [value for n in range(1, POLL_SLOTS + 1)
                if (value := self.cleaned_data.get(f"poll_option_{n}", "").strip())]

    def media_slots(self) -> list[tuple[forms.BoundField, forms.BoundField, int]]:
        """(file field, its description field, its number) for each picture slot."""
        return [(self[f"media_{n}"], self[f"description_{n}"], n)
                for n in range(1, MEDIA_SLOTS + 1)]

    def uploads(self) -> list[tuple[str, UploadedFile, str]]:
        """(field name, chosen file, its description) in slot order (after is_valid)."""
        return [(f"media_{n}", self.cleaned_data[f"media_{n}"],
                 self.cleaned_data[f"description_{n}"])
                for n in range(1, MEDIA_SLOTS + 1) if self.cleaned_data.get(f"media_{n}")]


class EditForm(forms.Form):
    """A new version of one's own post (visibility cannot change, as in Mastodon)."""

    spoiler_text = forms.CharField(label=_("Content warning"), required=False)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={
        "rows": 6, "data-counter": "edit-counter"}), strip=False)
