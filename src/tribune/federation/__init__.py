"""ActivityPub: how Tribune's accounts and posts look to other servers.

The serialisers (``serializers``, which the account export builds on), the
actors' signing keys (``models.ActorKey``, ``keys``), and the read side of the
protocol that other servers fetch (``discovery``: WebFinger, host-meta, NodeInfo;
``documents`` and ``selectors``: actors, objects, collections; ``views``). The
inbox, signatures and delivery come later (docs/adr/0022).
"""
