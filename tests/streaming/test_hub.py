"""The hub of a streaming process, in process: each published event reaches the
connections subscribed to its channels with their own payload, once per viewer's
render, and the table transport yields each row once."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.db import connections

from tribune.api.auth import Viewer
from tribune.api.streaming.hub import Connection, Hub, run_sync
from tribune.api.streaming.streams import subscription_for
from tribune.graph.services import follow_create
from tribune.statuses.services import status_create
from tribune.streaming.publish import stream_publish

pytestmark = pytest.mark.django_db(transaction=True)


def drain(connection: Connection) -> list[tuple[tuple[str, ...], str, str]]:
    items = []
    while not connection.queue.empty():
        items.append(connection.queue.get_nowait())
    return items


def test_each_connection_gets_what_its_viewer_may_see(published, alice, bob, carol):
    follow_create(account=bob, target=alice)
    private = status_create(account=alice, text="followers only #tea", visibility="private")
    public = status_create(account=alice, text="everyone #tea")
    updates = [m for m in published.messages() if m["event"] == "update"]

    async def scenario():
        hub = Hub()
        bobs, carols, visitor = Connection(bob.pk), Connection(carol.pk), Connection(None)
        for connection in (bobs, carols, visitor):
            hub.add(connection)
        hub.subscribe(bobs, subscription_for(Viewer(account=bob), "user"))
        hub.subscribe(carols, subscription_for(Viewer(account=carol), "hashtag", tag="tea"))
        hub.subscribe(carols, subscription_for(Viewer(account=carol), "public"))
        hub.subscribe(visitor, subscription_for(Viewer(), "public:local"))
        # Carol listens to Bob's channel by hand: the render still keeps his
        # followers-only post from her (the public one she may see anywhere).
        hub.channels[f"timeline:{bob.pk}"].add((carols, subscription_for(
            Viewer(account=bob), "user")))
        for message in updates:
            await hub.dispatch(message)
        await run_sync(connections.close_all)  # the database thread's own connection
        return drain(bobs), drain(carols), drain(visitor)

    bobs, carols, visitor = asyncio.run(scenario())
    assert [(s, json.loads(p)["id"]) for s, _e, p in bobs] == [
        (("user",), str(private.pk)), (("user",), str(public.pk))]
    assert sorted((s, json.loads(p)["id"]) for s, _e, p in carols) == sorted([
        (("hashtag", "tea"), str(public.pk)), (("public",), str(public.pk)),
        (("user",), str(public.pk))])
    assert [(s, json.loads(p)["id"]) for s, _e, p in visitor] == [
        (("public:local",), str(public.pk))]


def test_the_table_transport_yields_each_event_once(settings, transactional_db, alice):
    settings.TRIBUNE_REDIS_URL = ""

    async def scenario():
        hub = Hub()
        hub.add(Connection(alice.pk))
        messages = hub._table_messages()
        channels = [f"timeline:{alice.pk}"]
        await run_sync(stream_publish, channels, "delete", 1)
        await run_sync(stream_publish, channels, "delete", 2)
        got = [await asyncio.wait_for(messages.__anext__(), 10) for _ in range(2)]
        await run_sync(stream_publish, channels, "delete", 3)
        got.append(await asyncio.wait_for(messages.__anext__(), 10))
        await messages.aclose()
        await run_sync(connections.close_all)
        return got

    assert [m["ref"] for m in asyncio.run(scenario())] == ["1", "2", "3"]
