"""The documents of federation's read side, as other servers expect them: actors
with their keys, WebFinger and host-meta, NodeInfo, and the pages of an actor's
collections. Pure functions over what ``selectors`` returned; the posts themselves
are ``serializers``' documents.

Sources: ActivityPub (W3C Recommendation; §4.1 actor objects, §5 collections:
outbox, followers, following), ActivityStreams 2.0 (§5.3 ``OrderedCollection``
and ``OrderedCollectionPage``), Mastodon's docs (spec/activitypub.md: ``publicKey``,
``featured``, ``endpoints.sharedInbox``; spec/webfinger.md), RFC 7033 (WebFinger),
RFC 6415 (host-meta), and NodeInfo 2.0 and 2.1 (nodeinfo.diaspora.software/protocol
and its schemas).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import quoteattr

from django.conf import settings

from tribune import __version__
from tribune.accounts.models import Account
from tribune.core.urls import absolute
from tribune.federation import serializers
from tribune.federation.selectors import ActorPage, Usage

Document = dict[str, Any]

ACTIVITY_JSON = "application/activity+json"
JRD_JSON = "application/jrd+json"
XRD_XML = "application/xrd+xml"
NODEINFO_VERSIONS = ("2.0", "2.1")


def nodeinfo_content_type(version: str) -> str:
    """The media type NodeInfo ``version`` is served with (its protocol page)."""
    return f'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{version}#"'


# --- actors ----------------------------------------------------------------------


def key_id(account: Account) -> str:
    """The id of the account's key: ``<actor>#main-key`` (Mastodon's)."""
    return f"{serializers.actor_id(account)}#main-key"


def actor(account: Account, *, public_key_pem: str) -> Document:
    """The account's actor document as served to other servers: ``serializers.person``
    with ``publicKey`` (``id`` ``<actor>#main-key``, ``owner``, ``publicKeyPem``)
    and ``endpoints.sharedInbox`` (``https://DOMAIN/inbox``), as Mastodon's
    ActorSerializer writes them."""
    document = serializers.person(account)
    document["publicKey"] = {"id": key_id(account), "owner": document["id"],
                             "publicKeyPem": public_key_pem}
    document["endpoints"] = {"sharedInbox": absolute("/inbox")}
    return document


# --- discovery -------------------------------------------------------------------


def webfinger(account: Account) -> Document:
    """The JRD for the local ``account`` (RFC 7033 §4.4; Mastodon's
    spec/webfinger.md): subject ``acct:NAME@DOMAIN``, the actor and profile page as
    aliases, links ``self`` (the actor, as activity+json), the profile page, and
    Mastodon's remote-follow template."""
    actor_uri = serializers.actor_id(account)
    profile = absolute(f"/@{account.username}")
    return {
        "subject": f"acct:{account.username}@{settings.TRIBUNE_DOMAIN}",
        "aliases": [actor_uri, profile],
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
             "href": profile},
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor_uri},
            {"rel": "http://ostatus.org/schema/1.0/subscribe",
             "template": absolute("/authorize_interaction?uri={uri}")},
        ],
    }


def host_meta() -> str:
    """The host-meta XRD (RFC 6415 §3) whose ``lrdd`` template points at WebFinger."""
    template = absolute("/.well-known/webfinger") + "?resource={uri}"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
            f'  <Link rel="lrdd" template={quoteattr(template)}/>\n'
            '</XRD>\n')


def nodeinfo_links() -> Document:
    """``/.well-known/nodeinfo``: where the NodeInfo documents of each version are."""
    return {"links": [
        {"rel": f"http://nodeinfo.diaspora.software/ns/schema/{version}",
         "href": absolute(f"/nodeinfo/{version}")} for version in NODEINFO_VERSIONS]}


def nodeinfo(version: str, *, usage: Usage, open_registrations: bool) -> Document:
    """The NodeInfo document of ``version`` ("2.0" or "2.1"): the keys its schema
    requires (``version``, ``software``, ``protocols``, ``services``,
    ``openRegistrations``, ``usage``, ``metadata``); 2.1 adds the software's
    ``homepage``. ``metadata.nodeName`` is the instance's title."""
    software: Document = {"name": "tribune", "version": __version__}
    if version == "2.1":
        software["homepage"] = absolute("/about")
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"outbound": [], "inbound": []},
        "openRegistrations": open_registrations,
        "usage": {"users": {"total": usage.users, "activeMonth": usage.active_month,
                            "activeHalfyear": usage.active_halfyear},
                  "localPosts": usage.local_posts},
        "metadata": {"nodeName": settings.TRIBUNE_TITLE},
    }


