"""``tribune backup`` and ``tribune restore``: the instance in one archive and back
(tribune.portability; docs/adr/0014-instance-backup.md)."""

from __future__ import annotations

import argparse
import getpass
import shlex
import sys
import threading
import time
from pathlib import Path

from django.utils.translation import gettext as _

from tribune.cli.errors import CliError


def add_parsers(commands) -> None:
    """The two subcommands, on ``tribune``'s subparsers ``commands``."""
    backup = commands.add_parser(
        "backup", help="write the whole instance to one archive, while it serves",
        description="Write every table (one consistent snapshot), the media files and "
                    "the instance's secrets (encrypted with a passphrase) to a new "
                    "archive at PATH. With --verify, check an existing archive instead.")
    backup.add_argument("path", metavar="PATH", help="the archive to write (or to verify)")
    backup.add_argument("--verify", action="store_true",
                        help="check the archive at PATH (every checksum; the secrets "
                             "too with --passphrase-file) without restoring it")
    backup.add_argument("--compress", choices=["gzip", "none"], default="gzip",
                        help="compression of the archive (default: %(default)s)")
    backup.add_argument("--chunk-bytes", type=int, default=None, help=argparse.SUPPRESS)
    restore = commands.add_parser(
        "restore", help="restore an archive onto a new, empty instance",
        description="Restore the archive at PATH into this instance's database (SQLite "
                    "or PostgreSQL) and media storage, after verifying it whole. The "
                    "instance must be empty; an interrupted restore resumes when run "
                    "again. Stop the instance's servers while it runs.")
    restore.add_argument("path", metavar="PATH", help="the archive to restore")
    for sub in (backup, restore):
        sub.add_argument("--passphrase-file", metavar="FILE",
                         help="read the passphrase of the secrets from FILE's first line "
                              "(asked for on a terminal when omitted)")
        sub.add_argument("--quiet", action="store_true", help="show no progress")


