"""``@user@domain`` resolved to an account: WebFinger on the handle's domain
(RFC 7033 §4; Mastodon's spec/webfinger.md and ResolveAccountService), the
actor it names fetched through ``actors`` and checked against the answer.

The check (Mastodon's): the actor's ``preferredUsername`` and host must be the
handle asked for; when they are not (a server whose handles use a domain other
than its actors' host), a second WebFinger of ``preferredUsername@actor-host``
on the actor's host must name the same actor. Otherwise any server could claim
someone else's handle.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_lookup
from tribune.core.errors import NotFound
from tribune.core.http import FetchError, fetch
from tribune.federation.actors import (
    ActorData,
    ActorError,
    _document,
    parse_actor,
    remote_actor_store,
)
from tribune.federation.client import Signer
from tribune.federation.negotiation import is_activitystreams_type

JRD_ACCEPT = "application/jrd+json, application/json"
MAX_JRD_BYTES = 64 * 1024
TIMEOUT = 10.0  # seconds


class WebFingerError(Exception):
    """The handle's server gave no usable WebFinger answer."""


def _split(acct: str) -> tuple[str, str]:
    acct = acct.strip()
    acct = acct.removeprefix("acct:").lstrip("@")
    username, _at, domain = acct.partition("@")
    return username, domain.strip().lower()


def webfinger_actor_uri(username: str, domain: str) -> str:
    """The actor id that ``https://DOMAIN/.well-known/webfinger`` gives for
    ``acct:USERNAME@DOMAIN``: its ``self`` link of an ActivityStreams type.
    Raises WebFingerError when there is none (not found, not JSON, no link)."""
    resource = quote(f"acct:{username}@{domain}", safe=":@")
    url = f"https://{domain}/.well-known/webfinger?resource={resource}"
    try:
        response = fetch(url, headers={"Accept": JRD_ACCEPT}, max_bytes=MAX_JRD_BYTES,
                         timeout=TIMEOUT)
    except FetchError as error:  # BlockedAddress included
        raise WebFingerError(str(error)) from None
    if response.status != 200:
        raise WebFingerError(f"{url} answered {response.status}")
    try:
        jrd: Any = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise WebFingerError(f"{url} is not JSON") from None
    links = jrd.get("links") if isinstance(jrd, dict) else None
    for link in links if isinstance(links, list) else []:
        if (isinstance(link, dict) and link.get("rel") == "self"
                and is_activitystreams_type(link.get("type"))
                and isinstance(link.get("href"), str)
                and link["href"].startswith(("https://", "http://"))):
            return link["href"]
    raise WebFingerError(f"{url} names no actor")


def _checked(data: ActorData, username: str, domain: str) -> None:
    """WebFingerError unless ``data`` is the actor of ``username@domain`` (see
    the module's docstring)."""
    if data.username.lower() == username.lower() and data.domain == domain:
        return
    if webfinger_actor_uri(data.username, data.domain) != data.uri:
        raise WebFingerError(f"{data.uri} is not {username}@{domain}")


def account_resolve(*, acct: str, signer: Signer | None = None) -> Account:
    """The account of ``user`` or ``user@domain``: a local one, a remote one
    already known, or one looked up on its server now (WebFinger, then its actor
    fetched, signed by ``signer`` when given, checked and stored).

    Raises NotFound when there is no such account or it cannot be had.
    """
    username, domain = _split(acct)
    if not domain or domain == settings.TRIBUNE_DOMAIN.lower():
        return account_lookup(acct=username)
    if not username:
        raise NotFound(_("Record not found"))
    try:
        return account_lookup(acct=f"{username}@{domain}")
    except NotFound:
        pass
    try:
        actor_uri = webfinger_actor_uri(username, domain)
        fetched_url, document = _document(actor_uri, signer)
        data = parse_actor(document, fetched_url=fetched_url)
        _checked(data, username, domain)
        return remote_actor_store(data).account
    except (WebFingerError, ActorError):
        raise NotFound(_("Record not found")) from None


def looks_like_handle(query: str) -> bool:
    """Whether a search ``query`` is a remote handle (``@user@domain`` or
    ``user@domain``), which a search with ``resolve`` looks up."""
    username, domain = _split(query)
    return bool(username and domain and "." in domain and " " not in query.strip())
