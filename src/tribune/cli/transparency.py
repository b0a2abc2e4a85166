"""``tribune moderation transparency`` and ``export-sor``: the published figures
and the statements of reasons for the EU Transparency Database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tribune.cli.errors import CliError

EXPORT_HELP = """\
Write the statements of reasons of the restrictive decisions made in the period
[--from, --to) (UTC) as the EU DSA Transparency Database expects them: one JSON
document {"batches": [{"statements": [...]}, ...]}, each batch holding at most 100
statements and being exactly the body of one POST /api/v1/statements call. Each
statement is checked against the database's validation rules first; any that
fail are named on stderr, left out, and the exit status is 1."""


def _period(args: argparse.Namespace):
    if args.start > args.end:
        raise CliError(f"--from {args.start.isoformat()} is after --to {args.end.isoformat()}")
    return args.start, args.end


def cmd_transparency(args: argparse.Namespace) -> int:
    from tribune.cli.commands import migrate
    from tribune.moderation.transparency import transparency_report
    from tribune.moderation.transparency_tables import report_html

    start, end = _period(args)
    migrate()
    report = transparency_report(start=start, end=end)
    if args.format == "html":
        sys.stdout.write(report_html(report))
    else:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def cmd_export_sor(args: argparse.Namespace) -> int:
    from tribune.cli.commands import migrate
    from tribune.moderation.tdb import batches, period_statements

    start, end = _period(args)
    migrate()
    statements, invalid = period_statements(start=start, end=end)
    document = {"batches": [{"statements": batch} for batch in batches(statements)]}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {len(statements)} statements in {len(document['batches'])} "
              f"batches to {args.output}")
    else:
        sys.stdout.write(text)
    for puid, problems in invalid.items():
        print(f"tribune moderation export-sor: {puid} left out: {'; '.join(problems)}",
              file=sys.stderr)
    return 1 if invalid else 0


HANDLERS = {"transparency": cmd_transparency, "export-sor": cmd_export_sor}
