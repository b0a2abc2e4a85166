"""HTTP Signatures as Mastodon makes and checks them (docs/adr/0023).

The draft-cavage scheme (draft-cavage-http-signatures-12), with Mastodon's rules
(docs: spec/security.md; app/controllers/concerns/signature_verification.rb):

* the ``Signature`` header carries ``keyId``, ``algorithm``, ``headers`` and
  ``signature``; ``rsa-sha256`` is RSASSA-PKCS1-v1_5 over SHA-256, and ``hs2019``
  (the draft's "derive it from the key") is taken as the same, as Mastodon does;
* the signing string is one ``name: value`` line per signed header, in the order
  ``headers`` lists them, ``(request-target)`` being ``method path?query``;
* a request must sign ``(request-target)``, ``host`` and ``date``, and ``digest``
  when it has a body, whose ``Digest: SHA-256=<base64>`` must match the body;
* ``Date`` may be at most 12 hours away from now, either way; a ``created``
  parameter more than an hour ahead, or an ``expires`` in the past, is refused.

Pure functions over bytes and header mappings: no database, no network.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

DATE_WINDOW = timedelta(hours=12)  # Mastodon's EXPIRATION_WINDOW_LIMIT
CLOCK_SKEW = timedelta(hours=1)  # Mastodon's CLOCK_SKEW_MARGIN, for ``created``
ALGORITHMS = ("rsa-sha256", "hs2019")
REQUIRED = ("(request-target)", "host", "date")
MAX_HEADER = 8192  # longer Signature headers are refused before parsing

_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([0-9]+))\s*(?:,|$)')


class SignatureError(Exception):
    """A request's signature is missing, malformed, too weak, out of date, or
    does not match; the message says which, for the sender and the logs."""


class SignatureMismatch(SignatureError):
    """The signature does not verify with the key given: the only failure that a
    newer copy of the key could change."""


@dataclass(frozen=True)
class SignatureParams:
    """The parsed ``Signature`` header (draft-cavage-http-signatures-12 §2.1)."""

    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes
    created: int | None = None
    expires: int | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """``name``'s value in ``headers``, whatever the case of the keys."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def parse_signature(value: str) -> SignatureParams:
    """The parameters of a ``Signature`` header value (draft-cavage-12 §2.1).

    ``algorithm`` defaults to ``rsa-sha256`` and ``headers`` to ``date`` (both as
    Mastodon reads them). Raises SignatureError for a malformed value, a missing
    ``keyId`` or ``signature``, or an algorithm other than rsa-sha256 and hs2019.
    """
    if len(value) > MAX_HEADER:
        raise SignatureError("the Signature header is too long")
    params: dict[str, str] = {}
    position = 0
    value = value.strip()
    while position < len(value):
        match = _PARAM.match(value, position)
        if match is None or match.end() == position:
            raise SignatureError("the Signature header is malformed")
        name = match.group(1)
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
    if not params.get("keyId"):
        raise SignatureError("the Signature header has no keyId")
    if not params.get("signature"):
        raise SignatureError("the Signature header has no signature")
    algorithm = params.get("algorithm", "rsa-sha256").lower()
    if algorithm not in ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the signature is not base64") from None
    names = tuple(params.get("headers", "date").lower().split())
    try:
        created = int(params["created"]) if "created" in params else None
        expires = int(params["expires"]) if "expires" in params else None
    except ValueError:
        raise SignatureError("created and expires must be integers") from None
    return SignatureParams(key_id=params["keyId"], algorithm=algorithm, headers=names,
                           signature=signature, created=created, expires=expires)


