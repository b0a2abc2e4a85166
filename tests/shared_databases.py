"""Databases migrated once per test run and copied for each pytest-xdist worker.

Migrating a database takes seconds of CPU; copying one does not. With ``-n N`` every
worker would otherwise migrate pytest-django's test database on PostgreSQL for
itself, and the template of ``tests.instances.migrated`` besides. Here the first
worker to need one migrates it under a lock file in the run's temporary directory
(shared by the workers: each one's is a folder of it), the others wait for it, and
each copies it. On PostgreSQL a copy is ``CREATE DATABASE ... TEMPLATE``, which
refuses to run while any other session is connected to the template, so the copies
are made under the same lock and nothing else connects to a template.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

import pytest


def run_folder(config: pytest.Config) -> Path:
    """The folder of this test run that all its processes share: the controller's
    base temporary directory (each xdist worker's is a folder inside it)."""
    base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    return base.parent if hasattr(config, "workerinput") else base


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (made if missing) meanwhile; the
    other processes of the run wait for it."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def template_name(connection) -> str:
    """The name of the migrated template of pytest-django's test database on
    PostgreSQL: the test database's name without the worker's ``_gwN`` suffix, and
    ``_template``."""
    name = connection.creation._get_test_db_name()
    base, _, suffix = name.rpartition("_")
    if base and suffix.startswith("gw") and suffix[2:].isdigit():
        name = base
    return f"{name}_template"


def test_database_from_template(connection, *, folder: Path, verbosity: int) -> None:
    """Make this worker's test database on PostgreSQL a copy of the run's migrated
    template (made first, by migrating, if no worker has made it yet) and point
    ``connection`` at it, as Django's ``create_test_db`` leaves it."""
    from django.conf import settings

    worker_database = connection.creation._get_test_db_name()
    template = template_name(connection)
    test_settings = connection.settings_dict["TEST"]
    ready = folder / f"{template}.ready"
    quote = connection.ops.quote_name
    with locked(folder / f"{template}.lock"):
        if not ready.exists():
            test_settings["NAME"] = template
            try:
                connection.creation.create_test_db(verbosity=verbosity, autoclobber=True,
                                                   serialize=False)
            finally:
                test_settings["NAME"] = worker_database
            connection.close()
            connection.close_pool()
            ready.touch()
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(worker_database)} WITH (FORCE)")
            cursor.execute(f"CREATE DATABASE {quote(worker_database)} TEMPLATE {quote(template)}")
    connection.close()
    connection.close_pool()
    settings.DATABASES[connection.alias]["NAME"] = worker_database
    connection.settings_dict["NAME"] = worker_database
    connection.ensure_connection()


def drop_template(connection) -> None:
    """Drop the run's template (see :func:`test_database_from_template`), if made;
    at the end of the run, when no worker uses it any more."""
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute(
            f"DROP DATABASE IF EXISTS {connection.ops.quote_name(template_name(connection))} "
            "WITH (FORCE)")
