"""``tribune serve``: gunicorn plus task workers, supervised by one process.

Ordinary HTTP goes through WSGI (gunicorn with threads; ARCHITECTURE.md, "Serving").
The children run in their own process groups, so Ctrl-C reaches only this process,
which then stops them in order: SIGTERM, a grace period, SIGKILL for stragglers.
On Linux a child also gets SIGTERM if this process dies without cleaning up.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from tribune.cli.errors import CliError

GRACE_SECONDS = 15  # gunicorn gets --graceful-timeout 10, workers finish their task
READY_SECONDS = 60
POLL_SECONDS = 0.1
RESTARTS, RESTART_WINDOW = 5, 60.0  # a task worker dying this often stops the server
READY_PATH = "/admin/login/"  # any answer will do; this page needs no data


def address(host: str, port: int) -> str:
    """``host:port``, with IPv6 literals in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def streaming_port_choose(*, host: str, port: int, requested: int | None) -> int:
    """The streaming process's port: ``requested``, else ``port + 1`` if it is
    free on ``host``, else one the system picks (``serve`` reserves it after)."""
    if requested is not None:
        return requested
    for candidate in ((port + 1) if port < 65535 else 0, 0):
        with contextlib.suppress(OSError), socket.socket(
                socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.bind((host, candidate))
            return sock.getsockname()[1]
    raise CliError(f"cannot find a free port for the streaming process on {host}")


def prepare_environment(*, host: str, port: int, streaming_port: int | None = None) -> None:
    """Make absolute URLs use the served address unless TRIBUNE_DOMAIN is set, and
    clients find the streaming process at ``streaming_port`` on the same host
    (TRIBUNE_STREAMING_URL) unless TRIBUNE_DOMAIN or TRIBUNE_STREAMING_URL is set:
    behind a domain, a reverse proxy routes /api/v1/streaming (README).

    Must run before Django reads its settings; the children inherit it.
    """
    if (streaming_port is not None and not os.environ.get("TRIBUNE_DOMAIN")
            and not os.environ.get("TRIBUNE_STREAMING_URL")):
        os.environ["TRIBUNE_STREAMING_URL"] = f"ws://{address(host, streaming_port)}"
    if not os.environ.get("TRIBUNE_DOMAIN"):
        os.environ["TRIBUNE_DOMAIN"] = address(host, port)
        if host in ("0.0.0.0", "::", ""):
            print("note: listening on all interfaces; set TRIBUNE_DOMAIN to the name "
                  "clients use (requests for other host names are refused)", file=sys.stderr)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    argv: list[str] = field(default_factory=list)
    restartable: bool = False
    restarts: list[float] = field(default_factory=list)  # when it was started again


def _parent_death_signal() -> Callable[[], None] | None:
    """A pre-exec hook that has the kernel SIGTERM the child when we die (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:  # we died before the hook ran
            os.kill(os.getpid(), signal.SIGTERM)

    return hook


def _how_it_ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Server:
    """The web server and task workers of one instance, started and stopped together."""

    def __init__(self, *, host: str, port: int, workers: int, task_workers: int,
                 streaming_port: int | None = None) -> None:
        self.host, self.port = host, port
        self.streaming_port = streaming_port
        self.workers, self.task_workers = workers, task_workers
        self.children: list[Child] = []
        self._reserved: socket.socket | None = None
        self._stop_signal: int | None = None
        self._force = False

    @property
    def url(self) -> str:
        return f"http://{address(self.host, self.port)}/"

    # --- the port ------------------------------------------------------------

    def reserve_port(self) -> None:
        """Bind the address now, so a taken port fails fast with a clear message.

        The socket is held (bound, not listening) until gunicorn is started.
        """
        where = address(self.host, self.port)
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
        except socket.gaierror:
            raise CliError(f"cannot listen on {where}: unknown host {self.host!r}") from None
        family, kind, proto, _, sockaddr = infos[0]
        sock = socket.socket(family, kind, proto)
        # gunicorn sets SO_REUSEADDR too; without it a port in TIME_WAIT would
        # look taken here and yet be free for gunicorn.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(sockaddr)
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                reason = "the port is already in use"
            elif exc.errno == errno.EACCES:
                reason = "permission denied"
            else:
                reason = exc.strerror or str(exc)
            raise CliError(f"cannot listen on {where}: {reason}") from None
        self._reserved = sock

    def _release_port(self) -> None:
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None

    # --- children --------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        from django.conf import settings

        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = "tribune.settings"
        env["TRIBUNE_DATA_DIR"] = str(settings.DATA_DIR)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _gunicorn_argv(self) -> list[str]:
        argv = [
            sys.executable, "-m", "gunicorn", "tribune.wsgi:application",
            "--bind", address(self.host, self.port),
            "--workers", str(self.workers), "--threads", "4",
            "--worker-class", "gthread", "--graceful-timeout", "10",
            # gunicorn closes an idle kept-alive connection after 2 s by default; a
            # client that sent its next request on it as it closed got "connection
            # reset". Twenty seconds, as puma (Mastodon's server) keeps them.
            "--keep-alive", "20",
            "--log-level", "warning",
            # gunicorn answers over-long request lines itself, in HTML; Mastodon
            # clients need JSON, so the length check is ours (ApiRequestMiddleware).
            "--limit-request-line", "0",
        ]
        from gunicorn.config import KNOWN_SETTINGS

        # gunicorn 25 opens a control socket at a fixed path in the home directory;
        # two instances on one machine would fight over it, and we do not use it.
        if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS):
            argv.append("--no-control-socket")
        return argv

    def _streaming_argv(self) -> list[str]:
        return [sys.executable, "-m", "tribune.cli", "streaming", "--host", self.host,
                "--port", str(self.streaming_port)]

    def _worker_argv(self) -> list[str]:
        return [sys.executable, "-m", "tribune.cli", "worker", "--queues", "*",
                "--interval", "0.2", "--quiet"]

    def _start(self) -> None:
        env, hook = self._environment(), _parent_death_signal()
        plan = [("the web server", self._gunicorn_argv())]
        plan += [(f"task worker {n}", self._worker_argv())
                 for n in range(1, self.task_workers + 1)]
        if self.streaming_port is not None:
            plan.append(("the streaming server", self._streaming_argv()))
        for name, argv in plan:
            process = subprocess.Popen(argv, env=env, process_group=0, preexec_fn=hook)
            self.children.append(Child(name, process, argv, restartable=name != plan[0][0]))

    def _first_dead(self) -> Child | None:
        """The first child that died and was not started again: a task worker is
        (its unfinished task is taken up again by the queue's recovery), unless it
        died ``RESTARTS`` times within ``RESTART_WINDOW`` seconds; the web server
        is not (gunicorn restarts its own workers; its master dying is fatal)."""
        for child in self.children:
            if child.process.poll() is None:
                continue
            now = time.monotonic()
            child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW]
            if not child.restartable or len(child.restarts) >= RESTARTS:
                return child
            ended = _how_it_ended(child.process.returncode)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)  # what it left in its group
            child.process.wait()
            child.process = subprocess.Popen(child.argv, env=self._environment(),
                                             process_group=0, preexec_fn=_parent_death_signal())
            child.restarts.append(now)
            print(f"{child.name} {ended} unexpectedly; started it again", file=sys.stderr,
                  flush=True)
        return None

    # --- running ---------------------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stop_signal is not None:
            self._force = True  # a second Ctrl-C: do not wait for the grace period
        self._stop_signal = signum

    def _answering(self) -> bool:
        """Whether a web worker answers HTTP. gunicorn's master accepts connections
        before its workers have loaded Django, so an open port is not enough."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        connection = http.client.HTTPConnection(host, self.port, timeout=2)
        try:
            connection.request("HEAD", READY_PATH)
            connection.getresponse()
            return True
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def _wait(self, *, until_ready: bool) -> Child | None:
        """Sleep until a stop signal or a child's death (returned); with
        ``until_ready``, return None as soon as the web server accepts connections."""
        deadline = time.monotonic() + READY_SECONDS
        while self._stop_signal is None:
            if dead := self._first_dead():
                return dead
            if until_ready and (self._answering() or time.monotonic() > deadline):
                return None
            time.sleep(POLL_SECONDS)
        return None

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM (exit status 0) or until a child dies for
        good (``_first_dead``; CliError, after stopping the others)."""
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in handled}
        dead: Child | None = None
        try:
            self._release_port()
            self._start()
            dead = self._wait(until_ready=True)
            if dead is None and self._stop_signal is None:
                print(f"Tribune is running at {self.url} (press Ctrl-C to stop)", flush=True)
                if self.streaming_port is not None:
                    print(f"Streaming API at ws://{address(self.host, self.streaming_port)}/"
                          "api/v1/streaming", flush=True)
                dead = self._wait(until_ready=False)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if dead is not None:
            raise CliError(f"{dead.name} {_how_it_ended(dead.process.returncode)} "
                           "unexpectedly; stopped the other processes")
        print("Tribune stopped.", flush=True)
        return 0

    def _stop_all(self) -> None:
        self._release_port()
        for child in self.children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        while (any(c.process.poll() is None for c in self.children)
               and time.monotonic() < deadline and not self._force):
            time.sleep(POLL_SECONDS)
        for child in self.children:
            # Also reaps what a child left behind in its group (gunicorn's workers).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
