"""Small helpers for reading ``TRIBUNE_*`` settings from the environment."""

from __future__ import annotations

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool) -> bool:
    """``name`` read as a boolean: 1/true/yes/on are true, 0/false/no/off false.
    Raises ImproperlyConfigured naming the variable for anything else."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be on or off (1/0, true/false, yes/no); got {raw!r}")


def env_int(name: str, default: int) -> int:
    """``name`` read as an integer; raises ImproperlyConfigured naming the variable
    if it is not one."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {raw!r}") from None


def env_networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``name`` read as comma-separated IP addresses or CIDR networks (``10.0.0.0/8,
    ::1``); an address is a network of one. Empty or unset is ``()``. Raises
    ImproperlyConfigured naming the variable for an entry that is neither, or a
    network with host bits set (``10.0.0.5/8``: probably not what was meant)."""
    networks = []
    for entry in os.environ.get(name, "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be comma-separated IP addresses or CIDR networks, "
                f"like 10.0.0.0/8,::1; got {entry!r}") from None
    return tuple(networks)


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity where the system tells it,
    else the machine's count), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def split_host(host: str) -> str:
    """The host part of ``host[:port]`` (IPv6 literals in brackets are unwrapped)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1, with or without a port."""
    name = split_host(host)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def database_settings(url: str, *, default_path) -> dict:
    """Django's ``DATABASES["default"]`` for ``TRIBUNE_DATABASE_URL``.

    ``""`` is the embedded default: SQLite at ``default_path``. A ``sqlite:///path``
    URL is SQLite elsewhere; ``postgres://`` (or ``postgresql://``) is PostgreSQL
    through psycopg 3 with Django's connection pool (``?pool_max=N`` sets its size,
    default 10 per process, at least 1). SQLite is tuned for several processes
    sharing one file: WAL, ``synchronous=NORMAL``, a busy timeout and IMMEDIATE write
    transactions (docs/adr/0002-sqlite-default.md, docs/adr/0011-scale-out.md). Raises
    ImproperlyConfigured for any other scheme, an unparsable URL, a bad pool_max or a
    SQLite URL without a file (``sqlite://``, ``sqlite://:memory:``).
    """
    from urllib.parse import parse_qs, urlsplit

    import dj_database_url

    url = url.strip()
    if not url:
        url = f"sqlite:///{default_path}"
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        config = dj_database_url.parse(url)
        if config.get("NAME") in (None, "", ":memory:"):
            # dj_database_url reads both as an in-memory database: each process
            # would have its own, lost when it ends.
            raise ImproperlyConfigured(
                "TRIBUNE_DATABASE_URL: a sqlite URL needs a file, like "
                "sqlite:////srv/tribune/db.sqlite3 (an in-memory database is not kept)")
        config.update({
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-20000;"
                ),
            },
            "CONN_MAX_AGE": None,
            "CONN_HEALTH_CHECKS": True,
        })
        return config
    if scheme in ("postgres", "postgresql", "pgsql"):
        query = parse_qs(urlsplit(url).query)
        try:
            pool_max = int(query.pop("pool_max", ["10"])[0])
        except ValueError:
            raise ImproperlyConfigured("TRIBUNE_DATABASE_URL: pool_max must be an integer") from None
        if pool_max < 1:
            # psycopg_pool would refuse it later with a ValueError (max_size < min_size).
            raise ImproperlyConfigured(
                f"TRIBUNE_DATABASE_URL: pool_max must be at least 1; got {pool_max}")
        base = url.split("?", 1)[0]
        try:
            config = dj_database_url.parse(base)
        except ValueError as exc:
            raise ImproperlyConfigured(f"TRIBUNE_DATABASE_URL is not a database URL: {exc}") from None
        if not config.get("NAME"):
            raise ImproperlyConfigured("TRIBUNE_DATABASE_URL must name a database, "
                                       "like postgres://user@host:5432/tribune")
        # Connections are pooled in each process (psycopg_pool), so they are not kept
        # per request (CONN_MAX_AGE must be 0 with a pool).
        config["CONN_MAX_AGE"] = 0
        # The other parameters are libpq's (sslmode, sslrootcert, connect_timeout,
        # application_name, ...), passed on to every connection; an unknown one is
        # refused by the start-up connection check with libpq's own message.
        config["OPTIONS"] = {**{name: values[-1] for name, values in query.items()},
                             "pool": {"min_size": 1, "max_size": pool_max, "timeout": 10}}
        return config
    raise ImproperlyConfigured(
        f"TRIBUNE_DATABASE_URL must be a postgres:// or sqlite:/// URL; got scheme {scheme!r}")


def dev_peers(raw: str, *, debug: bool) -> dict[str, tuple[str, int]]:
    """``TRIBUNE_DEV_PEERS`` (``a.test=127.0.0.2:8001,b.test=127.0.0.3:8002``) as
    ``{domain: (loopback address, port)}``: instances on one machine that federate
    with each other over plain HTTP while their ids keep ``https://DOMAIN/``.

    Empty or unset is ``{}``. Raises ImproperlyConfigured, in one line, when it is
    set without ``debug`` (it opens loopback addresses to outbound fetches), and
    for an entry that is not ``domain=address:port`` with a loopback address.
    """
    peers: dict[str, tuple[str, int]] = {}
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    if entries and not debug:
        raise ImproperlyConfigured(
            "TRIBUNE_DEV_PEERS is for development only and needs TRIBUNE_DEBUG=1")
    for entry in entries:
        domain, _eq, address = entry.partition("=")
        domain = domain.strip().lower().rstrip(".")
        host, _colon, port = address.strip().rpartition(":")
        host = host.strip("[]")
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not domain or ":" in domain or "/" in domain or not loopback \
                or not port.isdigit() or not 0 < int(port) < 65536:
            raise ImproperlyConfigured(
                f"TRIBUNE_DEV_PEERS must be comma-separated domain=address:port entries "
                f"with loopback addresses, like a.test=127.0.0.2:8001; got {entry!r}")
        peers[domain] = (host, int(port))
    return peers
