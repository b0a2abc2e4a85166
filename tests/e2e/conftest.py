"""The real server: `tribune serve` as a subprocess on a free loopback port, with its
own data directory (and on PostgreSQL and Redis its own databases: tests/instances.py),
gunicorn workers and task workers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.instances import migrated

TRIBUNE = [sys.executable, "-m", "tribune.cli"]
PASSWORD = "correct-horse-battery-staple"  # of the accounts ``Server.accounts`` makes


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base_url: str
    data_dir: Path
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """Run a `tribune` command against this server's data directory."""
        return subprocess.run([*TRIBUNE, *args], env=self.env, capture_output=True,
                              text=True, timeout=120)

    def accounts(self, *names: str, scopes: str = "read write follow",
                 password: str = PASSWORD) -> dict[str, str]:
        """Make local accounts ``names`` (``tribune createuser NAME --email
        NAME@example.test``) and a token of ``scopes`` for each (``tribune token``);
        returns {name: token}. The commands run in one process, one after another,
        through the CLI's own entry point: starting Python and Django once per
        command costs more than the commands."""
        done = subprocess.run([sys.executable, "-c", _ACCOUNTS, json.dumps([names, scopes, password])],
                              env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])


_ACCOUNTS = """
import contextlib, io, json, sys
from tribune.cli import main
names, scopes, password = json.loads(sys.argv[1])
tokens = {}
for name in names:
    with contextlib.redirect_stdout(io.StringIO()):
        made = main(["createuser", name, "--email", f"{name}@example.test", "--password", password])
    assert made == 0, f"createuser {name}: {made}"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["token", name, "--scopes", scopes]) == 0, f"token {name}"
    tokens[name] = printed.getvalue().split()[-1]
print(json.dumps(tokens))
"""


def close_stream(response) -> None:
    """Close a streaming HTTP response (``requests``, or the ``connection`` of a
    Mastodon.py stream handle) at once: its socket is shut down first, so that
    the thread reading it returns now; ``close()`` alone waits until the server's
    next heartbeat (15 s) wakes that thread."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    response.close()


def stream_closed(handle) -> None:
    """Close a Mastodon.py stream handle (``run_async=True``) at once."""
    handle.closed = True
    if handle.connection is not None:
        close_stream(handle.connection)


def _tribune_cmd() -> list[str]:
    exe = shutil.which("tribune", path=str(Path(sys.executable).parent))
    return [exe] if exe else TRIBUNE


def start_server(data_dir: Path, *, host: str = "127.0.0.1", port: int | None = None,
                 **extra_env: str):
    """Start `tribune serve` on ``host`` and ``port`` (a free one by default);
    returns (process, Server, log file). A new data directory starts with its
    database migrated (``instances.migrated``), as ``tribune serve`` would leave
    it before serving. ``TRIBUNE_DOMAIN`` is the address served unless
    ``extra_env`` names one."""
    port = port or free_port(host)
    env = {**os.environ, **migrated(data_dir).env, "PYTHONUNBUFFERED": "1"}
    env.pop("TRIBUNE_DOMAIN", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra_env)
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen([*_tribune_cmd(), "serve", "--host", host, "--port", str(port),
                                "--workers", "2"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://{host}:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                if requests.get(f"{base_url}/api/v1/instance", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + (data_dir / "server.log").read_text())
            time.sleep(0.2)
    except BaseException:
        stop_server(process, log, data_dir)
        raise
    return process, Server(base_url=base_url, data_dir=data_dir, env=env), log


def stop_server(process, log, data_dir: Path) -> str:
    """Stop the server with SIGTERM, as an operator would; returns its log."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    return (data_dir / "server.log").read_text()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    data_dir = tmp_path_factory.mktemp("server-data")
    process, running, log = start_server(data_dir)
    yield running
    text = stop_server(process, log, data_dir)
    assert "database is locked" not in text, text[-3000:]
