"""The commands, once Django is set up. Each returns the process exit status."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import shlex
import sys
import textwrap
from collections.abc import Callable, Iterator

from tribune.cli.errors import CliError

# pg_advisory_lock key held while migrating: any fixed bigint ("tribune" in ASCII).
MIGRATION_LOCK_KEY = 0x74726962756E65


@contextlib.contextmanager
def _migration_lock() -> Iterator[None]:
    """On PostgreSQL, hold a session advisory lock for the block, so processes that
    migrate at once (several ``tribune serve`` starting together) take turns and
    the later ones find nothing to do. The lock is on a connection of its own,
    outside Django's pool, and ends with it. SQLite needs none: its IMMEDIATE
    write transactions already serialise migrations."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    import psycopg

    with psycopg.connect(**_postgres_params(connection.settings_dict), autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        try:
            yield
        finally:
            lock.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])


def _postgres_params(db: dict) -> dict:
    """psycopg's connection keywords for Django's database settings ``db``, outside
    Django's pool."""
    params = {"dbname": db["NAME"], "user": db.get("USER"), "password": db.get("PASSWORD"),
              "host": db.get("HOST"), "port": str(db.get("PORT") or "")}
    # The URL's libpq parameters (sslmode, ...) apply here too.
    libpq = {k: v for k, v in db.get("OPTIONS", {}).items() if k != "pool"}
    return {**libpq, **{k: v for k, v in params.items() if v}}


# Seconds to wait for PostgreSQL to answer at start (libpq's connect_timeout; 2 at least).
DATABASE_CHECK_TIMEOUT = 3


def database_check() -> None:
    """On PostgreSQL, raise CliError unless one connection opens within
    ``DATABASE_CHECK_TIMEOUT`` seconds, so a command stops at once with the cause
    (``cannot connect to PostgreSQL at 127.0.0.1:1: connection refused``) instead of
    waiting out the pool's timeout. The message names the host and port, never the
    password. SQLite needs no check: opening its file fails with a clear OSError."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    import psycopg

    db = connection.settings_dict
    where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
    try:
        psycopg.connect(**_postgres_params(db), connect_timeout=DATABASE_CHECK_TIMEOUT).close()
    except psycopg.Error as exc:
        raise CliError(f"cannot connect to PostgreSQL at {where}: {_libpq_reason(exc)}") from None


def restore_check() -> None:
    """Raise CliError while this database holds a restore that has not finished
    (``portability.restore_journal``): its tables are half-filled, so serving,
    migrating or writing to it (or backing it up) would spread or break that."""
    from tribune.portability.restore_journal import restore_unfinished

    archive = restore_unfinished()
    if archive is not None:
        raise CliError(f"a restore of {archive} is unfinished: run "
                       f"`tribune restore {shlex.quote(archive)}` again to finish it")


def _libpq_reason(exc: Exception) -> str:
    """The cause in the first line of libpq's message, without its wrapping:
    ``connection failed: connection to server at "h", port 1 failed: Connection
    refused`` is ``connection refused``; ``... failed: FATAL:  database "x" does not
    exist`` is ``database "x" does not exist``."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    message = message.rsplit(" failed: ", 1)[-1].removeprefix("connection failed: ")
    message = " ".join(message.removeprefix("FATAL:").split())
    return message[:1].lower() + message[1:]


def migrate(*, verbosity: int = 0, always: bool = False) -> None:
    """Bring the database up to date, including the table of the database cache.

    Unless ``always``, Django's migrate (with its system checks) runs only when a
    migration is pending, so commands that migrate first stay quick. Concurrent
    calls wait for each other (``_migration_lock``).
    """
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    with _migration_lock():
        executor = MigrationExecutor(connection)
        if always or executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("createcachetable", verbosity=verbosity)


