"""Remote actors: fetched through ``client``, checked, and stored as an
``accounts.Account`` with ``domain`` set plus a ``RemoteActor`` row (key, inboxes,
followers); and the key that a signature's ``keyId`` names (docs/adr/0023).

Rules (ActivityPub §4.1; Mastodon's ActivityPub::FetchRemoteActorService and
FetchRemoteKeyService): the document's ``id`` must be on the host it was finally
served from (after redirects), its type an actor type, its ``publicKey`` owned by
it (``owner`` equal to ``id``) and on the same host. A ``keyId`` that is not the
actor's own URL with a fragment names a key document (or, as GoToSocial serves
it, a stub of the actor), whose ``owner``'s actor must list that key back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone

from tribune.accounts.services import account_remote_upsert
from tribune.core.errors import DomainError
from tribune.federation.client import (
    FederationRequestError,
    Signer,
    get_document,
    get_object,
)
from tribune.federation.models import RemoteActor
from tribune.media.remote import account_remote_images_set

logger = logging.getLogger(__name__)

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
BOT_TYPES = frozenset({"Service", "Application"})


class ActorError(Exception):
    """An actor or key could not be had; ``temporary`` when fetching it again
    later may succeed (the server was unreachable or overloaded)."""

    def __init__(self, message: str, *, temporary: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary


@dataclass(frozen=True)
class ActorData:
    """What Tribune keeps of an actor document, checked."""

    uri: str
    domain: str
    username: str
    display_name: str
    note_html: str
    url: str
    locked: bool
    bot: bool
    key_id: str
    public_key_pem: str
    inbox: str
    shared_inbox: str
    followers_url: str
    also_known_as: tuple[str, ...] = ()
    moved_to: str = ""
    avatar_url: str = ""
    header_url: str = ""
    outbox_url: str = ""
    following_url: str = ""


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc.rpartition("@")[2].lower()
    except ValueError:
        return ""


def _http_url(value: Any) -> str:
    """``value`` if it is an http(s) URL with a host, else ``""``."""
    if isinstance(value, str) and value.startswith(("https://", "http://")) and _host(value):
        return value
    return ""


def _link(value: Any) -> str:
    """The first URL of an AS2 link value (a string, a Link object, or a list)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("href", "")
    return _http_url(value)


