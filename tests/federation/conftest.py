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
