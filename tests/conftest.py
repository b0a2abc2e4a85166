"""Shared fixtures. Data is made through the services, as users make it."""

from __future__ import annotations

import functools
import itertools
import json as jsonlib
from typing import Any

import pytest
from django.test import Client

from tests import instances, mastodon_schema, shared_databases
from tests.smtp import mail, smtp_server  # noqa: F401  (fixtures: a real SMTP server)

# Files whose tests start servers, browsers or whole instances, heaviest first (by
# the durations CI lists): collected first, so that pytest-xdist, which hands out
# files in collection order, starts the longest while the quick files can still
# fill the other workers, rather than leaving one of them to a worker at the end.
# A folder stands for the files in it that are not named before it.
SLOW_FIRST = (
    "tests/e2e/test_scale_out.py", "tests/e2e/test_federation_two_instances.py",
    "tests/browser/", "tests/e2e/test_concurrency.py", "tests/portability/test_backup_restore.py",
    "tests/portability/test_backup_interrupted.py", "tests/streaming/test_server.py",
    "tests/e2e/test_schemathesis.py", "tests/portability/test_backup_rows.py",
    "tests/test_cli.py", "tests/core/test_db_task_recovery.py",
    "tests/portability/test_backup_s3.py", "tests/portability/test_backup_refusals.py",
    "tests/test_cli_scale.py", "tests/media/test_s3_storage.py",
    "tests/media/test_media_files.py", "tests/e2e/", "tests/portability/",
)
# Files that share one worker, as if they were one: the browser tests, and the e2e
# tests that use the e2e ``server`` fixture (every e2e file but those of
# E2E_OWN_SERVERS), share a server (and the browser tests a Chromium) per worker,
# which would otherwise start on every worker that gets one of their files.
E2E_OWN_SERVERS = ("tests/e2e/test_scale_out.py", "tests/e2e/test_federation_two_instances.py",
                   "tests/e2e/test_schemathesis.py", "tests/e2e/test_surge.py")


def _path(item) -> str:
    return item.nodeid.split("::", 1)[0]