def redis_check() -> None:
    """When ``TRIBUNE_REDIS_URL`` is set, raise CliError unless Redis answers PING
    (within 5 seconds), so a server does not start only to answer 500. The URL in
    the message has no password."""
    from django.conf import settings

    url = settings.TRIBUNE_REDIS_URL
    if not url:
        return
    import redis

    try:
        with redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5) as client:
            client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise CliError(f"cannot reach Redis at {_without_password(url)}: {reason}") from None


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=user + host))


def cmd_migrate(args: argparse.Namespace) -> int:
    redis_check()
    migrate(verbosity=1, always=True)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from tribune.cli.serve import Server

    server = Server(host=args.host, port=args.port, workers=args.workers,
                    task_workers=0 if args.no_tasks else args.task_workers,
                    streaming_port=None if args.no_streaming else args.streaming_port)
    server.reserve_port()
    redis_check()
    migrate()
    _feeds_checked()
    return server.run()


def _feeds_checked() -> None:
    """Start rebuilding the home feeds when the configured store does not hold the
    current ones (a switch between the database and Redis, a Redis that lost its
    data): ``timelines.services.feeds_check``."""
    from tribune.timelines.services import feeds_check

    if feeds_check():
        print("The home feeds are not in the configured feed store; rebuilding them "
              "(home timelines say they are catching up meanwhile).", flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from tribune.cli.demo import demo_content_create
    from tribune.cli.serve import Server

    server = Server(host=args.host, port=args.port, workers=args.workers,
                    task_workers=0 if args.no_tasks else args.task_workers,
                    streaming_port=None if args.no_streaming else args.streaming_port)
    server.reserve_port()
    redis_check()
    migrate()
    _feeds_checked()
    result = demo_content_create()
    if result.created:
        print(f"Added demo content: {len(result.usernames)} accounts, "
              f"{result.statuses} posts.")
    else:
        print("Demo content already present; reusing it.")
    print(f"Demo logins (password for all: {result.password}):")
    names = ", ".join(
        f"{name} (admin)" if name in result.admins else name for name in result.usernames)
    print(textwrap.fill(names, width=88, initial_indent="  ", subsequent_indent="  "))
    sys.stdout.flush()
    return server.run()


def cmd_streaming(args: argparse.Namespace) -> int:
    """Serve the streaming API (tribune.api.streaming) through uvicorn, WebSockets
    by wsproto, until interrupted."""
    import uvicorn

    redis_check()
    uvicorn.run("tribune.api.streaming.asgi:application", host=args.host, port=args.port,
                ws="wsproto", lifespan="off", log_level="warning", access_log=False,
                timeout_graceful_shutdown=3)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from tribune.cli.worker import run_worker

    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    if not queues:
        raise CliError("--queues needs at least one queue name, or *")
    redis_check()
    return run_worker(queues=queues, interval=args.interval, quiet=args.quiet)


def cmd_createuser(args: argparse.Namespace) -> int:
    from tribune.accounts.services import account_create

    password = args.password
    if password is None:
        password = _ask_password()
    migrate()
    account = account_create(username=args.name, email=args.email, password=password,
                             admin=args.admin)
    role = "administrator" if args.admin else "account"
    print(f"Created {role} {account.username}.")
    return 0


def _ask_password() -> str:
    if not sys.stdin.isatty():
        raise CliError("--password is required when not run from a terminal")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Password (again): "):
        raise CliError("the passwords do not match")
    return password


def cmd_token(args: argparse.Namespace) -> int:
    from tribune.accounts.selectors import account_lookup
    from tribune.core.errors import NotFound
    from tribune.oauth.scopes import parse
    from tribune.oauth.services import cli_application_get_or_create, token_create

    migrate()
    try:
        account = account_lookup(acct=args.name)
    except NotFound:
        raise CliError(f"no local account named {args.name!r}") from None
    if not account.is_local or account.user is None:
        raise CliError(f"no local account named {args.name!r}")
    if account.suspended_at is not None:
        raise CliError(f"account {account.username!r} is suspended")
    scopes = parse(args.scopes)
    if any(scope.startswith("admin") for scope in scopes) and not account.user.is_staff:
        raise CliError(f"admin scopes are only for staff; {account.username!r} is not staff")
    token = token_create(user=account.user, application=cli_application_get_or_create(),
                         scopes=scopes)
    print(token)
    return 0


def cmd_moderation(args: argparse.Namespace) -> int:
    if args.moderation_command in ("transparency", "export-sor"):
        from tribune.cli.transparency import HANDLERS as REPORTS

        return REPORTS[args.moderation_command](args)
    migrate()
    if args.moderation_command == "catch-up":
        from tribune.moderation.appeals import appeals_assign_pending
        from tribune.moderation.decisions import decisions_lift_due
        from tribune.moderation.juries import panels_close_due

        lifted, closed = decisions_lift_due(), panels_close_due()
        assigned = appeals_assign_pending()
        print(f"restrictions lifted: {lifted}  jury panels closed: {closed}  "
              f"appeals assigned: {assigned}")
        return 0
    if args.moderation_command == "verify-log":
        from tribune.moderation.log import verify_log

        check = verify_log()
        if check.intact:
            print(f"moderation log intact: {check.entries} entries")
            return 0
        print(f"moderation log broken at entry {check.first_bad_seq}: {check.problem}",
              file=sys.stderr)
        return 1
    from tribune.moderation.selectors import queue_stats

    figures = queue_stats()
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"reports: {figures['reports']}  open cases: {figures['open_cases']}  "
          f"log entries: {figures['log_entries']}")
    for tier in figures["tiers"]:
        print(f"  P{tier['tier']}: {tier['open']} open, {tier['overdue']} overdue, "
              f"oldest deadline {tier['oldest_deadline'] or '-'}")
    return 0