def _image_url(value: Any) -> str:
    """The URL of an actor's ``icon`` or ``image``: an Image whose ``url`` is a
    string or a Link (Mastodon writes ``{"type": "Image", "mediaType": ...,
    "url": ...}``), or a bare URL; the first of a list. ``""`` when there is no
    http(s) URL of at most 500 characters."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = _link(value.get("url"))
    url = _http_url(value)
    return url if len(url) <= 500 else ""


MAX_ALSO_KNOWN_AS = 10  # the aliases kept (accounts.services.MAX_ALIASES)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _owned_key(document: dict[str, Any], owner: str) -> dict[str, Any] | None:
    keys = document.get("publicKey")
    for key in keys if isinstance(keys, list) else [keys]:
        if (isinstance(key, dict) and key.get("owner") == owner
                and isinstance(key.get("id"), str) and isinstance(key.get("publicKeyPem"), str)):
            return key
    return None


def parse_actor(document: dict[str, Any], *, fetched_url: str) -> ActorData:
    """The checked contents of an actor ``document`` served from ``fetched_url``
    (the URL after redirects). Raises ActorError for a document that is not an
    actor, is served from another host than its ``id``'s, or lacks a username,
    an inbox or a key of its own on its host."""
    uri = _http_url(document.get("id"))
    if not uri:
        raise ActorError("the actor has no id")
    if document.get("type") not in ACTOR_TYPES:
        raise ActorError(f"{uri} is not an actor")
    domain = _host(uri)
    if domain != _host(fetched_url):
        raise ActorError(f"{uri} was served by another host ({_host(fetched_url)})")
    username = _text(document.get("preferredUsername"))
    if not username:
        raise ActorError(f"{uri} has no preferredUsername")
    inbox = _http_url(document.get("inbox"))
    if not inbox:
        raise ActorError(f"{uri} has no inbox")
    key = _owned_key(document, uri)
    if key is None or _host(key["id"]) != domain:
        raise ActorError(f"{uri} has no public key of its own")
    endpoints = document.get("endpoints")
    shared = _http_url(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else ""
    return ActorData(
        uri=uri, domain=domain, username=username,
        display_name=_text(document.get("name")), note_html=_text(document.get("summary")),
        url=_link(document.get("url")), locked=document.get("manuallyApprovesFollowers") is True,
        bot=document.get("type") in BOT_TYPES, key_id=key["id"],
        public_key_pem=key["publicKeyPem"], inbox=inbox, shared_inbox=shared,
        followers_url=_http_url(document.get("followers")),
        also_known_as=tuple(u for u in (_http_url(v) for v in _as_list(
            document.get("alsoKnownAs"))[:MAX_ALSO_KNOWN_AS]) if u),
        moved_to=_http_url(document.get("movedTo")),
        avatar_url=_image_url(document.get("icon")),
        header_url=_image_url(document.get("image")),
        outbox_url=_http_url(document.get("outbox")),
        following_url=_http_url(document.get("following")))


@transaction.atomic
def remote_actor_store(data: ActorData) -> RemoteActor:
    """Create or update the account and ``RemoteActor`` row of ``data``; its
    avatar and header are fetched after commit when their URLs changed
    (``media.remote``). Raises
    ActorError when the accounts service refuses it (bad username, taken
    handle) or another actor already holds its key id."""
    try:
        account = account_remote_upsert(
            uri=data.uri, username=data.username, domain=data.domain,
            display_name=data.display_name, note_html=data.note_html, url=data.url,
            locked=data.locked, bot=data.bot, also_known_as=list(data.also_known_as),
            moved_to_uri=data.moved_to)
        account_remote_images_set(account=account, avatar_url=data.avatar_url,
                                  header_url=data.header_url)
    except DomainError as error:
        raise ActorError(f"{data.uri}: {error}") from None
    if RemoteActor.objects.filter(key_id=data.key_id).exclude(account=account).exists():
        raise ActorError(f"{data.key_id} is already another actor's key")
    actor, _created = RemoteActor.objects.update_or_create(account=account, defaults={
        "key_id": data.key_id, "public_key_pem": data.public_key_pem, "inbox": data.inbox,
        "shared_inbox": data.shared_inbox, "followers_url": data.followers_url,
        "fetched_at": timezone.now()})
    _counts_soon(account.pk, data)
    return actor


# Seconds between two reads of a remote account's counts (its collections' sizes).
COUNTS_INTERVAL = 3600


def _counts_soon(account_id: int, data: ActorData) -> None:
    """Queue a read of the account's post, follower and following counts from its
    server (``actor_counts_fetch``), at most once per ``COUNTS_INTERVAL``."""
    from django.core.cache import cache

    urls = {"statuses": data.outbox_url, "followers": data.followers_url,
            "following": data.following_url}
    urls = {kind: url for kind, url in urls.items() if url and _host(url) == data.domain}
    if not urls or not cache.add(f"federation:actor-counts:{account_id}", 1,
                                 timeout=COUNTS_INTERVAL):
        return
    from tribune.federation.tasks import actor_counts

    transaction.on_commit(lambda: actor_counts.enqueue(account_id=account_id, urls=urls))


def _total_items(document: dict[str, Any]) -> int | None:
    value = document.get("totalItems")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def actor_counts_fetch(*, account_id: int, urls: dict[str, str]) -> dict[str, int]:
    """Read the sizes (``totalItems``) of a remote account's outbox, followers and
    following collections from its server (``urls``: "statuses", "followers",
    "following" to each collection's address, all on the account's host) and make
    them its counts, as Mastodon's ActivityPub::ProcessAccountService does: a
    profile shows the counts its server knows, not only the posts and follows
    known here. A collection that cannot be read, or is on another host, or has no
    whole ``totalItems``, leaves its count as it was. Returns the counts set."""
    from tribune.accounts.models import Account
    from tribune.accounts.services import account_remote_counts_set

    account = Account.objects.filter(pk=account_id).exclude(domain="").first()
    if account is None:
        return {}
    counts: dict[str, int] = {}
    for kind, url in urls.items():
        if kind not in ("statuses", "followers", "following") or _host(url) != account.domain:
            continue
        try:
            fetched_url, document = _document(url, None)
        except ActorError as error:
            logger.info("counts of %s: %s unread: %s", account.uri, kind, error)
            continue
        total = _total_items(document)
        if total is not None and _host(fetched_url) == account.domain:
            counts[kind] = total
    if counts:
        account_remote_counts_set(account=account, **counts)
    return counts


def _document(url: str, signer: Signer | None, *,
              exact: bool = False) -> tuple[str, dict[str, Any]]:
    """The document at ``url`` and where it was served from; with ``exact``, an
    object served at its own ``id`` (``client.get_object``)."""
    from tribune.accounts.selectors import domain_suspended

    if domain_suspended(_host(url)):
        raise ActorError(f"{_host(url)} is suspended here")
    if signer is None:
        from tribune.federation.instance_actor import instance_signer

        signer = instance_signer()  # a fetch for no one is the server's own
    try:
        fetched = (get_object if exact else get_document)(url, signer=signer)
    except FederationRequestError as error:
        raise ActorError(str(error), temporary=error.temporary) from None
    return fetched.url, fetched.document


def remote_actor_fetch(uri: str, *, signer: Signer | None = None) -> RemoteActor:
    """Fetch the actor ``uri`` (signed by ``signer``, else by the instance
    actor), check it and
    store it; ActorError when it cannot be had or is not acceptable."""
    return remote_actor_refresh(uri, signer=signer)[0]


def remote_actor_refresh(uri: str, *,
                         signer: Signer | None = None) -> tuple[RemoteActor, ActorData]:
    """As ``remote_actor_fetch``, always from the actor's origin, and with what
    the document says beyond what is stored (``alsoKnownAs``, ``movedTo``): a
    move is checked against the target's document as served now."""
    fetched_url, document = _document(uri, signer, exact=True)
    data = parse_actor(document, fetched_url=fetched_url)
    return remote_actor_store(data), data


