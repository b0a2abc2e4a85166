"""Finding an account or a post from what a person pastes: a handle
(``@user@domain``) or an address (an actor's or a post's id, or its page), on
this instance or another, as Mastodon's ResolveURLService and
``/api/v2/search?resolve=true`` do. The search box of the web interface, the
client API's search and ``/authorize_interaction`` share it.

An unknown remote address is fetched from its origin (``client.get_object``,
signed by the instance actor) and kept only when it is an actor or a Note that
passes the checks of ``actors.parse_actor`` and ``notes.note_store_fetched``.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_by_uri, account_lookup, domain_suspended
from tribune.core.errors import DomainError
from tribune.federation.actors import (
    ACTOR_TYPES,
    ActorError,
    parse_actor,
    remote_actor_store,
)
from tribune.federation.client import FederationRequestError, get_object
from tribune.federation.notes import NOTE_TYPES, NoteRefused, note_store_fetched
from tribune.federation.webfinger import account_resolve, looks_like_handle
from tribune.statuses.models import Status
from tribune.statuses.selectors import status_by_uri, status_get_visible

logger = logging.getLogger(__name__)

MAX_URL_LENGTH = 2_000  # longer queries are not addresses


def looks_like_url(query: str) -> bool:
    """Whether ``query`` is an ``http(s)://`` address with a host, as Mastodon's
    ``url_query?`` tells a search for an address from a search for words."""
    query = query.strip()
    if len(query) > MAX_URL_LENGTH or " " in query:
        return False
    try:
        parts = urlsplit(query)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _local(url: str, viewer: Account | None) -> Account | Status | None:
    """What an address of this instance names: a profile (``/@name``,
    ``/users/name``) or a post (``/@name/ID``, ``/users/name/statuses/ID``)."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    try:
        if match.url_name in ("profile", "actor"):
            return account_lookup(acct=match.kwargs["username"])
        if match.url_name in ("thread", "status"):
            return status_get_visible(status_id=match.kwargs["status_id"], viewer=viewer)
    except DomainError:
        return None
    return None


def _visible(status: Status | None, viewer: Account | None) -> Status | None:
    if status is None:
        return None
    try:
        return status_get_visible(status_id=status.pk, viewer=viewer)
    except DomainError:
        return None


def _known(url: str, viewer: Account | None) -> Account | Status | None:
    """A remote account or post already stored under the id ``url`` (a page's
    address is fetched: it names its object's id there)."""
    return account_by_uri(url) or _visible(status_by_uri(url), viewer)


def _fetched(url: str, viewer: Account | None) -> Account | Status | None:
    """The actor or Note at the remote ``url``, fetched from its origin and
    stored; None when it cannot be had or is neither."""
    from tribune.federation.instance_actor import instance_signer

    if domain_suspended(urlsplit(url).netloc.lower()):
        return None
    try:
        fetched = get_object(url, signer=instance_signer())
        kind = fetched.document.get("type")
        if kind in ACTOR_TYPES:
            return remote_actor_store(parse_actor(fetched.document,
                                                  fetched_url=fetched.url)).account
        if kind in NOTE_TYPES:
            return _visible(note_store_fetched(fetched, asked=url), viewer)
    except (FederationRequestError, ActorError, NoteRefused) as error:
        logger.info("%s cannot be looked up: %s", url, error)
    return None


def url_resolve(url: str, *, viewer: Account | None,
                fetch: bool = True) -> Account | Status | None:
    """The account or post at ``url`` that ``viewer`` may see: one of this
    instance, a remote one already known (by its id or its page), or, with
    ``fetch``, one fetched from its origin now. None when there is none, or it
    cannot be had; never raises for a bad address."""
    url = url.strip()
    if not looks_like_url(url):
        return None
    if urlsplit(url).netloc.lower() == settings.TRIBUNE_DOMAIN.lower():
        return _local(url, viewer)
    found = _known(url, viewer)
    if found is None and fetch:
        found = _fetched(url, viewer)
    return found


def query_resolve(query: str, *, viewer: Account | None) -> Account | Status | None:
    """What a search ``query`` names when it is a handle (``@user@domain``,
    looked up by WebFinger when unknown) or an address (``url_resolve``); None
    for any other query or when nothing can be had."""
    query = query.strip()
    if looks_like_url(query):
        return url_resolve(query, viewer=viewer)
    if looks_like_handle(query):
        try:
            return account_resolve(acct=query)
        except DomainError:
            return None
    return None
