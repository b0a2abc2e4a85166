"""Instances for the backup and restore tests: real data directories (SQLite) and
real PostgreSQL databases, driven through the ``tribune`` command in subprocesses."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.instances import _connect, _with_database
from tests.mastodon_schema import require_services

TRIBUNE = str(Path(sys.executable).with_name("tribune"))
SCRIPT = Path(__file__).with_name("backup_instance.py")
PASSPHRASE = "correct horse battery staple, with ünïcode"


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Target:
    """One instance: a data directory, and a PostgreSQL database or SQLite."""

    data_dir: Path
    database_url: str | None = None

    @property
    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items()
                if k not in ("TRIBUNE_DATABASE_URL", "TRIBUNE_REDIS_URL", "TRIBUNE_SECRET_KEY")}
        env = {**base, "TRIBUNE_DATA_DIR": str(self.data_dir), "TRIBUNE_RATE_LIMITS": "off",
               "TRIBUNE_LINK_PREVIEWS": "off", "DJANGO_SETTINGS_MODULE": "tribune.settings"}
        if self.database_url:
            env["TRIBUNE_DATABASE_URL"] = self.database_url
        return env

    def tribune(self, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
        return subprocess.run([TRIBUNE, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def popen(self, *args: str) -> subprocess.Popen:
        # Ctrl-C reaches the command even when the tests themselves run in a
        # shell's background job, which starts with SIGINT ignored.
        return subprocess.Popen([TRIBUNE, *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=_interruptible)

    def script(self, action: str) -> str:
        done = subprocess.run([sys.executable, str(SCRIPT), action], env=self.env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def dump(self) -> dict:
        return json.loads(self.script("dump"))

    @property
    def sqlite(self) -> Path:
        return self.data_dir / "tribune.sqlite3"

    def untouched(self) -> bool:
        """Nothing was written: no database tables, no media files, no SQLite file
        (nor a copy of one beside it)."""
        media = self.data_dir / "media"
        if media.exists() and any(p.is_file() for p in media.rglob("*")):
            return False
        if self.database_url:
            with _connect(self.database_url) as db:
                return not db.execute("SELECT 1 FROM pg_tables WHERE schemaname = 'public'").fetchall()
        folder = self.sqlite.parent
        return not (folder.exists() and any(p.name.startswith(self.sqlite.name)
                                            for p in folder.iterdir()))


@pytest.fixture(scope="session")
def passphrase_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "passphrase"
    path.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def seeded(tmp_path_factory) -> Target:
    """A SQLite instance with invented content made through the services (accounts,
    an avatar, follows, a request, posts with media, an edit, a reply, a reblog,
    favourites, a report, a token...). Copy it before changing it."""
    made = Target(tmp_path_factory.mktemp("seeded") / "data")
    made.script("seed")
    return made


@pytest.fixture(scope="module")
def plain_archive(seeded, passphrase_file, tmp_path_factory) -> Path:
    """An uncompressed archive of ``seeded``, made once per test module."""
    path = tmp_path_factory.mktemp("archive") / "instance.tar"
    done = seeded.tribune("backup", str(path), "--passphrase-file", str(passphrase_file),
                          "--compress", "none", "--quiet")
    assert done.returncode == 0, done.stderr
    return path


def copy_instance(source: Target, data_dir: Path) -> Target:
    shutil.copytree(source.data_dir, data_dir)
    return Target(data_dir)


def _skip_or_fail(reason: str):
    if require_services():
        pytest.fail(f"{reason} (TRIBUNE_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server():
    """The PostgreSQL server named by TRIBUNE_DATABASE_URL, else 127.0.0.1:5432
    (user postgres); the tests that need it skip without one, or fail under
    TRIBUNE_REQUIRE_SERVICES=1. Yields a function making empty databases, all
    dropped at the end."""
    import psycopg

    server = (os.environ.get("TRIBUNE_DATABASE_URL")
              or "postgres://postgres@127.0.0.1:5432/postgres")
    try:
        _connect(_with_database(server, "postgres")).close()
    except psycopg.OperationalError as exc:
        _skip_or_fail(f"no PostgreSQL server at {server} ({str(exc).strip()})")
    made: list[str] = []

    def database() -> str:
        name = f"tribune_bk_{secrets.token_hex(6)}"
        with _connect(_with_database(server, "postgres")) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return _with_database(server, name)

    yield database
    with _connect(_with_database(server, "postgres")) as admin:
        for name in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