def _without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _key_named(document: dict[str, Any], key_id: str) -> dict[str, Any] | None:
    """The entry of ``document``'s ``publicKey`` (one or a list) whose id is ``key_id``."""
    keys = document.get("publicKey")
    for key in keys if isinstance(keys, list) else [keys]:
        if isinstance(key, dict) and key.get("id") == key_id:
            return key
    return None


def remote_key_get(key_id: str, *, refresh: bool = False,
                   signer: Signer | None = None) -> RemoteActor:
    """The remote actor whose key is ``key_id``: the stored one, unless
    ``refresh`` or none is stored, then fetched (Mastodon refetches once when a
    signature does not verify with the key it holds).

    ``key_id`` is fetched without its fragment: the actor document itself
    (Mastodon's and Misskey's ``<actor>#main-key``), or a key document or a stub
    of the actor with another id (GoToSocial's ``<actor>/main-key``), whose key's
    ``owner`` on the same host is then fetched; either way the actor's own key
    must be ``key_id``. Raises ActorError otherwise.
    """
    if not refresh:
        stored = RemoteActor.objects.select_related("account").filter(key_id=key_id).first()
        if stored is not None:
            return stored
    if not _http_url(key_id):
        raise ActorError("the keyId is not an http(s) URL")
    fetched_url, document = _document(_without_fragment(key_id), signer)
    if document.get("type") not in ACTOR_TYPES \
            or _http_url(document.get("id")) != _without_fragment(key_id):
        # A key document, or a stub of the actor served at the key's own URL
        # (GoToSocial's ``<actor>/main-key``: id, preferredUsername, publicKey).
        key = document if "publicKeyPem" in document else _key_named(document, key_id)
        owner = key.get("owner") if isinstance(key, dict) else None
        if not isinstance(key, dict) or key.get("id") != key_id or not _http_url(owner) \
                or _host(owner) != _host(key_id) or _host(fetched_url) != _host(key_id):
            raise ActorError(f"{key_id} is not a key of an actor on its host")
        fetched_url, document = _document(owner, signer)
    data = parse_actor(document, fetched_url=fetched_url)
    if data.key_id != key_id:
        raise ActorError(f"{data.uri} does not list {key_id} as its key")
    return remote_actor_store(data)
