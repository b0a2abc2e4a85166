"""Mastodon's streaming API (docs/adr/0032): an ASGI application (``asgi``) served
by its own process (``tribune streaming``, started by ``tribune serve``), apart
from the WSGI web server. ``streams`` names and authorises a subscription,
``render`` turns a published reference into each viewer's payload, ``hub`` reads
the transport and hands events to the connections of this process."""
