"""The ``tribune`` command, run as an operator runs it: the real console script in a
subprocess, on a temporary data dir (and on PostgreSQL and Redis, databases of its
own: tests/instances.py). The database of such an instance is read with the
database's own client, since this test process has its own Django configuration."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import instances

TRIBUNE = str(Path(sys.executable).with_name("tribune"))
PASSWORD = "a-long-test-passphrase"


def _env(data_dir: Path) -> dict[str, str]:
    """The environment without our settings but those of the instance at
    ``data_dir`` (its data dir; on PostgreSQL and Redis its own databases)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIBUNE_")}
    return {**env, **instances.instance(data_dir).env}


def tribune(data_dir: Path, *args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TRIBUNE, *args], env={**_env(data_dir), **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def query(data_dir: Path, sql: str, *params: object) -> list[tuple]:
    return instances.instance(data_dir).query(sql, *params)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> Path:
    """A data dir where ``tribune createuser`` made alice, starting from nothing."""
    data_dir = tmp_path_factory.mktemp("instance")
    result = tribune(data_dir, "createuser", "alice", "--email", "alice@example.test",
                     "--password", PASSWORD)
    assert result.returncode == 0, result.stderr
    return data_dir


def test_help_needs_no_database(tmp_path):
    result = tribune(tmp_path, "--help")
    assert result.returncode == 0
    assert "createuser" in result.stdout
    assert instances.instance(tmp_path).tables() == []


def test_usage_errors_are_one_line(tmp_path):
    result = tribune(tmp_path, "serve", "--port", "http")
    assert result.returncode == 2
    assert "--port" in one_line(result.stderr)


def test_createuser_on_an_empty_data_dir(instance):
    rows = query(instance, "SELECT a.username, u.email, u.is_staff FROM accounts_account a "
                           "JOIN auth_user u ON u.id = a.user_id WHERE u.username = 'alice'")
    assert rows == [("alice", "alice@example.test", 0)]


def test_createuser_admin(instance):
    result = tribune(instance, "createuser", "root", "--email", "root@example.test",
                     "--password", PASSWORD, "--admin")
    assert result.returncode == 0, result.stderr
    assert query(instance, "SELECT is_staff, is_superuser FROM auth_user "
                           "WHERE username = 'root'") == [(1, 1)]


def test_createuser_with_a_taken_name_fails_in_one_line(instance):
    result = tribune(instance, "createuser", "ALICE", "--email", "other@example.test",
                     "--password", PASSWORD)
    assert result.returncode != 0
    assert "taken" in one_line(result.stderr)
    assert query(instance, "SELECT count(*) FROM auth_user WHERE email = 'other@example.test'") == [(0,)]


def test_token_is_stored_only_as_its_checksum(instance):
    tokens = []
    for scopes in ("read write follow push", "read"):
        result = tribune(instance, "token", "alice", "--scopes", scopes)
        assert result.returncode == 0, result.stderr
        tokens.append(result.stdout.strip().splitlines()[-1])
    assert len(tokens[0]) >= 32 and tokens[0] != tokens[1]
    rows = query(
        instance,
        "SELECT t.token, t.scope, t.expires, app.name, app.client_type, "
        "app.authorization_grant_type, app.redirect_uris, app.scopes "
        "FROM oauth_accesstoken t JOIN oauth_application app ON app.id = t.application_id "
        "JOIN auth_user u ON u.id = t.user_id "
        "WHERE t.token_checksum = ? AND u.username = 'alice'",
        hashlib.sha256(tokens[0].encode()).hexdigest(),
    )
    assert len(rows) == 1
    stored, scope, expires, *application = rows[0]
    assert stored == ""
    assert scope.split() == ["read", "write", "follow", "push"]
    # SQLite keeps the text of a UTC time; PostgreSQL gives an aware datetime.
    expires_at = (expires if isinstance(expires, datetime)
                  else datetime.fromisoformat(expires).replace(tzinfo=UTC))
    assert expires_at > datetime.now(UTC) + timedelta(days=365 * 100)
    assert application == ["Tribune CLI", "confidential", "client-credentials",
                           "urn:ietf:wg:oauth:2.0:oob",
                           "read write follow push admin:read admin:write"]
    # Both tokens belong to the one built-in application.
    assert query(instance, "SELECT count(DISTINCT application_id), count(*) "
                           "FROM oauth_accesstoken") == [(1, 2)]


def test_token_gives_admin_scopes_to_staff_only(instance):
    made = tribune(instance, "createuser", "boss", "--email", "boss@example.test",
                   "--password", PASSWORD, "--admin")
    assert made.returncode == 0, made.stderr
    result = tribune(instance, "token", "boss", "--scopes", "read admin:read admin:write")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert query(instance, "SELECT scope FROM oauth_accesstoken WHERE token_checksum = ?",
                 hashlib.sha256(token.encode()).hexdigest()) == [("read admin:read admin:write",)]
    refused = tribune(instance, "token", "alice", "--scopes", "admin:read")
    assert refused.returncode != 0 and refused.stdout == ""
    assert "only for staff" in one_line(refused.stderr)


@pytest.mark.parametrize(("name", "scopes", "message"), [
    ("nobody", "read", "nobody"),
    ("alice", "read telepathy", "telepathy"),
])
def test_token_refuses_unknown_users_and_scopes(instance, name, scopes, message):
    result = tribune(instance, "token", name, "--scopes", scopes)
    assert result.returncode != 0
    assert message in one_line(result.stderr)
    assert result.stdout == ""


@pytest.mark.parametrize("name, value", [
    ("TRIBUNE_MAX_CHARACTERS", "lots"), ("TRIBUNE_MAX_CHARACTERS", "-5"),
    ("TRIBUNE_REGISTRATIONS", "bogus"), ("TRIBUNE_RATE_LIMITS", "maybe"),
    ("TRIBUNE_DOMAIN", "https://x.example/"), ("TRIBUNE_DOMAIN", "a b"),
])
def test_bad_configuration_is_one_line(tmp_path, name, value):
    result = tribune(tmp_path, "migrate", env={name: value})
    assert result.returncode != 0
    assert name in one_line(result.stderr)


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def test_serve_answers_and_stops_cleanly_on_sigterm(instance):
    port = free_port()
    server = subprocess.Popen([TRIBUNE, "serve", "--port", str(port), "--workers", "1"],
                              env=_env(instance), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        # The time allowed to start is for a machine busy with other work too.
        status, deadline = None, time.monotonic() + 90
        while status is None and time.monotonic() < deadline and server.poll() is None:
            status = _http_status(f"http://127.0.0.1:{port}/admin/login/")
            time.sleep(0.2)
        assert status in (200, 302)
        # Operator commands work beside the running server (on SQLite: WAL mode).
        result = tribune(instance, "createuser", "bob", "--email", "bob@example.test",
                         "--password", PASSWORD)
        assert result.returncode == 0, result.stderr
        server.send_signal(signal.SIGTERM)
        # A bounded wait, not a timing: a clean stop ends within it, a hung one fails.
        out, err = server.communicate(timeout=60)
        assert server.returncode == 0, err
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert f"http://127.0.0.1:{port}/" in out
    with socket.socket() as sock:  # nothing listens any more: gunicorn is gone
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def _task_workers(parent: int) -> list[int]:
    """The pids of ``parent``'s children that run ``tribune worker`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"worker" in argv:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_serve_starts_a_killed_task_worker_again(instance):
    port = free_port()
    server = subprocess.Popen([TRIBUNE, "serve", "--port", str(port), "--workers", "1",
                               "--task-workers", "1"], env=_env(instance),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (workers := _task_workers(server.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            again = _task_workers(server.pid)
            if again and again != workers:
                break
            time.sleep(0.2)
        assert again and again != workers
        assert server.poll() is None
        status, deadline = None, time.monotonic() + 30
        while status is None and time.monotonic() < deadline:
            status = _http_status(f"http://127.0.0.1:{port}/admin/login/")
            time.sleep(0.2)
        assert status in (200, 302)
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=20)
        assert server.returncode == 0, err
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert "task worker 1 was killed by SIGKILL unexpectedly; started it again" in err


def test_serve_on_a_taken_port_fails_in_one_line(instance):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = tribune(instance, "serve", "--port", str(port), timeout=30)
    assert result.returncode != 0
    assert "in use" in one_line(result.stderr)


@pytest.mark.django_db(transaction=True)
def test_demo_content_is_made_once(settings):
    # Speed: the production hasher would take seconds for the demo's 25 logins, and
    # the effects of its ~600 events are left queued, as `tribune demo` leaves them
    # for its task workers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": settings.TASKS["default"]["QUEUES"]}}
    from django_tasks_db.models import DBTaskResult

    from tribune.accounts.models import Account
    from tribune.cli.demo import demo_content_create
    from tribune.graph.models import Follow
    from tribune.moderation.models import Rule
    from tribune.statuses.models import Favourite, Mention, PollVote, Status

    def counts() -> dict[str, int]:
        return {
            "accounts": Account.objects.filter(domain="").count(),
            "posts": Status.objects.filter(reblog_of=None, visibility="public").count(),
            "replies": Status.objects.exclude(in_reply_to=None).count(),
            "reblogs": Status.objects.exclude(reblog_of=None).count(),
            "favourites": Favourite.objects.count(),
            "mentions": Mention.objects.count(),
            "tagged": Status.objects.exclude(tags=None).distinct().count(),
            "follows": Follow.objects.count(),
            "rules": Rule.objects.count(),
            "poll votes": PollVote.objects.count(),
            "queued tasks": DBTaskResult.objects.count(),
        }

    first = demo_content_create()
    made = counts()
    second = demo_content_create()

    assert first.created and not second.created
    assert first.usernames == second.usernames
    assert counts() == made
    assert made["accounts"] >= 20 and made["posts"] >= 100
    for kind in ("replies", "reblogs", "favourites", "mentions", "tagged", "follows",
                 "poll votes", "queued tasks"):
        assert made[kind] > 0, kind
    assert 3 <= made["rules"] <= 4
    languages = set(Status.objects.filter(reblog_of=None).values_list("language", flat=True))
    assert {"en", "fr"} <= languages
    assert {a.display_name for a in Account.objects.all()} >= {"Tribune Admin"}


def test_boolean_settings_are_checked(tmp_path):
    result = tribune(tmp_path, "migrate", env={"TRIBUNE_DEBUG": "maybe"})
    assert result.returncode != 0
    line = one_line(result.stderr)
    assert "TRIBUNE_DEBUG" in line and "ValueError" not in line


def test_a_refusal_is_one_line_even_in_debug_mode(tmp_path):
    # The two-instance set-up runs with TRIBUNE_DEBUG=1: a refusal stays one line
    # there; only an unexpected error shows its traceback.
    result = tribune(tmp_path, "serve", "--port", "1",
                     env={"TRIBUNE_DEBUG": "1", "TRIBUNE_DEV_PEERS": "garbage"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "TRIBUNE_DEV_PEERS must be comma-separated" in one_line(result.stderr)


def _nice_of(pid: int) -> int:
    """The nice value of process ``pid`` (field 19 of /proc/PID/stat)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_a_task_worker_runs_at_a_lower_priority_than_the_web_server(instance):
    """Background work gives way to requests (docs/adr/0021): a worker's nice value
    is TASK_NICENESS above the process that started it."""
    from tribune.core.capacity import TASK_NICENESS

    worker = subprocess.Popen([TRIBUNE, "worker", "--quiet"], env=_env(instance),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + TASK_NICENESS)
        deadline = time.monotonic() + 30
        while _nice_of(worker.pid) != expected and time.monotonic() < deadline:
            assert worker.poll() is None, worker.communicate()
            time.sleep(0.1)
        assert _nice_of(worker.pid) == expected
    finally:
        worker.terminate()
        worker.wait(timeout=30)
