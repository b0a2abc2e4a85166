"""``tribune export`` and ``tribune import``: a person's own data taken away and
brought back from the command line, through the same services as the settings
page (tribune.portability; docs/adr/0015-user-data-portability.md). The import
runs here and now rather than on the task queue, and prints its rows.

Both need the instance's domain: an export writes it into every id and link
(``https://DOMAIN/users/alice/statuses/1``, ``alice@DOMAIN``) for other servers
to read, and an import tells this instance's accounts from other servers' by it.
``tribune serve`` without TRIBUNE_DOMAIN uses the address it listens on, which a
command run beside it cannot know; so these two refuse to run without
TRIBUNE_DOMAIN rather than write a guessed domain into a file that leaves the
instance."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from django.utils.translation import gettext as _

from tribune.cli.errors import CliError

KINDS = ["following", "blocks", "mutes", "bookmarks", "lists", "mastodon-archive",
         "x-archive"]
DOMAIN_HELP = ("It needs TRIBUNE_DOMAIN set to the instance's public host[:port], as "
               "`tribune serve` is given it (ids and links in the files name it).")


def add_parsers(commands) -> None:
    """The two subcommands, on ``tribune``'s subparsers ``commands``."""
    export = commands.add_parser(
        "export", help="write a local account's archive (Mastodon's layout) to a zip file",
        description="Write USER's posts, boosts, favourites, bookmarks, pictures, media, "
                    "follows, followers, blocks and mutes to a zip file in the layout of "
                    "Mastodon's account archive, with its CSV files. " + DOMAIN_HELP)
    export.add_argument("name", metavar="USER", help="username of a local account")
    export.add_argument("--output", required=True, metavar="FILE.zip",
                        help="the zip file to write (replaced if it exists)")
    imported = commands.add_parser(
        "import", help="import a CSV file or an archive into a local account",
        description="Import FILE into USER's account: Mastodon's CSV files (following, "
                    "blocks, mutes, bookmarks, lists), a Mastodon account archive (zip or "
                    "tar.gz) or an X/Twitter archive. Prints the rows that were not "
                    "imported, with the reason, then the counts. Running it again adds "
                    "nothing twice. " + DOMAIN_HELP)
    imported.add_argument("name", metavar="USER", help="username of a local account")
    imported.add_argument("kind", metavar="KIND", choices=KINDS,
                          help="one of: " + ", ".join(KINDS))
    imported.add_argument("path", metavar="FILE", help="the file to import")
    imported.add_argument("--mode", choices=["merge", "overwrite"], default="merge",
                          help="overwrite also removes what the CSV file does not name "
                               "(default: %(default)s)")


def _check_domain() -> None:
    if not os.environ.get("TRIBUNE_DOMAIN"):
        raise CliError(_("TRIBUNE_DOMAIN is not set: set it to the instance's public "
                         "host[:port] (the one `tribune serve` is reached at, e.g. "
                         "social.example, or 127.0.0.1:8000 for a local instance served "
                         "with the defaults); the archive's ids and links name it, and "
                         "imports tell this instance's accounts by it"))


def _account(name: str):
    from tribune.accounts.selectors import account_lookup
    from tribune.core.errors import NotFound

    try:
        account = account_lookup(acct=name)
    except NotFound:
        raise CliError(_("no local account named %(name)r") % {"name": name}) from None
    if not account.is_local or account.user is None:
        raise CliError(_("no local account named %(name)r") % {"name": name})
    return account


def cmd_export(args: argparse.Namespace) -> int:
    from django.template.defaultfilters import filesizeformat

    from tribune.cli.commands import migrate
    from tribune.portability.exports import archive_write

    _check_domain()
    migrate()
    account = _account(args.name)
    target = Path(args.output)
    partial = target.with_name(f".{target.name}.partial")
    try:
        archive_write(account=account, path=partial)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CliError(_("cannot write %(file)s: %(reason)s")
                       % {"file": target, "reason": exc.strerror or exc}) from None
    print(_("Wrote the archive of %(name)s to %(file)s (%(size)s).")
          % {"name": account.username, "file": target,
             "size": filesizeformat(target.stat().st_size)})
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from django.core.files import File

    from tribune.cli.commands import migrate
    from tribune.portability.imports import import_create, import_run
    from tribune.portability.selectors import import_rows

    _check_domain()
    migrate()
    account = _account(args.name)
    path = Path(args.path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise CliError(_("cannot read %(file)s: %(reason)s")
                       % {"file": path, "reason": exc.strerror or exc}) from None
    with handle:
        batch = import_create(account=account, kind=args.kind, mode=args.mode,
                              upload=File(handle, name=path.name), filename=path.name,
                              enqueue=False)
    batch = import_run(import_id=batch.pk)
    offset = 0
    while rows := import_rows(batch=batch, offset=offset, limit=500):
        for row in rows:
            if row.result != "imported" or row.reason:
                print(f"{row.number}: {row.result}: {row.item}: {row.reason}".rstrip(": "))
        offset += len(rows)
    if batch.error:
        raise CliError(batch.error)
    summary = _("imported %(imported)d, skipped %(skipped)d, failed %(failed)d of %(total)d") % {
        "imported": batch.imported, "skipped": batch.skipped, "failed": batch.failed,
        "total": batch.total}
    if batch.removed:
        summary += _(", removed %(removed)d") % {"removed": batch.removed}
    print(summary)
    return 0
