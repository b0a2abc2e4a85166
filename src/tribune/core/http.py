"""Outbound HTTP that cannot be turned against the server (SSRF-safe fetching).

Everything Tribune fetches from addresses that users or remote servers name (link
previews now, federation later) goes through :func:`fetch`:

* only ``http`` and ``https`` URLs;
* the host is resolved once, every address it resolves to is checked, and the
  connection goes to the checked address (the request keeps the name in ``Host``
  and, for TLS, in SNI and certificate checks), so a second DNS answer cannot
  swap in an internal address between the check and the connection;
* loopback, private, link-local (169.254.0.0/16, fe80::/10), multicast,
  reserved, unspecified and shared (CGNAT, 100.64.0.0/10) addresses are refused,
  as are IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``,
  IPv4-compatible, 6to4, Teredo, NAT64) and the extra ranges requests-hardened
  blocks;
* at most three redirects are followed, each checked like the first request;
* a whole fetch takes at most a few seconds and reads at most a bounded number of
  bytes (after decompression), stopping as soon as it has read past the limit;
* proxies and ``.netrc`` from the environment are ignored.

In development, ``TRIBUNE_DEV_PEERS`` names instances on this machine: a URL on
one of their domains is fetched over plain HTTP from its loopback address and
port (keeping the domain in ``Host``), and only those addresses and ports pass
the check above; the setting needs ``TRIBUNE_DEBUG`` (``core.conf.dev_peers``).

The pinning follows requests-hardened's ``IPFilterAdapter``; it is done here rather
than with that adapter because operators need a per-host allow-list
(``TRIBUNE_FETCH_ALLOW_HOSTS``, ``host`` or ``host:port``, comma-separated) to
reach named internal hosts, and because the checks above are broader than its own.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES
from urllib3.util.connection import allowed_gai_family

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 3
DEFAULT_MAX_BYTES = 1_000_000
DEFAULT_TIMEOUT = 5.0  # seconds for the whole fetch, redirects included
CONNECT_TIMEOUT = 3.0
CHUNK = 16_384
SCHEMES = ("http", "https")
REDIRECT_CODES = (301, 302, 303, 307, 308)

# Ranges Python's ``is_global`` may miss on some versions, beside requests-hardened's.
_BLOCKED_NETWORKS = (
    *EXTRA_BLOCKED_NET_RANGES,
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("::/96"),  # IPv4-compatible (deprecated) and ::, ::1
    ipaddress.ip_network("2001::/32"),  # Teredo
    ipaddress.ip_network("fec0::/10"),  # site-local (deprecated)
)


class FetchError(Exception):
    """A fetch failed or was refused; the message says why (for logs, not users)."""


class BlockedAddress(FetchError):
    """The URL's host is, or resolves to, an address Tribune must not reach."""


@dataclass(frozen=True)
class Fetched:
    """One fetched response.

    ``url`` is the final URL after redirects; ``content`` at most the fetch's
    ``max_bytes`` of the decoded body; ``truncated`` is true when the body was
    longer and reading stopped there.
    """

    url: str
    status: int
    headers: Mapping[str, str] = field(repr=False)
    content: bytes = field(repr=False)
    truncated: bool = False

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters (``text/html``)."""
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of Content-Type, if any."""
        for part in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


def address_refused(ip: IPAddress) -> bool:
    """True if ``ip`` is not a public unicast address Tribune may connect to.

    IPv6 addresses that embed an IPv4 address (IPv4-mapped) are judged by the IPv4
    address; other translation forms (6to4, Teredo, NAT64, IPv4-compatible) are
    refused outright, since where they lead depends on the network.
    """
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        not ip.is_global
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or any(ip.version == net.version and ip in net for net in _BLOCKED_NETWORKS)
    )