def _passphrase(args: argparse.Namespace, *, confirm: bool, required: bool = True) -> str | None:
    """The passphrase from ``--passphrase-file``, else asked on a terminal (twice
    with ``confirm``, for a new backup, which also needs it long enough:
    ``backup_secrets.passphrase_check``); None when not ``required`` and no file
    is given."""
    from tribune.portability.backup_secrets import passphrase_check

    if args.passphrase_file:
        try:
            with open(args.passphrase_file, encoding="utf-8") as handle:
                passphrase = handle.readline().rstrip("\r\n")
        except OSError as exc:
            raise CliError(_("cannot read the passphrase file %(file)s: %(reason)s")
                           % {"file": args.passphrase_file, "reason": exc.strerror}) from None
        if not passphrase:
            raise CliError(_("the passphrase file %(file)s is empty")
                           % {"file": args.passphrase_file})
        if confirm:
            passphrase_check(passphrase)
        return passphrase
    if not required:
        return None
    if not sys.stdin.isatty():
        raise CliError(_("--passphrase-file is required when not run from a terminal"))
    passphrase = getpass.getpass(_("Passphrase for the instance's secrets: "))
    if not passphrase:
        raise CliError(_("the passphrase is empty"))
    if confirm:
        passphrase_check(passphrase)  # before it is typed a second time
    if confirm and passphrase != getpass.getpass(_("Passphrase (again): ")):
        raise CliError(_("the passphrases do not match"))
    return passphrase


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:,.1f} TB"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Meter:
    """Progress on stderr, nothing with ``quiet``. On a terminal: one line, redrawn
    at most 5 times a second, and every second while a step brings no news (the
    time goes on). Elsewhere (a pipe, a log): a plain line when a phase begins,
    at most every ``PLAIN_SECONDS`` while it runs, every ``IDLE_SECONDS`` while it
    brings no news, and its final figures when it ends. ``close()`` stops it."""

    PLAIN_SECONDS = 5.0
    IDLE_SECONDS = 30.0

    def __init__(self, *, quiet: bool, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self.current = None
        self.written: tuple | None = None  # the figures last written
        self.last = 0.0
        self.drawn = False
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.ticker: threading.Thread | None = None

    def __call__(self, progress) -> None:
        if self.quiet:
            return
        with self.lock:
            now = time.monotonic()
            if self.current is not None and progress.phase != self.current.phase:
                self._end_phase()
            if progress is not self.current:
                self.current, self.written = progress, None
                self._write(now)
            elif now - self.last >= (0.2 if self.tty else self.PLAIN_SECONDS):
                self._write(now)
        if self.ticker is None:
            self.ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self.ticker.start()

    def _tick(self) -> None:
        while not self.stopped.wait(1.0):
            with self.lock:
                if self.current is None or self.stopped.is_set():
                    continue
                now = time.monotonic()
                if self.tty or now - self.last >= self.IDLE_SECONDS:
                    self._write(now)

    @staticmethod
    def _figures(progress) -> tuple:
        return progress.rows, progress.bytes, progress.steps, progress.step

    def _write(self, now: float) -> None:
        progress = self.current
        self.last, self.written = now, self._figures(progress)
        line = self.describe(progress, now - progress.started)
        if self.tty:
            self.stream.write(f"\r{line}\x1b[K")
            self.drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _end_phase(self) -> None:
        """The current phase's final figures, if they were not the last written."""
        if self.current is not None and self.written != self._figures(self.current):
            self._write(time.monotonic())
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
        self.current = None

    @staticmethod
    def describe(progress, elapsed: float) -> str:
        elapsed = max(elapsed, 1e-6)
        parts = [f"{progress.phase}:"]
        if progress.total_steps is not None or progress.step:
            if progress.total_steps is not None:
                parts.append(f"{progress.steps}/{progress.total_steps}")
            if progress.step:
                parts.append(progress.step)
            parts.append(_("%(time)s elapsed") % {"time": _duration(elapsed)})
            fraction = (progress.steps / progress.total_steps
                        if progress.total_steps else 0)
        else:
            if progress.total_rows:
                parts.append(_("%(done)s/%(total)s rows")
                             % {"done": f"{progress.rows:,}",
                                "total": f"{progress.total_rows:,}"})
            elif progress.rows:
                parts.append(_("%(done)s rows") % {"done": f"{progress.rows:,}"})
            if progress.total_bytes:
                parts.append(f"{_size(progress.bytes)}/{_size(progress.total_bytes)}")
            else:
                parts.append(_size(progress.bytes))
            if progress.rows:
                parts.append(_("%(rate)s rows/s")
                             % {"rate": f"{progress.rows / elapsed:,.0f}"})
            else:
                parts.append(f"{_size(progress.bytes / elapsed)}/s")
            if progress.total_rows and progress.rows:
                fraction = progress.rows / progress.total_rows
            elif progress.total_bytes and progress.bytes:
                fraction = progress.bytes / progress.total_bytes
            else:
                fraction = 0
        if 0 < fraction < 1:
            parts.append(_("%(left)s left") % {"left": _duration(elapsed / fraction - elapsed)})
        return "  ".join(parts)

    def close(self) -> None:
        """Write the last phase's final figures and stop."""
        self.stopped.set()
        if self.ticker is not None:
            self.ticker.join()
        with self.lock:
            self._end_phase()


def cmd_backup(args: argparse.Namespace) -> int:
    """``tribune backup PATH`` (or ``--verify PATH``). Ctrl-C removes the unfinished
    archive, says so in one line and exits with status 130."""
    meter = Meter(quiet=args.quiet)
    try:
        if args.verify:
            return _verify(args, meter)
        return _backup(args, meter)
    except KeyboardInterrupt:
        meter.close()
        if args.verify:
            print("tribune backup: " + _("interrupted"), file=sys.stderr)
        else:
            print("tribune backup: " + _("interrupted; the unfinished archive was removed "
                                         "(nothing was written to %(path)s)")
                  % {"path": args.path}, file=sys.stderr)
        return 130
    finally:
        meter.close()


def _verify(args: argparse.Namespace, meter: Meter) -> int:
    from tribune.portability.backup_rows import migrations_here, newer_tribune
    from tribune.portability.backup_verify import archive_verify

    passphrase = _passphrase(args, confirm=False, required=False)
    verified = archive_verify(path=Path(args.path), passphrase=passphrase, on_progress=meter)
    meter.close()
    media = verified.manifest.get("media", {})
    print(_("%(path)s is intact: %(tables)s tables, %(rows)s rows, %(files)s media "
            "files (%(bytes)s); from Tribune %(version)s, %(created)s.")
          % {"path": args.path, "tables": len(verified.manifest.get("tables", {})),
             "rows": f"{verified.total_rows:,}", "files": verified.media_files,
             "bytes": _size(verified.media_bytes),
             "version": verified.manifest.get("tribune_version"),
             "created": verified.manifest.get("created_at")})
    print(_("The secrets open with this passphrase.") if passphrase else
          _("The secrets were not opened (no --passphrase-file)."))
    if media.get("missing"):
        print(_("%(n)s media files were already deleted when the backup copied "
                "them.") % {"n": len(media["missing"])})
    unknown = migrations_here(verified.manifest.get("migrations", {}),
                              verified.manifest.get("tables", {}))[1]
    if unknown:
        # Intact, but `tribune restore` here would refuse it: say so, and fail.
        print(newer_tribune(unknown), file=sys.stderr)
        return 1
    return 0


def _backup(args: argparse.Namespace, meter: Meter) -> int:
    from tribune.portability.backup import CHUNK_BYTES, instance_backup

    _check_migrated()
    passphrase = _passphrase(args, confirm=True)
    result = instance_backup(path=Path(args.path), passphrase=passphrase,
                             compress=args.compress,
                             chunk_bytes=args.chunk_bytes or CHUNK_BYTES,
                             on_progress=meter)
    meter.close()
    print(_("Backed up %(tables)s tables (%(rows)s rows) and %(files)s media files "
            "(%(media)s) to %(path)s (%(size)s).")
          % {"tables": result.tables, "rows": f"{result.rows:,}",
             "files": result.media_files, "media": _size(result.media_bytes),
             "path": result.path, "size": _size(result.archive_bytes)})
    if result.media_missing:
        print(_("%(n)s media files were deleted while the backup ran and are not in it "
                "(their rows were deleted too, after the snapshot).")
              % {"n": len(result.media_missing)}, file=sys.stderr)
    return 0


def _check_migrated() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CliError(_("the database has migrations to apply; run `tribune migrate` "
                         "(or start the server) first"))


def cmd_restore(args: argparse.Namespace) -> int:
    """``tribune restore PATH``. Ctrl-C stops it where it is, says in one line how
    to resume and exits with status 130."""
    from tribune.portability.restore import instance_restore

    meter = Meter(quiet=args.quiet)
    try:
        passphrase = _passphrase(args, confirm=False)
        result = instance_restore(path=Path(args.path), passphrase=passphrase,
                                  on_progress=meter)
    except KeyboardInterrupt:
        meter.close()
        command = shlex.join(["tribune", "restore", args.path, *(
            ["--passphrase-file", args.passphrase_file] if args.passphrase_file else [])])
        print("tribune restore: " + _("interrupted; run `%(command)s` again "
                                      "to finish it (it resumes where it stopped)")
              % {"command": command}, file=sys.stderr)
        return 130
    finally:
        meter.close()
    if result.resumed:
        print(_("Resumed the interrupted restore."))
    print(_("Restored %(rows)s rows and %(files)s media files. Counters corrected: "
            "%(counters)s; home feeds rebuilt: %(feeds)s.")
          % {"rows": f"{result.rows:,}", "files": result.media_files,
             "counters": result.derived.counters_fixed, "feeds": result.derived.feeds_rebuilt})
    if not args.quiet:
        steps = {"verify": _("verify"), "migrate": _("migrate"), "load": _("load"),
                 "finish": _("finish"), "rebuild": _("rebuild")}
        print(_("Time: %(steps)s.") % {"steps": ", ".join(
            f"{steps[k]} {v:.1f} s" for k, v in result.seconds.items())})
    return 0
