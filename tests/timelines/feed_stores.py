"""Running services against either feed store: ``using_store("database" | "redis",
settings)``, for a fixture parametrized over both (tests/timelines/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.redis_service import redis_url_or_skip

STORES = ["database", "redis"]


@contextmanager
def using_store(kind: str, settings) -> Iterator[None]:
    """Every service writes to the database feed store, or to the Redis one (the
    run's own, else a local server's: tests/redis_service.py; skipped without one)."""
    from tribune.accounts.models import Account
    from tribune.timelines.feeds import feed_store

    if kind == "database":
        settings.TRIBUNE_REDIS_URL = ""
        yield
        return
    settings.TRIBUNE_REDIS_URL = redis_url_or_skip(settings)
    yield
    # Account ids are unique to the test: only its own feeds go.
    store = feed_store()
    for account_id in Account.objects.values_list("pk", flat=True):
        store.clear(account_id=account_id)