def _allow_list() -> set[tuple[str, int | None]]:
    """``TRIBUNE_FETCH_ALLOW_HOSTS`` as (host, port or None) pairs, hosts lower case."""
    configured: str | Iterable[str] = getattr(settings, "TRIBUNE_FETCH_ALLOW_HOSTS", ())
    if isinstance(configured, str):
        configured = configured.split(",")
    allowed = set()
    for entry in configured:
        entry = entry.strip().lower()
        if not entry:
            continue
        parts = urlsplit(f"//{entry}")
        try:
            port = parts.port
        except ValueError:
            continue
        if parts.hostname:
            allowed.add((parts.hostname, port))
    return allowed


def dev_peer(host: str) -> tuple[str, int] | None:
    """The ``(loopback address, port)`` that ``TRIBUNE_DEV_PEERS`` gives the domain
    ``host``, or None (always None outside development)."""
    peers: Mapping[str, tuple[str, int]] = getattr(settings, "TRIBUNE_DEV_PEERS", {}) or {}
    return peers.get(host.strip("[]").lower().rstrip("."))


def _is_dev_peer_address(host: str, port: int) -> bool:
    peers: Mapping[str, tuple[str, int]] = getattr(settings, "TRIBUNE_DEV_PEERS", {}) or {}
    return (host.strip("[]").lower(), port) in peers.values()


def host_allowed(host: str, port: int) -> bool:
    """True if the operator named ``host`` (any port) or ``host:port`` in
    ``TRIBUNE_FETCH_ALLOW_HOSTS``, or ``host:port`` is a development peer's
    address; such hosts may resolve to internal addresses."""
    host = host.strip("[]").lower().rstrip(".")
    allowed = _allow_list()
    return (host, None) in allowed or (host, port) in allowed or _is_dev_peer_address(host, port)


def resolve(host: str, port: int) -> IPAddress:
    """The address to connect to for ``host``: the first it resolves to, after every
    address it resolves to has been checked.

    Raises BlockedAddress if any of them is refused (unless the host is allowed)
    and FetchError if the name does not resolve.
    """
    bare = host.strip("[]")
    try:
        infos = socket.getaddrinfo(bare, port, family=allowed_gai_family(),
                                   type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {bare!r}: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos
                 if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not addresses:
        raise FetchError(f"no address for {bare!r}")
    if not host_allowed(bare, port):
        for ip in addresses:
            if address_refused(ip):
                raise BlockedAddress(f"{bare!r} resolves to a refused address ({ip})")
    return addresses[0]


class PinnedAdapter(HTTPAdapter):
    """Connects to the address :func:`resolve` checked, not to a fresh lookup.

    The connection pool is keyed by that address; the request keeps the host name
    in ``Host`` and, over TLS, in SNI and the certificate check (requests-hardened's
    technique, see its ``IPFilterAdapter``).
    """

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert)
        hostname, scheme = host_params["host"], host_params["scheme"]
        port = host_params["port"] or (443 if scheme == "https" else 80)
        ip = resolve(hostname, port)
        request.headers = CaseInsensitiveDict(request.headers or {})
        name = f"[{hostname}]" if ":" in hostname else hostname
        if not ("Host" in request.headers and _is_dev_peer_address(hostname, port)):
            # A development peer is addressed by IP; its Host is the peer's domain.
            request.headers["Host"] = name if host_params["port"] is None else f"{name}:{port}"
        if scheme == "https":
            pool_kwargs["assert_hostname"] = hostname
            pool_kwargs["server_hostname"] = hostname
        host_params["host"] = f"[{ip}]" if ip.version == 6 else str(ip)
        return host_params, pool_kwargs


def user_agent() -> str:
    """``Tribune/<version> (+https://<instance>/)``: who is fetching, for the
    fetched site's operator."""
    try:
        version = metadata.version("tribune")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"Tribune/{version} (+{settings.TRIBUNE_BASE_URL}/)"


