"""Federation's one way out: every request Tribune makes to another server goes
through here (docs/adr/0023).

Both calls ride on ``core.http.fetch``, the SSRF-safe client (every address
checked and pinned, loopback, private, link-local, CGNAT, IPv4-mapped and
unspecified addresses refused, at most three redirects each checked again, a
deadline and a size limit), with what federation adds: ``Accept`` for
ActivityStreams, responses read only when their type is one (so an upload served
as ``image/png`` never poses as a post or an actor), JSON of at most 1 MiB, and
requests signed with an actor's key (HTTP Signatures; a fetch is signed anew at
each redirect). ``TRIBUNE_DEV_PEERS`` reaches instances on this machine in
development (``core.http``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tribune.accounts.models import Account
from tribune.core.http import BlockedAddress, FetchError, fetch
from tribune.federation import documents
from tribune.federation.keys import actor_key_get_or_create
from tribune.federation.negotiation import is_activitystreams_type
from tribune.federation.signatures import sign_request

ACCEPT = ('application/activity+json, '
          'application/ld+json; profile="https://www.w3.org/ns/activitystreams"')
MAX_DOCUMENT_BYTES = 1024 * 1024  # JSON documents and activities
FETCH_TIMEOUT = 10.0  # seconds for a whole fetch, redirects included
DELIVERY_TIMEOUT = 15.0


class FederationRequestError(Exception):
    """A request to another server failed. ``temporary`` is true when trying again
    later may succeed (unreachable, too slow, 429 or 5xx), false when the answer
    was final (refused address, 4xx, not an ActivityStreams document).
    ``status`` is the HTTP status of the answer when there was one."""

    def __init__(self, message: str, *, temporary: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.status = status


@dataclass(frozen=True)
class Signer:
    """Signs requests as one actor: its key's id and private key (PEM)."""

    key_id: str
    private_key_pem: str

    def __call__(self, method: str, url: str, headers: dict[str, str],
                 body: bytes | None) -> dict[str, str]:
        return sign_request(method=method, url=url, headers=headers, body=body,
                            key_id=self.key_id, private_key_pem=self.private_key_pem)


def account_signer(account: Account) -> Signer:
    """A signer for the local ``account``, with its key (made if it has none)."""
    key = actor_key_get_or_create(account=account)
    return Signer(key_id=documents.key_id(account), private_key_pem=key.private_key_pem)


@dataclass(frozen=True)
class FetchedDocument:
    """An ActivityStreams document and the URL it was served from, after redirects."""

    url: str
    document: dict[str, Any]


def _temporary(status: int) -> bool:
    return status == 429 or status >= 500


def get_document(url: str, *, signer: Signer | None = None) -> FetchedDocument:
    """GET the ActivityStreams document at ``url``, signed by ``signer`` when given
    (Mastodon's authorized fetch).

    Raises FederationRequestError unless the answer is a 200 with an
    ActivityStreams ``Content-Type`` and a JSON object of at most 1 MiB.
    """
    try:
        response = fetch(url, headers={"Accept": ACCEPT}, max_bytes=MAX_DOCUMENT_BYTES,
                         timeout=FETCH_TIMEOUT, sign=signer)
    except BlockedAddress as error:
        raise FederationRequestError(str(error), temporary=False) from None
    except FetchError as error:
        raise FederationRequestError(str(error), temporary=True) from None
    if response.status != 200:
        raise FederationRequestError(f"{url} answered {response.status}",
                                     temporary=_temporary(response.status),
                                     status=response.status)
    if not is_activitystreams_type(response.headers.get("Content-Type")):
        raise FederationRequestError(
            f"{response.url} is not an ActivityStreams document "
            f"({response.content_type or 'no type'})", temporary=False)
    try:
        document = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise FederationRequestError(f"{response.url} is not JSON", temporary=False) from None
    if not isinstance(document, dict):
        raise FederationRequestError(f"{response.url} is not a JSON object", temporary=False)
    return FetchedDocument(url=response.url, document=document)


def get_object(url: str, *, signer: Signer | None = None) -> FetchedDocument:
    """GET the object at ``url`` (``get_document``) and make sure it is the one its
    ``id`` names: served at exactly that address, after redirects. When it was
    served elsewhere, its ``id`` is fetched once more, on ``url``'s host only, and
    must be served there under the same ``id`` (Mastodon's FetchResourceService;
    ../shared/cases FED-02: a redirect to an upload, or another path of the host,
    must not pass for the object). Raises FederationRequestError otherwise."""
    fetched = get_document(url, signer=signer)
    claimed = fetched.document.get("id")
    if claimed == fetched.url:
        return fetched
    if not isinstance(claimed, str) or urlsplit(claimed).hostname != urlsplit(url).hostname:
        raise FederationRequestError(f"{claimed!r} was served by another host "
                                     f"({urlsplit(fetched.url).hostname})", temporary=False)
    again = get_document(claimed, signer=signer)
    if again.document.get("id") != claimed or again.url != claimed:
        raise FederationRequestError(f"{claimed} is not served at its own address",
                                     temporary=False)
    return again


def post_activity(inbox: str, activity: dict[str, Any], *, signer: Signer) -> int:
    """POST ``activity`` to ``inbox``, signed by ``signer``, and return the status
    code (2xx). Raises FederationRequestError for any other answer or failure;
    redirects are not followed."""
    body = json.dumps(activity, ensure_ascii=False).encode("utf-8")
    try:
        response = fetch(inbox, method="POST", data=body, max_bytes=64 * 1024,
                         truncate=True, timeout=DELIVERY_TIMEOUT, sign=signer,
                         headers={"Content-Type": "application/activity+json",
                                  "Accept": ACCEPT})
    except BlockedAddress as error:
        raise FederationRequestError(str(error), temporary=False) from None
    except FetchError as error:
        raise FederationRequestError(str(error), temporary=True) from None
    if not 200 <= response.status < 300:
        raise FederationRequestError(f"{inbox} answered {response.status}",
                                     temporary=_temporary(response.status))
    return response.status
