"""The instance actor (docs/adr/0029): the server itself as an ActivityPub
``Application`` at ``https://DOMAIN/actor``, as Mastodon serves it
(InstanceActorSerializer: ``preferredUsername`` the domain, ``inbox``
``/actor/inbox``, ``outbox`` ``/actor/outbox``, ``publicKey`` ``/actor#main-key``,
``manuallyApprovesFollowers``). It signs what no local person sends: forwarded
reports (``Flag``) and fetches made for no one (``instance_signer``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from tribune.core.urls import absolute
from tribune.federation import serializers
from tribune.federation.client import Signer
from tribune.federation.keys import instance_actor_key_get_or_create


def instance_actor_id() -> str:
    """``https://DOMAIN/actor``."""
    return absolute("/actor")


def instance_key_id() -> str:
    """``https://DOMAIN/actor#main-key``."""
    return f"{instance_actor_id()}#main-key"


def instance_actor_document() -> dict[str, Any]:
    """The instance actor's document, with its public key (made if needed)."""
    key = instance_actor_key_get_or_create()
    actor = instance_actor_id()
    return {
        "@context": serializers.CONTEXT,
        "id": actor,
        "type": "Application",
        "preferredUsername": settings.TRIBUNE_DOMAIN,
        "inbox": f"{actor}/inbox",
        "outbox": f"{actor}/outbox",
        "url": absolute("/about"),
        "manuallyApprovesFollowers": True,
        "endpoints": {"sharedInbox": absolute("/inbox")},
        "publicKey": {
            "id": instance_key_id(),
            "owner": actor,
            "publicKeyPem": key.public_key_pem,
        },
    }


def instance_signer() -> Signer:
    """A signer for requests made as the instance actor."""
    key = instance_actor_key_get_or_create()
    return Signer(key_id=instance_key_id(), private_key_pem=key.private_key_pem)