# --- posts -----------------------------------------------------------------------


def status_object(status) -> Document:
    """A post served on its own: its ``Note`` with ``@context``."""
    return {"@context": serializers.CONTEXT, **serializers.note(status)}


def activity(status) -> Document:
    """The activity that made ``status``: ``Announce`` for a boost, ``Create``
    otherwise, with ``@context``."""
    body = serializers.announce(status) if status.reblog_of_id else serializers.create(status)
    return {"@context": serializers.CONTEXT, **body}


# --- collections -----------------------------------------------------------------


def _with_query(base: str, **params: Any) -> str:
    return f"{base}?{urlencode(params)}"


def outbox_collection(account: Account, *, total: int) -> Document:
    """The outbox (ActivityPub §5.1) without items: ``totalItems`` and links to
    its ``first`` and ``last`` pages, as Mastodon's."""
    outbox = f"{serializers.actor_id(account)}/outbox"
    return {"@context": serializers.CONTEXT, "id": outbox, "type": "OrderedCollection",
            "totalItems": total, "first": _with_query(outbox, page="true"),
            "last": _with_query(outbox, min_id=0, page="true")}


def outbox_page(account: Account, *, statuses: list, page_id_params: dict[str, Any],
                next_max_id: int | None, prev_min_id: int | None) -> Document:
    """One ``OrderedCollectionPage`` of the outbox: the activities of ``statuses``
    (newest first), ``next`` to older posts (``max_id``) and ``prev`` to newer
    ones (``min_id``) when there may be any."""
    outbox = f"{serializers.actor_id(account)}/outbox"
    document: Document = {
        "@context": serializers.CONTEXT,
        "id": _with_query(outbox, **page_id_params, page="true"),
        "type": "OrderedCollectionPage", "partOf": outbox,
    }
    if next_max_id is not None:
        document["next"] = _with_query(outbox, max_id=next_max_id, page="true")
    if prev_min_id is not None:
        document["prev"] = _with_query(outbox, min_id=prev_min_id, page="true")
    document["orderedItems"] = [
        {k: v for k, v in activity(s).items() if k != "@context"} for s in statuses]
    return document


def follows_collection(collection_id: str, *, total: int) -> Document:
    """A followers or following collection (ActivityPub §5.3, §5.4): its
    ``totalItems`` and ``first`` page."""
    return {"@context": serializers.CONTEXT, "id": collection_id,
            "type": "OrderedCollection", "totalItems": total,
            "first": _with_query(collection_id, page=1)}


def follows_page(collection_id: str, *, page: int, actors: ActorPage) -> Document:
    """Page ``page`` of a followers or following collection: actor ids, newest
    follow first, with ``next``/``prev`` page numbers."""
    document: Document = {"@context": serializers.CONTEXT,
                          "id": _with_query(collection_id, page=page),
                          "type": "OrderedCollectionPage", "totalItems": actors.total,
                          "partOf": collection_id}
    if actors.has_next:
        document["next"] = _with_query(collection_id, page=page + 1)
    if page > 1:
        document["prev"] = _with_query(collection_id, page=page - 1)
    document["orderedItems"] = actors.items
    return document


def featured(account: Account, *, statuses: list) -> Document:
    """The featured collection (Mastodon's pinned posts): their ``Note``s."""
    return serializers.ordered_collection(
        f"{serializers.actor_id(account)}/collections/featured",
        [serializers.note(s) for s in statuses])


# --- activities to other servers ---------------------------------------------------


def accept_follow(account: Account, *, follower_uri: str, follow_id: str | None,
                  kind: str = "Accept") -> Document:
    """``Accept`` of a remote actor's ``Follow`` of the local ``account`` (AS2
    §3.2; ActivityPub §7.7). ``object`` restates the Follow (its ``id`` when it
    had one, ``actor``, ``object``), so a server that did not keep the Follow's id
    still finds its request (Mastodon matches either way). ``kind="Reject"``
    makes the ``Reject`` of a request turned down or a follower removed."""
    actor = serializers.actor_id(account)
    follow: Document = {"type": "Follow", "actor": follower_uri, "object": actor}
    if follow_id:
        follow = {"id": follow_id, **follow}
    return {"@context": serializers.CONTEXT,
            "id": f"{actor}#{kind.lower()}s/follows/{uuid.uuid4().hex}",
            "type": kind, "actor": actor, "object": follow}
