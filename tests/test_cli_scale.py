"""Scale-out settings and the worker command, as an operator meets them: bad values
are one line on stderr and a non-zero exit, before anything is touched."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

TRIBUNE = str(Path(sys.executable).with_name("tribune"))


def tribune(data_dir: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("TRIBUNE_DATABASE_URL", "TRIBUNE_REDIS_URL")}
    return subprocess.run([TRIBUNE, *args], env={**base, "TRIBUNE_DATA_DIR": str(data_dir), **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name, value, words", [
    ("TRIBUNE_DATABASE_URL", "mysql://db.example/tribune", "postgres:// or sqlite:///"),
    ("TRIBUNE_DATABASE_URL", "postgres://db.example", "must name a database"),
    ("TRIBUNE_DATABASE_URL", "postgres://db.example/t?pool_max=many", "pool_max"),
    ("TRIBUNE_REDIS_URL", "localhost:6379", "redis://"),
    ("TRIBUNE_REDIS_URL", "redis://127.0.0.1:6379/abc", "by number"),
    ("TRIBUNE_REDIS_URL", "redis://127.0.0.1:6379/0/cache", "by number"),
    ("TRIBUNE_FEED_ACTIVE_DAYS", "0", "at least 1"),
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
        "federation, media, portability")


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


@pytest.mark.parametrize("command", ["migrate", "serve", "demo"])
def test_an_unreachable_redis_stops_the_start_in_one_line(tmp_path, closed_port, command):
    url = f"redis://:a-redis-secret@127.0.0.1:{closed_port}/3"
    options = [] if command == "migrate" else ["--port", str(_free_port())]
    result = tribune(tmp_path, command, *options, env={"TRIBUNE_REDIS_URL": url})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        f"tribune {command}: error: cannot reach Redis at redis://127.0.0.1:{closed_port}/3: ")
    assert "a-redis-secret" not in result.stderr + result.stdout
    assert not (tmp_path / "tribune.sqlite3").exists()
