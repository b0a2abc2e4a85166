"""Forms of the import and export page and of the moving page. They parse and
label input; ``portability.imports.import_check`` and the accounts services have
the last word, and their refusals land on the field they concern."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tribune.core.errors import ValidationFailed
from tribune.portability.imports import ARCHIVE_KINDS, import_check
from tribune.portability.models import ImportKind, ImportMode
from tribune.web.errors import reason

KIND_CHOICES = [
    (ImportKind.FOLLOWING, _("Following list (CSV)")),
    (ImportKind.BLOCKS, _("Blocked accounts (CSV)")),
    (ImportKind.MUTES, _("Muted accounts (CSV)")),
    (ImportKind.BOOKMARKS, _("Bookmarks (CSV)")),
    (ImportKind.LISTS, _("Lists (CSV)")),
    (ImportKind.MASTODON_ARCHIVE, _("Mastodon archive (zip or tar.gz)")),
    (ImportKind.X_ARCHIVE, _("X/Twitter archive (zip)")),
]
MODE_CHOICES = [
    (ImportMode.MERGE, _("Merge: keep what you have and add what the file names")),
    (ImportMode.OVERWRITE, _("Overwrite: also remove what the file does not name "
                             "(CSV files only)")),
]


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=KIND_CHOICES)
    mode = forms.ChoiceField(label=_("How to import it"), choices=MODE_CHOICES,
                             initial=ImportMode.MERGE, widget=forms.RadioSelect)
    file = forms.FileField(label=_("File"), widget=forms.ClearableFileInput(
        attrs={"accept": ".csv,.zip,.tar.gz,.tgz,text/csv,application/zip,application/gzip"}))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data["kind"] in ARCHIVE_KINDS and data["mode"] != ImportMode.MERGE:
            self.add_error("mode", ValidationError(
                _("Archives can only be merged into your account."), code="archive_mode"))
            return data
        try:
            import_check(kind=data["kind"], mode=data["mode"], upload=data["file"])
        except ValidationFailed as exc:
            self.add_error("file", ValidationError(reason(exc), code="refused"))
        return data


class AliasesForm(forms.Form):
    aliases = forms.CharField(
        label=_("Your other accounts"), required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_("One account per line: its handle, such as @name@social.example, "
                    "or its address, such as https://social.example/users/name. Name "
                    "your old account here before it moves to this one."))

    def clean_aliases(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["aliases"].splitlines()
                if line.strip()]


class MovedToForm(forms.Form):
    moved_to = forms.CharField(
        label=_("This account has moved to"), required=False, max_length=500,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "none",
                                      "placeholder": "@name@social.example"}),
        help_text=_("The handle or address of your new account. Your profile here then "
                    "shows where you went. Leave empty to undo."))