def cmd_media(args: argparse.Namespace) -> int:
    """``tribune media cleanup``: delete uploads left unattached for a day."""
    from tribune.media.services import media_cleanup_orphans

    print(f"unattached uploads deleted: {media_cleanup_orphans()}")
    return 0


def cmd_scheduled(args: argparse.Namespace) -> int:
    """``tribune scheduled publish-due``: publish the scheduled posts that are due."""
    from tribune.scheduling.services import scheduled_statuses_publish_due

    print(f"scheduled posts published: {scheduled_statuses_publish_due()}")
    return 0


def cmd_trends(args: argparse.Namespace) -> int:
    """``tribune trends refresh``: recompute the trend scores now."""
    from tribune.trends.scoring import trends_refresh

    tags, statuses = trends_refresh()
    print(f"trending hashtags: {tags}, trending posts: {statuses} (before review)")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from tribune.cli.backup import cmd_backup

    return cmd_backup(args)


def cmd_restore(args: argparse.Namespace) -> int:
    from tribune.cli.backup import cmd_restore

    return cmd_restore(args)


def cmd_export(args: argparse.Namespace) -> int:
    from tribune.cli.portability import cmd_export

    return cmd_export(args)


def cmd_import(args: argparse.Namespace) -> int:
    from tribune.cli.portability import cmd_import

    return cmd_import(args)


def cmd_federation(args: argparse.Namespace) -> int:
    from tribune.cli.federation import cmd_federation as run

    return run(args)


def cmd_account(args: argparse.Namespace) -> int:
    from tribune.cli.federation import cmd_account as run

    return run(args)


def cmd_domains(args: argparse.Namespace) -> int:
    from tribune.cli.domains import cmd_domains

    return cmd_domains(args)


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": cmd_demo,
    "serve": cmd_serve,
    "worker": cmd_worker,
    "streaming": cmd_streaming,
    "migrate": cmd_migrate,
    "createuser": cmd_createuser,
    "token": cmd_token,
    "moderation": cmd_moderation,
    "media": cmd_media,
    "scheduled": cmd_scheduled,
    "trends": cmd_trends,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "export": cmd_export,
    "import": cmd_import,
    "federation": cmd_federation,
    "account": cmd_account,
    "domains": cmd_domains,
}