def work_unit(nodeid: str) -> str:
    """What pytest-xdist hands to one worker whole (``--dist loadfile``): the test's
    file, or the shared unit of its folder (see E2E_OWN_SERVERS)."""
    path = nodeid.split("::", 1)[0]
    if path.startswith("tests/browser/"):
        return "tests/browser/"
    if path.startswith("tests/e2e/") and path not in E2E_OWN_SERVERS:
        return "tests/e2e/ server"
    return path


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` by ``work_unit`` rather than by file alone, handed out in
    collection order (SLOW_FIRST): pytest-xdist would otherwise reorder the units
    by their number of tests (its ``--loadscope-reorder``, on by default), which
    leaves the slowest files, which hold few tests, to the end of the run."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False

    class WorkUnitScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return WorkUnitScheduling(config, log)


def _rank(item) -> int:
    path = _path(item)
    return next((n for n, slow in enumerate(SLOW_FIRST) if path.startswith(slow)),
                len(SLOW_FIRST))


class _SlowFirst:
    @pytest.hookimpl(trylast=True)  # after pytest-django's ordering, which it keeps
    def pytest_collection_modifyitems(self, items) -> None:
        """The files of SLOW_FIRST ahead of the others, in its order."""
        items.sort(key=_rank)  # stable: the order within each file is kept


def pytest_configure(config) -> None:
    config.pluginmanager.register(_SlowFirst(), "tribune-slow-first")


IMMEDIATE_TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "timelines", "federation", "media", "portability", "push"],
    }
}


@pytest.fixture(scope="session", autouse=True)
def _instances_closed(request):
    """The separate instances that tests ran in subprocesses (tests/instances.py)
    lose their PostgreSQL databases and Redis when the session ends. Under
    pytest-xdist the workers share one migrated template of them, in the run's
    folder (dropped by ``pytest_sessionfinish``)."""
    if hasattr(request.config, "workerinput"):
        instances.shared_folder = shared_databases.run_folder(request.config)
    yield
    instances.close_all()


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker,
                    django_db_use_migrations, django_db_keepdb, django_db_createdb,
                    django_db_modify_db_settings):
    """pytest-django's test database; on PostgreSQL under pytest-xdist (without
    ``--reuse-db``), each worker's is a copy of one migrated once for the run
    (tests/shared_databases.py) instead of migrating it for itself. Otherwise as
    pytest-django makes it."""
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    verbosity = request.config.option.verbose
    connection = connections["default"]
    shared = (hasattr(request.config, "workerinput") and connection.vendor == "postgresql"
              and django_db_use_migrations and not django_db_keepdb
              and list(connections) == ["default"])
    with django_db_blocker.unblock():
        if shared:
            old_name = connection.settings_dict["NAME"]
            shared_databases.test_database_from_template(
                connection, folder=shared_databases.run_folder(request.config),
                verbosity=verbosity)
        else:
            keepdb = django_db_keepdb and not django_db_createdb
            if not django_db_use_migrations:
                from pytest_django.fixtures import _disable_migrations

                _disable_migrations()
            from pytest_django.fixtures import _get_databases_for_setup

            aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
            db_cfg = setup_databases(verbosity=verbosity, interactive=False, aliases=aliases,
                                     serialized_aliases=serialized_aliases, keepdb=keepdb)
    yield
    if django_db_keepdb:
        return
    with django_db_blocker.unblock():
        if shared:
            connection.creation.destroy_test_db(old_name, verbosity)
        else:
            teardown_databases(db_cfg, verbosity=verbosity)


def pytest_sessionfinish(session) -> None:
    """At the end of a run over pytest-xdist workers, once they have all stopped,
    the templates they copied their databases from are dropped
    (tests/shared_databases.py, tests/instances.py)."""
    if hasattr(session.config, "workerinput") or not session.config.getoption("numprocesses", None):
        return
    instances.drop_shared(shared_databases.run_folder(session.config))
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    if "default" in connections and connections["default"].vendor == "postgresql":
        with session.config.stash[blocking_manager_key].unblock():
            shared_databases.drop_template(connections["default"])


@pytest.fixture(scope="session", autouse=True)
def _postgresql_flushes_by_delete():
    """On PostgreSQL, a transactional test's teardown empties the tables with DELETE
    instead of Django's one TRUNCATE of every table, which makes new files for
    each of the ~90 tables and costs about half a second however little a test
    wrote. Django's foreign keys there are DEFERRABLE INITIALLY DEFERRED and the
    flush runs in one transaction, so the order of the DELETEs does not matter.
    A flush that resets sequences keeps Django's TRUNCATE ... RESTART IDENTITY."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences,
                            allow_cascade=allow_cascade)
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(t))};"
                for t in tables]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = truncate


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    """Work published on commit runs in the committing thread (still after commit).

    On the embedded default that is Tasks' immediate backend. With Redis
    (``TRIBUNE_REDIS_URL``) it goes through RQ as in production, through our
    ``RetryingRQBackend``, with every RQ queue synchronous (``ASYNC: False``): RQ
    saves the job in Redis and runs it at once in this process. django-rq reads
    ``RQ_QUEUES`` at each ``get_queue``, so the override takes effect.
    """
    if not settings.TRIBUNE_REDIS_URL:
        settings.TASKS = IMMEDIATE_TASKS
        return
    queues = IMMEDIATE_TASKS["default"]["QUEUES"]
    settings.TASKS = {"default": {"BACKEND": "tribune.core.tasks.RetryingRQBackend",
                                  "QUEUES": queues}}
    settings.RQ_QUEUES = {name: {**settings.RQ_QUEUES[name], "ASYNC": False,
                                 "QUEUE_CLASS": _synchronous_queue_class()}
                          for name in queues}


@functools.cache
def _synchronous_queue_class():
    """django-rq's queue class, with a time limit that works in any thread.

    A synchronous RQ queue runs each job's callbacks under RQ's default time limit,
    which sets SIGALRM, and only the main thread may do that; tests that stand for
    a server's request threads enqueue from other threads. RQ's timer-based limit
    works in any thread. (Workers keep the default: each job runs in its own
    process there.)
    """
    from django_rq.queues import DjangoRQ
    from rq.timeouts import TimerDeathPenalty

    class SynchronousQueue(DjangoRQ):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, death_penalty_class=TimerDeathPenalty, **kwargs)

    return SynchronousQueue


@pytest.fixture(autouse=True)
def _redis_emptied(settings):
    """With Redis, each test starts from an empty Redis database: no rate-limit
    counters, cached values, feeds or jobs of an earlier test. This empties the
    whole database that ``TRIBUNE_REDIS_URL`` names (README, Development)."""
    if settings.TRIBUNE_REDIS_URL:
        import redis

        with redis.Redis.from_url(settings.TRIBUNE_REDIS_URL) as client:
            client.flushdb()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request with Accept-Language
    leaves its language active in the thread (LocaleMiddleware does not restore it),
    and later tests would read French messages."""
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_rate_limits(settings, request):
    """Rate limits are tested on their own (marker ``rate_limits``)."""
    if "rate_limits" not in request.keywords:
        settings.TRIBUNE_RATE_LIMITS = False


@pytest.fixture(autouse=True)
def _rate_limit_clock_stands_still(monkeypatch):
    """Rate-limit windows start at multiples of their period, so a test that spends
    a budget as a window ends would see it refilled half-way and fail about once in
    a hundred runs. In this process the counters' clock stands still at the
    test's start; tests that need another instant pass ``now`` themselves."""
    import time
    from types import SimpleNamespace

    start = time.time()
    monkeypatch.setattr("tribune.core.ratelimit.time", SimpleNamespace(time=lambda: start))


@pytest.fixture(autouse=True)
def _no_link_previews(settings):
    """Link previews fetch the linked sites; tests/links turns them on and serves
    the pages on loopback, so no other test reaches the network."""
    settings.TRIBUNE_LINK_PREVIEWS = False


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded and processed files go to a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


_counter = itertools.count(1)


@pytest.fixture
def make_account(db):
    """``make_account("alice", locked=True)``: a local account made by the service."""
    from tribune.accounts.services import account_create

    def make(username: str | None = None, **kwargs: Any):
        username = username or f"user{next(_counter)}"
        return account_create(username=username, email=f"{username}@example.test",
                              password="a-long-test-passphrase", check_password=False, **kwargs)

    return make


class Api:
    """A Django test client speaking to /api/ as one token's holder.

    ``api.get(path, **params)``, ``api.post(path, json=...|data=...)``; each returns
    the response, with ``.json()`` available. Every JSON response is checked against
    the Mastodon OpenAPI schema (tests/mastodon_schema.py) as it arrives, so each
    response the suite sees is validated.
    """

    def __init__(self, token: str | None = None):
        self.client = Client(HTTP_HOST="localhost")
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def _checked(self, method: str, path: str, response):
        if path.startswith("/api/") and response.get("Content-Type", "").startswith("application/json"):
            mastodon_schema.check(method, path.split("?")[0], response.status_code, response.json())
        return response

    def get(self, path: str, params: dict | None = None, **headers):
        return self._checked("GET", path, self.client.get(path, params or {}, **self.headers, **headers))

    def post(self, path: str, json: dict | None = None, data: dict | None = None, **headers):
        if json is not None:
            response = self.client.post(path, jsonlib.dumps(json), content_type="application/json",
                                        **self.headers, **headers)
        else:
            response = self.client.post(path, data or {}, **self.headers, **headers)
        return self._checked("POST", path, response)

    def put(self, path: str, json: dict | None = None, **headers):
        return self._checked("PUT", path, self.client.put(
            path, jsonlib.dumps(json or {}), content_type="application/json", **self.headers, **headers))

    def patch(self, path: str, json: dict | None = None, **headers):
        return self._checked("PATCH", path, self.client.patch(
            path, jsonlib.dumps(json or {}), content_type="application/json", **self.headers, **headers))

    def delete(self, path: str, **headers):
        return self._checked("DELETE", path, self.client.delete(path, **self.headers, **headers))


@pytest.fixture
def api_as(db):
    """``api_as(account, scopes="read write follow push")``: an Api with a fresh token."""
    from tribune.oauth.services import cli_application_get_or_create, token_create

    def make(account=None, scopes: str = "read write follow push") -> Api:
        if account is None:
            return Api()
        token = token_create(user=account.user, application=cli_application_get_or_create(),
                             scopes=scopes.split())
        return Api(token)

    return make


@pytest.fixture
def moderator(make_account):
    """A staff account (``mod``) that may decide cases and review appeals."""
    return make_account("mod", admin=True)


@pytest.fixture
def alice(make_account):
    return make_account("alice", display_name="Alice")


@pytest.fixture
def bob(make_account):
    return make_account("bob", display_name="Bob")


@pytest.fixture
def carol(make_account):
    return make_account("carol", display_name="Carol")
