"""Scale-out settings and the worker command, as an operator meets them: bad values
are one line on stderr and a non-zero exit, before anything is touched."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

TRIBUNE = str(Path(sys.executable).with_name("tribune"))

# Every command here runs without the run's database and Redis (``tribune`` below;
# the PostgreSQL server is the same in either run), so the tests run once (.ci/run).
pytestmark = pytest.mark.own_instances


def tribune(data_dir: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("TRIBUNE_DATABASE_URL", "TRIBUNE_REDIS_URL")}
    return subprocess.run([TRIBUNE, *args], env={**base, "TRIBUNE_DATA_DIR": str(data_dir), **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name, value, words", [
    ("TRIBUNE_DATABASE_URL", "mysql://db.example/tribune", "postgres:// or sqlite:///"),
    ("TRIBUNE_DATABASE_URL", "postgres://db.example", "must name a database"),
    ("TRIBUNE_DATABASE_URL", "sqlite://", "needs a file"),
    ("TRIBUNE_DATABASE_URL", "sqlite://:memory:", "needs a file"),
    ("TRIBUNE_DATABASE_URL", "postgres://db.example/t?pool_max=many", "pool_max"),
    ("TRIBUNE_DATABASE_URL", "postgres://db.example/t?pool_max=0", "pool_max must be at least 1"),
    ("TRIBUNE_REDIS_URL", "localhost:6379", "redis://"),
    ("TRIBUNE_REDIS_URL", "redis://127.0.0.1:6379/abc", "by number"),
    ("TRIBUNE_REDIS_URL", "redis://127.0.0.1:6379/0/cache", "by number"),
    ("TRIBUNE_FEED_ACTIVE_DAYS", "0", "from 1 to 36500"),
    ("TRIBUNE_FANOUT_MAX_FOLLOWERS", "lots", "integer"),
    ("TRIBUNE_TRUSTED_PROXIES", "10.0.0.0/33", "CIDR networks"),
    ("TRIBUNE_TRUSTED_PROXIES", "10.0.0.1, lb.internal", "CIDR networks"),
])
def test_bad_scale_out_settings_are_one_line(tmp_path, name, value, words):
    result = tribune(tmp_path, "migrate", env={name: value})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and words in lines[0], result.stderr
    assert not (tmp_path / "tribune.sqlite3").exists()


def test_a_sqlite_url_puts_the_database_where_it_says(tmp_path):
    elsewhere = tmp_path / "db" / "main.sqlite3"
    elsewhere.parent.mkdir()
    result = tribune(tmp_path / "data", "migrate", env={"TRIBUNE_DATABASE_URL": f"sqlite:///{elsewhere}"})
    assert result.returncode == 0, result.stderr
    assert elsewhere.exists()
    assert not (tmp_path / "data" / "tribune.sqlite3").exists()


def test_worker_refuses_an_unknown_queue(tmp_path):
    result = tribune(tmp_path, "worker", "--queues", "default,fanout", env={})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "tribune worker: error: unknown queue 'fanout'; the queues are default, timelines, "
        "federation, media, portability, push")


@pytest.mark.parametrize("proxies, header", [
    ("", "None"),
    ("10.0.0.0/8, ::1", "('HTTP_X_FORWARDED_PROTO', 'https')"),
])
def test_trusted_proxies_decide_whether_forwarded_proto_is_believed(tmp_path, proxies, header):
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tribune.settings",
             "TRIBUNE_DATA_DIR": str(tmp_path), "TRIBUNE_TRUSTED_PROXIES": proxies},
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == header



@pytest.fixture
def closed_port():
    """A local port nothing listens on: bound, never listening, for the test's length."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("command", ["migrate", "serve", "demo", "worker"])
