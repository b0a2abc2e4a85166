"""Stream channel names, in Mastodon's own spelling (its streaming server's Redis
channels, streaming/index.js ``channelNameFromPath``): ``timeline:<account id>``
(the ``user`` and ``user:notification`` streams), ``timeline:public``,
``timeline:public:local``, ``timeline:public:remote``, ``timeline:hashtag:<name>``,
``timeline:hashtag:<name>:local``, ``timeline:list:<list id>``,
``timeline:direct:<account id>``."""

from __future__ import annotations

from tribune.core.text import normalize_tag

PUBLIC = "timeline:public"
PUBLIC_LOCAL = "timeline:public:local"
PUBLIC_REMOTE = "timeline:public:remote"


def user(account_id: int) -> str:
    """The channel of one account's ``user`` (and ``user:notification``) stream."""
    return f"timeline:{int(account_id)}"


def direct(account_id: int) -> str:
    """The channel of one account's ``direct`` stream."""
    return f"timeline:direct:{int(account_id)}"


def hashtag(name: str, *, local: bool = False) -> str:
    """The channel of a hashtag's stream; ``name`` is reduced to its matching key
    (``core.text.normalize_tag``), as Mastodon's streaming server is given the
    normalised tag name, so ``#Café`` and ``#cafe`` share one stream."""
    return f"timeline:hashtag:{normalize_tag(name)}" + (":local" if local else "")


def list_(list_id: int) -> str:
    """The channel of a list's stream."""
    return f"timeline:list:{int(list_id)}"