def session() -> requests.Session:
    """A requests session whose every connection is checked and pinned.

    It sets no redirect, time or size limits of its own: use :func:`fetch`, or set
    ``allow_redirects=False`` and a ``timeout`` on each call.
    """
    s = requests.Session()
    s.trust_env = False  # no proxies or .netrc from the environment
    s.max_redirects = MAX_REDIRECTS
    s.headers["User-Agent"] = user_agent()
    s.mount("http://", PinnedAdapter())
    s.mount("https://", PinnedAdapter())
    return s


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise FetchError(f"invalid URL {url!r}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise BlockedAddress(f"scheme {parts.scheme!r} is not fetched")
    if not parts.hostname:
        raise FetchError(f"no host in {url!r}")


def _route(url: str, headers: dict[str, str]) -> str:
    """The URL to connect to for ``url``: itself, or for a development peer's
    domain the same path over plain HTTP at the peer's address, with ``Host``
    set in ``headers`` to the domain."""
    parts = urlsplit(url)
    peer = dev_peer(parts.hostname or "")
    if peer is None:
        return url
    address, port = peer
    host = f"[{address}]" if ":" in address else address
    headers["Host"] = parts.netloc.rpartition("@")[2]
    return urlunsplit(("http", f"{host}:{port}", parts.path or "/", parts.query, ""))


Signer = Callable[[str, str, dict[str, str], bytes | None], dict[str, str]]


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    truncate: bool = False,
    sign: Signer | None = None,
) -> Fetched:
    """Fetch ``url`` safely and return the response, whatever its status code.

    GET and HEAD follow at most three redirects, each checked as the first
    request was. ``timeout`` (seconds) bounds the whole fetch; ``max_bytes`` the
    decoded body: past it the fetch fails, or with ``truncate`` stops reading and
    returns the first ``max_bytes`` (enough for a page's ``<head>``).

    ``sign(method, url, headers, data)``, when given, returns each hop's
    headers signed for that hop's URL (HTTP Signatures cover the request
    target, so a redirect is signed anew).

    Raises BlockedAddress for a refused scheme or address (before any connection
    to it) and FetchError for everything else: too many redirects, too large,
    too slow, unreachable.
    """
    deadline = time.monotonic() + timeout
    method = method.upper()
    with session() as s:
        for _hop in range(MAX_REDIRECTS + 1):
            _check_url(url)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError(f"timed out fetching {url!r}")
            hop_headers = dict(headers or {})
            if sign is not None:
                hop_headers = sign(method, url, hop_headers, data)
            target = _route(url, hop_headers)
            try:
                response = s.request(method, target, headers=hop_headers, data=data,
                                     stream=True, allow_redirects=False,
                                     timeout=(min(CONNECT_TIMEOUT, remaining), remaining))
            except FetchError:
                raise
            except (requests.RequestException, OSError, ValueError) as exc:
                raise FetchError(f"cannot fetch {url!r}: {exc}") from None
            with response:
                location = response.headers.get("Location")
                if (response.status_code in REDIRECT_CODES and location
                        and method in ("GET", "HEAD")):
                    url = urljoin(url, location)
                    continue
                content, truncated = _read(response, max_bytes=max_bytes,
                                           deadline=deadline, truncate=truncate)
                return Fetched(url=url, status=response.status_code,
                               headers=CaseInsensitiveDict(response.headers),
                               content=content, truncated=truncated)
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _read(response: requests.Response, *, max_bytes: int, deadline: float,
          truncate: bool) -> tuple[bytes, bool]:
    """At most ``max_bytes`` of the decoded body and whether more was there."""
    declared = response.headers.get("Content-Length", "")
    if not truncate and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"body of {declared} bytes is over {max_bytes}")
    body = bytearray()
    try:
        # ``read1`` returns what one read of the socket brings, so the deadline is
        # checked as each piece arrives: a peer trickling a byte at a time cannot
        # hold the fetch past it (``iter_content`` waits for a whole chunk).
        while chunk := response.raw.read1(CHUNK, decode_content=True):
            body += chunk
            if len(body) > max_bytes:
                if not truncate:
                    raise FetchError(f"body is over {max_bytes} bytes")
                return bytes(body[:max_bytes]), True
            if time.monotonic() > deadline:
                raise FetchError("timed out reading the body")
    except (requests.RequestException, OSError) as exc:
        raise FetchError(f"cannot read the body: {exc}") from None
    return bytes(body), False