def test_an_unreachable_redis_stops_the_start_in_one_line(tmp_path, closed_port, command):
    url = f"redis://:a-redis-secret@127.0.0.1:{closed_port}/3"
    options = [] if command in ("migrate", "worker") else ["--port", str(_free_port())]
    result = tribune(tmp_path, command, *options, env={"TRIBUNE_REDIS_URL": url})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        f"tribune {command}: error: cannot reach Redis at redis://127.0.0.1:{closed_port}/3: ")
    assert "a-redis-secret" not in result.stderr + result.stdout
    assert not (tmp_path / "tribune.sqlite3").exists()


@pytest.mark.parametrize("command", ["migrate", "serve", "demo", "worker"])
def test_an_unreachable_postgresql_stops_the_start_in_one_line(tmp_path, closed_port, command):
    url = f"postgres://postgres:a-pg-secret@127.0.0.1:{closed_port}/nowhere"
    options = ["--port", str(_free_port())] if command in ("serve", "demo") else []
    started = time.monotonic()
    result = tribune(tmp_path, command, *options, env={"TRIBUNE_DATABASE_URL": url})
    assert time.monotonic() - started < 15  # not the pool's 10 s wait on top of start-up
    assert result.returncode == 1
    assert result.stderr.strip() == (f"tribune {command}: error: cannot connect to PostgreSQL "
                                     f"at 127.0.0.1:{closed_port}: connection refused")
    assert "a-pg-secret" not in result.stderr + result.stdout


def test_libpq_parameters_of_the_url_reach_the_connection(tmp_path, closed_port):
    # They were dropped: ?sslmode=require connected in clear text without a word.
    url = f"postgres://postgres@127.0.0.1:{closed_port}/x?pool_max=2&no_such_option=1"
    result = tribune(tmp_path, "migrate", env={"TRIBUNE_DATABASE_URL": url})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no_such_option" in lines[0], result.stderr


@pytest.mark.parametrize("name, value", [
    ("TRIBUNE_FEED_ACTIVE_DAYS", "1000000"),
    ("TRIBUNE_FANOUT_MAX_FOLLOWERS", "99999999999999999999"),
])
def test_out_of_range_scale_out_numbers_are_one_line(tmp_path, name, value):
    # They started, then every fan-out (or home page) failed with an OverflowError.
    result = tribune(tmp_path, "migrate", env={name: value})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "must be from" in lines[0], result.stderr


def test_a_postgresql_that_never_answers_stops_the_start_within_seconds(tmp_path):
    with socket.socket() as silent:  # accepts connections (the backlog), never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        result = tribune(tmp_path, "migrate",
                         env={"TRIBUNE_DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/x"})
        elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"tribune migrate: error: cannot connect to PostgreSQL at 127.0.0.1:{port}: "
        "connection timeout expired")
    assert elapsed < 15


@pytest.fixture
def fresh_postgres_url():
    """The URL of a new, empty PostgreSQL database on TRIBUNE_DATABASE_URL's server
    (else 127.0.0.1:5432 as postgres), dropped after the test."""
    import secrets

    import psycopg

    from tests.instances import _connect, _database_url, _with_database
    from tests.mastodon_schema import require_services

    server = _database_url() or "postgres://postgres@127.0.0.1:5432/postgres"
    try:
        admin = _connect(_with_database(server, "postgres"))
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {_with_database(server, 'postgres')}: {exc}"
        if require_services():
            pytest.fail(f"{reason} (TRIBUNE_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(reason)
    name = f"tribune_migrate_{secrets.token_hex(6)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_database(server, name).split("?", 1)[0]
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_migrates_at_once_on_a_fresh_postgresql_database_both_succeed(
        tmp_path, fresh_postgres_url):
    base = {k: v for k, v in os.environ.items() if k != "TRIBUNE_REDIS_URL"}
    runs = [subprocess.Popen([TRIBUNE, "migrate"], env={
        **base, "TRIBUNE_DATA_DIR": str(tmp_path / f"node{n}"),
        "TRIBUNE_DATABASE_URL": fresh_postgres_url}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for n in (1, 2)]
    outcomes = [(run.wait(timeout=300), run.communicate()[1]) for run in runs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
