"""The ``tribune`` command: serve the instance, run task workers, manage accounts.

Arguments are parsed before Django starts, so ``--help`` and usage errors are fast.
Every failure ends as one line on stderr and a non-zero exit status; tracebacks are
shown only with TRIBUNE_DEBUG set.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import NoReturn

from tribune.cli.errors import CliError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {value!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, got {port}")
    return port


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _date(value: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {value!r} (expected YYYY-MM-DD)") from None


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT,
                        help="port to listen on (default: %(default)s)")
    parser.add_argument("--workers", type=_positive, default=2,
                        help="web server processes (default: %(default)s)")
    parser.add_argument("--task-workers", type=_positive, default=1,
                        help="background task worker processes (default: %(default)s)")
    parser.add_argument("--no-tasks", action="store_true",
                        help="start no task workers (run `tribune worker` separately)")
    parser.add_argument("--streaming-port", type=_port, default=None,
                        help="port of the streaming API process (default: the port after "
                             "--port if free, else any free port)")
    parser.add_argument("--no-streaming", action="store_true",
                        help="start no streaming process (run `tribune streaming` separately)")


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors told in one line like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tribune",
        description="Tribune, a microblogging server that speaks the Mastodon client API.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo", help="add demo content, then serve",
        description="Migrate, add invented demo accounts and posts (once), then serve.")
    _add_serve_options(demo)

    serve = commands.add_parser(
        "serve", help="serve the instance with its task workers",
        description="Migrate, then serve through gunicorn with background task workers "
                    "until interrupted.")
    _add_serve_options(serve)

    worker = commands.add_parser(
        "worker", help="run background task workers only",
        description="Process background tasks until interrupted.")
    worker.add_argument("--queues", default="*",
                        help="comma-separated queues to process, or * for all "
                             "(default: %(default)s)")
    worker.add_argument("--interval", type=float, default=1.0,
                        help="seconds to wait when there is no task (default: %(default)s)")
    worker.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)

    streaming = commands.add_parser(
        "streaming", help="serve the streaming API only",
        description="Serve Mastodon's streaming API (WebSocket and Server-Sent Events) "
                    "until interrupted; `serve` starts one itself.")
    streaming.add_argument("--host", default=DEFAULT_HOST,
                           help="address to listen on (default: %(default)s)")
    streaming.add_argument("--port", type=_port, default=4000,
                           help="port to listen on (default: %(default)s)")

    commands.add_parser(
        "migrate", help="create or update the database",
        description="Apply database migrations and create the cache table.")

    createuser = commands.add_parser(
        "createuser", help="create a local account",
        description="Create a local account with a login.")
    createuser.add_argument("name", help="username")
    createuser.add_argument("--email", required=True)
    createuser.add_argument("--password",
                            help="password (asked for on a terminal when omitted)")
    createuser.add_argument("--admin", action="store_true",
                            help="give the account administrator rights")

    token = commands.add_parser(
        "token", help="print a new API access token for an account",
        description="Issue an access token for a local account, owned by the built-in "
                    "'Tribune CLI' application. Only the token is printed.")
    token.add_argument("name", help="username")
    token.add_argument("--scopes", default="read write follow push",
                       help="space-separated OAuth scopes (default: %(default)r)")

    moderation = commands.add_parser(
        "moderation", help="moderation queue figures and log checks",
        description="Inspect the moderation queue and check the moderation log.")
    moderation_commands = moderation.add_subparsers(dest="moderation_command",
                                                    metavar="SUBCOMMAND", required=True)
    stats = moderation_commands.add_parser(
        "stats", help="open cases per tier with the oldest deadline, reports, log size",
        description="Print the moderation queue's figures.")
    stats.add_argument("--json", action="store_true", help="print JSON instead of text")
    moderation_commands.add_parser(
        "verify-log", help="check the moderation log's hash chain (exit 0 only if intact)",
        description="Recompute the hash chain of the moderation log. Exits 0 when every "
                    "entry is intact, 1 and names the first bad entry otherwise.")
    moderation_commands.add_parser(
        "catch-up", help="end restrictions, close jury panels and assign appeals that are due",
        description="Do now what the task workers do at each deadline, in case a worker "
                    "was stopped: lift restrictions whose end has passed, close jury "
                    "panels past their deadline, and give waiting appeals to an "
                    "uninvolved reviewer if one exists now. Safe to run at any time.")
    from tribune.cli.transparency import EXPORT_HELP

    report = moderation_commands.add_parser(
        "transparency", help="the transparency report of a period (DSA Art. 15 and 24)",
        description="Print the transparency report of the period [--from, --to) in UTC: "
                    "JSON, or a standalone HTML page.")
    sor = moderation_commands.add_parser(
        "export-sor", help="statements of reasons for the EU Transparency Database",
        description=EXPORT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    for sub in (report, sor):
        sub.add_argument("--from", dest="start", type=_date, required=True, metavar="DATE",
                         help="first day of the period, YYYY-MM-DD")
        sub.add_argument("--to", dest="end", type=_date, required=True, metavar="DATE",
                         help="first day after the period, YYYY-MM-DD (not included: "
                              "--from 2025-01-01 --to 2026-01-01 is the year 2025)")
    report.add_argument("--format", choices=["json", "html"], default="json",
                        help="output format (default: %(default)s)")
    sor.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")

    media = commands.add_parser("media", help="media attachments",
                                description="Maintain uploaded media files.")
    media_commands = media.add_subparsers(dest="media_command", metavar="SUBCOMMAND",
                                          required=True)
    media_commands.add_parser(
        "cleanup", help="delete uploads never attached to a post within a day",
        description="Delete uploads that were not attached to any post within a day, "
                    "with their files. The task workers do this for each upload a day "
                    "after it came; this catches up when they were stopped. Safe to run "
                    "at any time.")

    scheduled = commands.add_parser("scheduled", help="scheduled posts",
                                    description="Maintain scheduled posts.")
    scheduled_commands = scheduled.add_subparsers(dest="scheduled_command",
                                                  metavar="SUBCOMMAND", required=True)
    scheduled_commands.add_parser(
        "publish-due", help="publish the scheduled posts whose time has come",
        description="Publish every scheduled post whose time has come and that has not "
                    "failed. The task workers publish each post at its time; this "
                    "catches up when they were stopped or their queue was lost. A post "
                    "is published once however often this runs.")

    trends = commands.add_parser("trends", help="trending hashtags and posts",
                                 description="Maintain the trends.")
    trends_commands = trends.add_subparsers(dest="trends_command", metavar="SUBCOMMAND",
                                            required=True)
    trends_commands.add_parser(
        "refresh", help="recompute the trend scores now",
        description="Recompute the scores of trending hashtags and posts. The task "
                    "workers do this at most every TRIBUNE_TRENDS_REFRESH_SECONDS while "
                    "people post; this catches up at once. Safe to run at any time.")

    from tribune.cli.backup import add_parsers as add_backup_parsers

    add_backup_parsers(commands)
    from tribune.cli.portability import add_parsers as add_portability_parsers

    add_portability_parsers(commands)
    from tribune.cli.federation import add_parsers as add_federation_parsers

    add_federation_parsers(commands)

    from tribune.cli.domains import add_parsers as add_domains_parsers

    add_domains_parsers(commands)
    return parser


def _setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tribune.settings"
    import django

    django.setup()


def _run(args: argparse.Namespace) -> int:
    if args.command in ("serve", "demo"):
        from tribune.cli.serve import prepare_environment, streaming_port_choose

        if not args.no_streaming:
            args.streaming_port = streaming_port_choose(
                host=args.host, port=args.port, requested=args.streaming_port)
        prepare_environment(host=args.host, port=args.port,
                            streaming_port=None if args.no_streaming else args.streaming_port)
    verify = args.command == "backup" and args.verify
    fresh = _made_by_settings(backup=args.command == "backup") \
        if args.command in ("backup", "restore") else []
    _setup_django()
    from tribune.cli import commands

    try:
        # Every command uses the database: an unreachable one stops each the same way.
        commands.database_check()
        # Nothing but the restore itself may use a half-restored database (checking
        # an archive does not touch the database).
        if args.command != "restore" and not verify:
            commands.restore_check()
        status = commands.HANDLERS[args.command](args)
    except Exception:
        _remove(fresh)
        raise
    if verify:
        _remove(fresh)
    return status


def _made_by_settings(*, backup: bool = False) -> list[Path]:
    """What loading the settings creates in the data directory and is not there
    yet (the directory, its secret key, its static folder; for a ``backup``, the
    SQLite file that opening the database makes), deepest first: a ``backup
    --verify``, or a backup or restore that fails, leaves the data directory as
    it found it. (A restore's own database is its journal: a restore removes it
    itself when it refuses the archive, and keeps it to resume otherwise.)"""
    data_dir = Path(os.environ.get("TRIBUNE_DATA_DIR", "var")).resolve()
    database = []
    if backup and not os.environ.get("TRIBUNE_DATABASE_URL", "").strip():
        database = [data_dir / f"tribune.sqlite3{suffix}" for suffix in ("-wal", "-shm", "")]
    return [p for p in (*database, data_dir / "secret_key", data_dir / "static", data_dir,
                        *data_dir.parents) if not p.exists()]


def _remove(paths: list[Path]) -> None:
    """Remove ``paths`` (``_made_by_settings``): files, and folders left empty."""
    for path in paths:
        with contextlib.suppress(OSError):  # a folder the command filled stays
            path.rmdir() if path.is_dir() else path.unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tribune`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from tribune.core.conf import env_bool

        try:
            debug = env_bool("TRIBUNE_DEBUG", False)
        except Exception:  # the bad value itself is what is being reported
            debug = False
        from tribune.cli.errors import describe, explained

        if debug and not explained(exc):
            raise

        print(f"tribune {args.command}: error: {describe(exc)}", file=sys.stderr)
        return 1


__all__ = ["CliError", "build_parser", "main"]
