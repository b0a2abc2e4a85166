"""Fetching as another server does: a Django test client on the instance's host."""

from __future__ import annotations

import pytest
from django.test import Client

AS = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.fixture
def peer():
    """A client with no session, as a remote server's unsigned fetch is."""
    return Client(HTTP_HOST="localhost")


@pytest.fixture
def remote(settings):
    """``remote.test``: a server on 127.0.0.2 that the instance reaches as a
    development peer (its ids are ``https://remote.test/...``)."""
    from tests.federation import peers

    peer, server = peers.start("127.0.0.2")
    settings.TRIBUNE_DEV_PEERS = {"remote.test": (peer.address, peer.port)}
    yield peer
    server.shutdown()
    server.server_close()


@pytest.fixture
def canary():
    """A server on 127.0.0.1 that nothing may reach: SSRF tests count its requests."""
    from tests.federation import peers

    peer, server = peers.start("127.0.0.1")
    yield peer
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def zed_keys():
    """zed@remote.test's key pair: ``(private PEM, public PEM)``."""
    from tests.federation.peers import key_pair

    return key_pair()


@pytest.fixture
def zed(remote, zed_keys):
    """zed@remote.test: its actor document is served, its inbox answers 202."""
    from tests.federation.peers import actor_document

    _private, public = zed_keys
    remote.json("/users/zed", actor_document("zed", public))
    remote.routes["/users/zed/inbox"] = (202, {}, b"")
    return remote


@pytest.fixture
def zed_account(zed, db):
    """zed@remote.test as an account here (its actor fetched and stored)."""
    from tests.federation.test_inbox import ZED
    from tribune.federation.actors import remote_actor_fetch

    return remote_actor_fetch(ZED).account


@pytest.fixture(scope="session")
def yan_keys():
    """yan@remote.test's key pair: ``(private PEM, public PEM)``."""
    from tests.federation.peers import key_pair

    return key_pair()


@pytest.fixture
def yan(zed, yan_keys):
    """yan@remote.test, a second actor of the same server, as an account here."""
    from tests.federation.peers import actor_document
    from tribune.federation.actors import remote_actor_fetch

    zed.json("/users/yan", actor_document("yan", yan_keys[1]))
    return remote_actor_fetch("https://remote.test/users/yan").account
