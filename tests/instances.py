"""Separate instances for the tests that run ``tribune`` in a subprocess.

Such a test gives the command or server a data directory of its own. When this test
run is on PostgreSQL and Redis (``TRIBUNE_DATABASE_URL`` and ``TRIBUNE_REDIS_URL`` in
the environment), the instance also gets:

- its own PostgreSQL database on the same server, ``tribune_instance_<random>``,
  created on first use and dropped when the test session ends;
- its own Redis database on a ``redis-server`` that this session starts on a Unix
  socket (one server, one database number per instance). The in-process tests empty
  their Redis database before each test (tests/conftest.py), and two servers sharing
  RQ's queues would run each other's jobs against the wrong database, so no instance
  uses the Redis that ``TRIBUNE_REDIS_URL`` names.

Without those variables an instance is the embedded default: SQLite and files in its
data directory, as before. ``instance(data_dir)`` returns the same instance for the
same directory; ``close_all()`` (run at the end of the session) stops the Redis
server and drops the databases.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.mastodon_schema import require_services

REDIS_DATABASES = 1024  # instances per session, at most


def _database_url() -> str:
    return os.environ.get("TRIBUNE_DATABASE_URL", "").strip()


def _redis_url() -> str:
    return os.environ.get("TRIBUNE_REDIS_URL", "").strip()


def _with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead (query string kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _connect(url: str):
    """A psycopg connection (autocommit) for a ``postgres://`` URL; Django's own
    ``pool_max`` parameter is not libpq's, so the query string is dropped."""
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(("postgresql", parts.netloc, parts.path, "", "")),
                           autocommit=True)


class _PrivateRedis:
    """One ``redis-server`` for the session's instances, on a Unix socket in a
    temporary directory, keeping nothing on disk."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            reason = ("redis-server is not installed (Debian package redis-server); the "
                      "tests that run a separate instance need one of their own")
            if require_services():
                pytest.fail(f"{reason} (TRIBUNE_REQUIRE_SERVICES=1)", pytrace=False)
            pytest.skip(reason)
        self.folder = Path(tempfile.mkdtemp(prefix="tribune-redis-"))
        self.socket = self.folder / "redis.sock"
        self.process = subprocess.Popen(
            [exe, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--databases", str(REDIS_DATABASES),
             "--dir", str(self.folder), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.next_database = 0
        import redis

        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis(unix_socket_path=str(self.socket)).ping()
                return
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def new_url(self) -> str:
        if self.next_database >= REDIS_DATABASES:
            raise RuntimeError(f"more than {REDIS_DATABASES} instances in one session")
        url = f"unix://{self.socket}?db={self.next_database}"
        self.next_database += 1
        return url

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_redis: _PrivateRedis | None = None


@dataclass
class Instance:
    """One instance: ``env`` holds the ``TRIBUNE_*`` variables that make it
    (``TRIBUNE_DATA_DIR``, and on PostgreSQL/Redis its database URLs)."""

    data_dir: Path
    env: dict[str, str]
    database: str | None = None  # the PostgreSQL database's name, else SQLite

    @property
    def database_url(self) -> str | None:
        return self.env.get("TRIBUNE_DATABASE_URL")

    def query(self, sql: str, *params: object) -> list[tuple]:
        """Run one SQL statement with ``?`` placeholders on the instance's database
        (read with the database's own client, as an operator would); returns the rows,
        ``[]`` for a statement that returns none. Booleans come back as 0/1 from
        SQLite and as bool from PostgreSQL, which compare equal."""
        if self.database is None:
            with sqlite3.connect(self.data_dir / "tribune.sqlite3") as db:
                return db.execute(sql, params).fetchall()
        with _connect(self.database_url) as db, db.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []

    def tables(self) -> list[str]:
        """The names of the tables in the instance's database (none if it was
        never created)."""
        if self.database is None:
            path = self.data_dir / "tribune.sqlite3"
            if not path.exists():
                return []
            return [r[0] for r in self.query(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [r[0] for r in self.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]


_instances: dict[Path, Instance] = {}


def instance(data_dir: Path, *, database: str | None = None) -> Instance:
    """The instance whose data directory is ``data_dir``, made on first use (on
    PostgreSQL with ``database``, made already, or a new empty one)."""
    global _redis
    key = Path(data_dir).resolve()
    if key in _instances:
        return _instances[key]
    env = {"TRIBUNE_DATA_DIR": str(data_dir)}
    if _database_url():
        if database is None:
            database = f"tribune_instance_{secrets.token_hex(6)}"
            with _connect(_with_database(_database_url(), "postgres")) as admin:
                admin.execute(f'CREATE DATABASE "{database}"')
        env["TRIBUNE_DATABASE_URL"] = _with_database(_database_url(), database)
    if _redis_url():
        if _redis is None:
            _redis = _PrivateRedis()
        env["TRIBUNE_REDIS_URL"] = _redis.new_url()
    made = _instances[key] = Instance(data_dir=Path(data_dir), env=env, database=database)
    return made


_template: Instance | None = None
shared_folder: Path | None = None  # the run's folder of all its processes, when set


def _migrated_template() -> Instance:
    """An instance migrated once (``tribune migrate``), whose database ``migrated``
    copies: migrating takes seconds, copying a file or a PostgreSQL template a
    fraction of one. With ``shared_folder`` set (tests/conftest.py), it is made
    once for the whole run, by the first of the pytest-xdist workers to need it,
    in that folder (tests/shared_databases.py), and dropped by ``drop_shared``
    at the end of the run; else once per test process."""
    global _template
    if _template is not None:
        return _template
    if shared_folder is None:
        _template = _migrate(instance(Path(tempfile.mkdtemp(prefix="tribune-template-"))))
        return _template
    from tests.shared_databases import locked

    data_dir = shared_folder / "instance-template"
    with locked(shared_folder / "instance-template.lock"):
        database = None
        if (data_dir / "database").exists():
            database = (data_dir / "database").read_text().strip() or None
        elif (data_dir / "ready").exists():
            pass  # SQLite
        else:
            data_dir.mkdir(exist_ok=True)
            made = _migrate(_unregistered(data_dir))
            (data_dir / "database").write_text(made.database or "")
            (data_dir / "ready").touch()
            database = made.database
    env = {"TRIBUNE_DATA_DIR": str(data_dir)}
    if database is not None:
        env["TRIBUNE_DATABASE_URL"] = _with_database(_database_url(), database)
    _template = Instance(data_dir=data_dir, env=env, database=database)
    return _template


def _unregistered(data_dir: Path) -> Instance:
    """A new instance (as ``instance`` makes it) that ``close_all`` leaves alone: the
    run's shared template, which outlives the process that made it."""
    made = instance(data_dir)
    del _instances[Path(data_dir).resolve()]
    return made


