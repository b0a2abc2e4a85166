"""The progress of a backup or restore as an operator reads it: redrawn on a
terminal; plain lines in a log, from each phase's start to its final figures."""

from __future__ import annotations

import io
import re

import pytest

from tribune.cli.backup import Meter
from tribune.portability.backup_archive import Progress

# The instances are its own (SQLite, or PostgreSQL databases it makes), whatever
# the run's database: CI runs it once.
pytestmark = pytest.mark.own_instances


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_each_phase_from_its_start_to_its_final_figures():
    log = io.StringIO()
    meter = Meter(quiet=False, stream=log)
    backup = Progress(phase="backup", total_rows=1000)
    meter(backup)
    for rows in range(100, 1001, 100):  # within the first seconds: not each one
        backup.rows = rows
        meter(backup)
    migrate = Progress(phase="migrate", total_steps=4)
    meter(migrate)
    migrate.steps, migrate.step = 1, "accounts.0001_initial"
    meter(migrate)
    meter.close()
    lines = log.getvalue().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["backup", "backup", "migrate",
                                                         "migrate"]
    assert lines[0].startswith("backup:  0/1,000 rows")
    assert lines[1].startswith("backup:  1,000/1,000 rows")
    assert lines[2].startswith("migrate:  0/4  ")
    assert re.fullmatch(r"migrate:  1/4  accounts.0001_initial  0:00 elapsed  0:00 left",
                        lines[3]), lines[3]


def test_a_log_gets_a_line_every_few_seconds_while_a_phase_runs():
    log = io.StringIO()
    meter = Meter(quiet=False, stream=log)
    meter.PLAIN_SECONDS = 0  # as if each chunk took that long
    restore = Progress(phase="restore", total_rows=300)
    meter(restore)
    for rows in (100, 200, 300):
        restore.rows = rows
        meter(restore)
    meter.close()
    assert [line.split("  ")[1] for line in log.getvalue().splitlines()] == [
        "0/300 rows", "100/300 rows", "200/300 rows", "300/300 rows"]


def test_a_terminal_gets_one_line_redrawn_per_phase():
    terminal = Terminal()
    meter = Meter(quiet=False, stream=terminal)
    rebuild = Progress(phase="rebuild", step="counters, home feeds, search index")
    meter(rebuild)
    meter.close()
    assert terminal.getvalue().startswith(
        "\rrebuild:  counters, home feeds, search index  0:00 elapsed\x1b[K")
    assert terminal.getvalue().endswith("\n")


def test_quiet_shows_nothing():
    log = io.StringIO()
    meter = Meter(quiet=True, stream=log)
    meter(Progress(phase="verify", total_bytes=10))
    meter.close()
    assert log.getvalue() == ""


def test_a_backup_into_a_log_ends_with_its_final_figures(seeded, passphrase_file, tmp_path):
    """It printed only its first chunk's figures ("4/345 rows") before."""
    done = seeded.tribune("backup", str(tmp_path / "instance.tar"), "--passphrase-file",
                          str(passphrase_file))
    assert done.returncode == 0, done.stderr
    rows = re.search(r"\((\d+) rows\)", done.stdout).group(1)
    lines = done.stderr.splitlines()
    assert len(lines) >= 2 and all(line.startswith("backup:  ") for line in lines), lines
    assert lines[-1].startswith(f"backup:  {rows}/{rows} rows  "), lines
