"""ActivityPub: how Tribune's accounts and posts look to other servers.

For now only the serialisers (``serializers``), which the account export builds
on; the inbox, outbox, signatures and delivery come with federation.
"""
