"""Services of their own for each pytest-xdist worker (``-n N``), loaded early with
``-p tests.xdist_services`` (as ``.ci/run`` does).

Each test empties the Redis database it uses before it starts (tests/conftest.py),
so two workers sharing one would empty it under each other. Worker ``gwK`` uses the
database K numbers after the one named: ``TRIBUNE_REDIS_URL=redis://host/9`` gives
``gw0`` database 9 and ``gw1`` database 10; the local database of the SQLite run
(tests/redis_service.py) moves the same way. pytest-django gives each worker a test
database of its own already (``test_tribune_gw0``, ...).

This must run before Django reads its settings, which pytest-django does while
pytest starts, hence a plugin module rather than a fixture.

Each worker after the first also gets a data directory of its own
(``TRIBUNE_DATA_DIR``/gwK): media files, and the password-hashing slots that the
processes of one data directory share on a machine (tribune.core.capacity), so
that a test occupying them does not make the other worker's sign-ups busy.
"""

from __future__ import annotations

import os
import re

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
INDEX = int(_worker[2:]) if re.fullmatch(r"gw\d+", _worker) else 0


def shifted(url: str) -> str:
    """``url`` with its database number moved by this worker's index; a URL without
    one (database 0) gets ``/INDEX``."""
    if not INDEX:
        return url
    match = re.fullmatch(r"(redis://[^/?#]*)(?:/(\d*))?(\?.*)?", url)
    if match is None:
        return url
    base, number, query = match.groups()
    return f"{base}/{int(number or 0) + INDEX}{query or ''}"


if os.environ.get("TRIBUNE_REDIS_URL"):
    os.environ["TRIBUNE_REDIS_URL"] = shifted(os.environ["TRIBUNE_REDIS_URL"])

if INDEX:
    os.environ["TRIBUNE_DATA_DIR"] = os.path.join(os.environ.get("TRIBUNE_DATA_DIR") or "var",
                                                  _worker)
