"""ActivityPub: how Tribune's accounts and posts look to other servers, and what
it takes from and sends to them.

The serialisers (``serializers``, which the account export builds on), the
actors' signing keys (``models.ActorKey``, ``keys``), and the read side of the
protocol that other servers fetch (``documents`` and ``selectors``: WebFinger,
host-meta, NodeInfo, actors, objects, collections; ``views``; docs/adr/0022).
HTTP Signatures (``signatures``), the one outbound client (``client``), remote
actors (``actors``, ``models.RemoteActor``), the inbox (``inbox``) and delivery
(``outbox``, ``tasks``; docs/adr/0023).
"""