def digest(body: bytes) -> str:
    """The ``Digest`` header value for ``body``: ``SHA-256=<base64>`` (RFC 3230,
    as Mastodon sends and requires it)."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def _check_digest(value: str | None, body: bytes) -> None:
    """Raise SignatureError unless the ``Digest`` header has a SHA-256 value equal
    to the body's. Other algorithms beside it are ignored (Mastodon's
    verify_body_digest!)."""
    if value is None:
        raise SignatureError("the Digest header is missing")
    offered = {}
    for item in value.split(","):
        algorithm, _eq, encoded = item.strip().partition("=")
        offered[algorithm.strip().lower()] = encoded.strip()
    if "sha-256" not in offered:
        raise SignatureError("the Digest header has no SHA-256 value")
    expected = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    if offered["sha-256"] != expected:
        raise SignatureError("the Digest header does not match the body")


def signing_string(*, method: str, target: str, headers: Mapping[str, str],
                   signed: tuple[str, ...], created: int | None = None,
                   expires: int | None = None) -> bytes:
    """The string a signature covers (draft-cavage-12 §2.3): ``name: value`` per
    name in ``signed``, joined by newlines; ``(request-target)`` is the lower-case
    method, a space and ``target`` (path and query). Raises SignatureError when a
    signed header is absent."""
    lines = []
    for name in signed:
        if name == "(request-target)":
            value = f"{method.lower()} {target}"
        elif name == "(created)" and created is not None:
            value = str(created)
        elif name == "(expires)" and expires is not None:
            value = str(expires)
        else:
            found = _header(headers, name)
            if found is None:
                raise SignatureError(f"the signed header {name!r} is missing")
            value = found.strip()
        lines.append(f"{name}: {value}")
    return "\n".join(lines).encode("utf-8")


def _public_key(pem: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeError, UnsupportedAlgorithm):
        raise SignatureError("the key is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("the key is not an RSA key")
    return key


def _check_time(params: SignatureParams, headers: Mapping[str, str], now: datetime) -> None:
    raw_date = _header(headers, "date")
    if raw_date is None:
        raise SignatureError("the Date header is missing")
    try:
        sent = parsedate_to_datetime(raw_date)
    except (TypeError, ValueError, IndexError):
        raise SignatureError("the Date header is not an HTTP date") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    if abs(now - sent) > DATE_WINDOW:
        raise SignatureError("the Date header is more than 12 hours away from now")
    if params.created is not None and params.created > (now + CLOCK_SKEW).timestamp():
        raise SignatureError("the signature was created in the future")
    if params.expires is not None and params.expires < now.timestamp():
        raise SignatureError("the signature has expired")


def verify_request(*, method: str, target: str, headers: Mapping[str, str],
                   body: bytes | None, public_key_pem: str,
                   params: SignatureParams | None = None,
                   now: datetime | None = None) -> SignatureParams:
    """Check a signed request's ``Signature`` header with ``public_key_pem`` and
    return its parameters (draft-cavage-http-signatures-12 §2.5; Mastodon's
    spec/security.md).

    ``target`` is the request's path with its query; ``body`` is None or ``b""``
    for a request without one. The signature must cover ``(request-target)``,
    ``host`` and ``date``, and ``digest`` when there is a body, whose ``Digest``
    must match it; ``Date`` must be within 12 hours of ``now``. Raises
    SignatureMismatch when the signature does not verify with the key, and
    SignatureError for every other failure (checked first: they need no key).
    """
    if params is None:
        raw = _header(headers, "signature")
        if raw is None:
            raise SignatureError("the request is not signed (no Signature header)")
        params = parse_signature(raw)
    required = REQUIRED + (("digest",) if body else ())
    for name in required:
        if name not in params.headers:
            raise SignatureError(f"the signature must cover {name!r}")
    _check_time(params, headers, now or datetime.now(UTC))
    if "digest" in params.headers or body:
        _check_digest(_header(headers, "digest"), body or b"")
    message = signing_string(method=method, target=target, headers=headers,
                             signed=params.headers, created=params.created,
                             expires=params.expires)
    try:
        _public_key(public_key_pem).verify(params.signature, message, padding.PKCS1v15(),
                                           hashes.SHA256())
    except InvalidSignature:
        raise SignatureMismatch("the signature does not match the key") from None
    return params


@functools.lru_cache(maxsize=1024)
def _private_key(pem: str) -> rsa.RSAPrivateKey:
    """The RSA key of ``pem``, loaded once per process: loading checks the key,
    which costs about a hundred times the signature it is loaded for (40 ms
    against 0.4 ms for RSA-2048), and a server signs with the same few keys."""
    private = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ValueError("only RSA keys sign requests")
    return private


def sign_request(*, method: str, url: str, headers: Mapping[str, str] | None = None,
                 body: bytes | None = None, key_id: str, private_key_pem: str,
                 now: datetime | None = None) -> dict[str, str]:
    """The headers of a request to ``url`` signed as Mastodon signs
    (draft-cavage-http-signatures-12; Mastodon's spec/security.md): ``headers``
    plus ``Host``, ``Date`` (now, as an HTTP date), for a body ``Digest``
    (``SHA-256=...``), and ``Signature`` with ``rsa-sha256`` over
    ``(request-target) host date``, then ``digest`` and ``content-type`` when
    present."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    signed_headers = dict(headers or {})
    signed_headers["Host"] = parts.netloc
    signed_headers["Date"] = format_datetime(now or datetime.now(UTC), usegmt=True)
    names = ["(request-target)", "host", "date"]
    if body:
        signed_headers["Digest"] = digest(body)
        names.append("digest")
        if _header(signed_headers, "content-type") is not None:
            names.append("content-type")
    message = signing_string(method=method, target=target, headers=signed_headers,
                             signed=tuple(names))
    private = _private_key(private_key_pem)
    signature = base64.b64encode(private.sign(message, padding.PKCS1v15(), hashes.SHA256()))
    signed_headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{signature.decode("ascii")}"')
    return signed_headers


def signature_key_id(headers: Mapping[str, str]) -> str:
    """The ``keyId`` of a request's ``Signature`` header; SignatureError when the
    request is not signed or the header is malformed."""
    raw = _header(headers, "signature")
    if raw is None:
        raise SignatureError("the request is not signed (no Signature header)")
    return parse_signature(raw).key_id
