"""Mastodon's CSV files of follows, blocks, mutes, bookmarks and lists, read the way
Mastodon reads them (app/models/form/import.rb) and written the way it writes them
(app/models/export.rb).

Reading: UTF-8 with or without a byte-order mark, any line endings, quoted fields.
When the first cell is one of the kind's known headers the first line is a header
and columns are found by name (extra columns are ignored); otherwise every line is
data, in the kind's default column order (Mastodon re-reads such files with its
default headers). Blank lines are skipped; a leading ``@`` is dropped from account
addresses; booleans are read as Rails casts them (``false``, ``f``, ``0``, ``off``
and ``no`` are false, other non-empty values true, empty means the default).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribune.core.errors import ValidationFailed

ACCOUNT = "Account address"
# The kind's columns, in the order used when the file has no header
# (Form::Import::KNOWN_FIRST_HEADERS and the default headers of each type).
COLUMNS: dict[str, tuple[str, ...]] = {
    "following": (ACCOUNT, "Show boosts", "Notify on new posts", "Languages"),
    "blocks": (ACCOUNT,),
    "mutes": (ACCOUNT, "Hide notifications"),
    "bookmarks": ("#uri",),
    "lists": ("List name", ACCOUNT),
}
FALSE_VALUES = {"false", "f", "0", "off", "no", "n"}
KNOWN_HEADERS = {column for columns in COLUMNS.values() for column in columns}
# Columns that only one kind's header has: a header with one of them says what the
# file is (after Mastodon's Form::Import#guessed_type).
TELLING = {"Hide notifications": "mutes", "Show boosts": "following",
           "Notify on new posts": "following", "Languages": "following",
           "List name": "lists", "#uri": "bookmarks"}


@dataclass(frozen=True)
class Row:
    """One data line: its line number in the file and its cells by column name
    (missing cells are "")."""

    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()

    def account(self) -> str:
        return self.get(ACCOUNT).lstrip("@").strip()

    def flag(self, column: str) -> bool | None:
        value = self.get(column).lower()
        if not value:
            return None
        return value not in FALSE_VALUES


def read_rows(data: bytes, *, kind: str) -> list[Row]:
    """The data lines of a CSV file of ``kind``. Raises ValidationFailed for a file
    over TRIBUNE_IMPORT_MAX_CSV_BYTES, not UTF-8, not CSV, or with more than
    TRIBUNE_IMPORT_MAX_ROWS data lines."""
    limit = settings.TRIBUNE_IMPORT_MAX_CSV_BYTES
    if len(data) > limit:
        raise ValidationFailed(_("The file is larger than %(limit)s.")
                               % {"limit": filesizeformat(limit)})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(_("The file is not UTF-8 text.")) from None
    if "\x00" in text:
        raise ValidationFailed(_("The file is not a CSV file."))
    columns = COLUMNS[kind]
    # Strict, as Ruby's CSV (Mastodon's) is: an unclosed or stray quote is an error.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[Row] = []
    header: list[str] | None = None
    max_rows = settings.TRIBUNE_IMPORT_MAX_ROWS
    last_line = 0  # the line the last row ended on
    try:
        for cells in reader:
            last_line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None and not rows and cells[0].strip().lstrip("\ufeff") in KNOWN_HEADERS:
                header = [c.strip().lstrip("\ufeff") for c in cells]
                _check_kind(header, kind)
                continue
            names = header or list(columns)
            if len(rows) >= max_rows:
                raise ValidationFailed(
                    ngettext("The file has more than %(limit)d row; split it into smaller files.",
                             "The file has more than %(limit)d rows; split it into smaller files.",
                             max_rows) % {"limit": max_rows})
            rows.append(Row(number=reader.line_num,
                            cells={name: value for name, value in zip(names, cells, strict=False)}))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):  # a quote opened and never closed
            raise ValidationFailed(
                _("The file is not a valid CSV file: a quoted field on line %(line)s is "
                  "never closed.") % {"line": last_line + 1}) from None
        raise ValidationFailed(_("The file is not a valid CSV file: %(reason)s on line "
                                 "%(line)s.") % {"reason": str(exc), "line": last_line + 1}
                               ) from None
    return rows


def _check_kind(header: list[str], kind: str) -> None:
    """Raise ValidationFailed when ``header`` is another kind's (a following list
    given as blocks would block everyone followed)."""
    from tribune.portability.models import ImportKind

    found = {TELLING[c] for c in header if c in TELLING}
    if found and kind not in found:
        raise ValidationFailed(
            _("This file's columns are those of %(found)s, not of %(kind)s; choose the "
              "kind that matches the file.")
            % {"found": ImportKind(sorted(found)[0]).label, "kind": ImportKind(kind).label})


def write_csv(rows: list[list[str]], *, header: list[str] | None = None) -> bytes:
    """``rows`` as Mastodon writes its exports: UTF-8, comma-separated, quoted
    only where needed, ``\\n`` line ends (Ruby's CSV defaults)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