def _migrate(made: Instance) -> Instance:
    env = {**os.environ, **made.env, "PYTHONUNBUFFERED": "1"}
    env.pop("TRIBUNE_DOMAIN", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run([sys.executable, "-m", "tribune.cli", "migrate"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return made


def drop_shared(folder: Path) -> None:
    """Drop the PostgreSQL database of the run's shared template in ``folder``, if
    one was made; once every process of the run is done with it."""
    path = folder / "instance-template" / "database"
    database = path.read_text().strip() if path.exists() else ""
    if database and _database_url():
        with _connect(_with_database(_database_url(), "postgres")) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def migrated(data_dir: Path) -> Instance:
    """The instance of ``data_dir`` (``instance``), made with its database already
    migrated, as ``tribune migrate`` leaves it, when it is new: for tests of what
    a running instance does, not of how it starts from nothing."""
    key = Path(data_dir).resolve()
    if key in _instances:
        return _instances[key]
    template = _migrated_template()
    if template.database is None:  # SQLite: the template's file, checkpointed
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(template.data_dir / "tribune.sqlite3") as source, \
                sqlite3.connect(Path(data_dir) / "tribune.sqlite3") as copy:
            source.backup(copy)
        return instance(data_dir)
    made = instance(data_dir, database=migrated_database())
    return made


def migrated_database(name: str | None = None) -> str:
    """A new PostgreSQL database on the run's server (``TRIBUNE_DATABASE_URL``),
    ``name`` or ``tribune_instance_<random>``, made migrated as ``tribune migrate``
    leaves it (a copy of the template); the caller drops it, unless ``migrated``
    made it for an instance."""
    template = _migrated_template()
    assert template.database is not None, "the run is not on PostgreSQL"
    database = name or f"tribune_instance_{secrets.token_hex(6)}"
    with _connect(_with_database(_database_url(), "postgres")) as admin:
        if shared_folder is None:
            admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template.database}"')
        else:  # no other session may be connected to the template meanwhile
            from tests.shared_databases import locked

            with locked(shared_folder / "instance-template.lock"):
                admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template.database}"')
    return database


def close_all() -> None:
    """Drop the instances' PostgreSQL databases (their servers must be stopped, but a
    connection left over does not prevent it) and stop the private Redis."""
    global _redis, _template
    made = [i for i in _instances.values() if i.database]
    if _template is not None:
        if shared_folder is None:
            shutil.rmtree(_template.data_dir, ignore_errors=True)
        _template = None
    _instances.clear()
    if made:
        with _connect(_with_database(_database_url(), "postgres")) as admin:
            for one in made:
                admin.execute(f'DROP DATABASE IF EXISTS "{one.database}" WITH (FORCE)')
    if _redis is not None:
        _redis.stop()
        _redis = None
