"""Media of other servers: the attachments of remote posts and remote accounts'
avatars and headers are fetched from the peer server, processed as uploads are
and served from our storage; what cannot be had stays a link to the original."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.test import Client
from PIL import Image

from tests.federation.peers import actor_document
from tests.federation.test_inbound_statuses import create, note, send
from tests.federation.test_inbox import HOST, ZED, post
from tribune.accounts.models import Account
from tribune.accounts.services import domain_block_upsert
from tribune.federation.actors import remote_actor_fetch
from tribune.media.models import MediaAttachment
from tribune.statuses.models import Status

BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
BASE = settings.TRIBUNE_BASE_URL


def png(width: int, height: int, colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def serve(peer, path: str, body: bytes, content_type: str = "image/png") -> str:
    peer.routes[path] = (200, {"Content-Type": content_type}, body)
    return f"https://remote.test{path}"


def image(url, *, name="", **extra) -> dict:
    return {"type": "Document", "mediaType": "image/png", "url": url, "name": name, **extra}


def get(path: str):
    """What a browser gets from our own site at ``path`` (a media URL)."""
    return Client(HTTP_HOST=HOST).get(path)


def decoded(response) -> Image.Image:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    picture = Image.open(io.BytesIO(body))
    picture.load()
    return picture


def local_path(url: str) -> str:
    assert url.startswith(f"{BASE}/"), url
    return url.removeprefix(BASE)


def test_a_mastodon_note_with_two_pictures_is_shown_from_our_storage(
        zed, zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    first = serve(zed, "/media/1.png", png(64, 48))
    second = serve(zed, "/media/2.png", png(30, 60, (10, 200, 10)))
    attachments = [
        image(first, name="A red square", blurhash=BLURHASH, focalPoint=[0.5, -0.25],
              width=64, height=48),
        {"type": "Image", "url": {"type": "Link", "href": second, "mediaType": "image/png"},
         "name": "A green bar"},
    ]
    send(create(note(1, attachment=attachments)), zed_keys, django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    entity = api_as(alice).get(f"/api/v1/statuses/{status.pk}").json()
    one, two = entity["media_attachments"]
    assert (one["type"], one["description"], one["remote_url"]) == ("image", "A red square", first)
    assert (two["type"], two["description"], two["remote_url"]) == ("image", "A green bar", second)
    assert one["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    # cached: the URLs are ours, and serve the re-encoded pictures at their size
    for item, size in ((one, (64, 48)), (two, (30, 60))):
        assert not item["url"].startswith("https://remote.test"), item["url"]
        assert item["url"].startswith(f"{BASE}/system/media_attachments/")
        response = get(local_path(item["url"]))
        assert response.status_code == 200
        assert decoded(response).size == size
        assert item["preview_url"].startswith(f"{BASE}/system/")
        assert item["meta"]["original"]["width"] == size[0]
        assert item["blurhash"]  # computed from the pixels here
    assert [r.path for r in zed.received if r.path.startswith("/media/")] == [
        "/media/1.png", "/media/2.png"]


def test_until_cached_the_url_is_the_origins_and_there_is_no_preview(
        zed, zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    url = serve(zed, "/media/1.png", png(20, 20))
    # on-commit callbacks not run: the caching task is not enqueued
    with django_capture_on_commit_callbacks(execute=False):
        post("/inbox", create(note(1, attachment=[image(url, name="later")])),
             private_pem=zed_keys[0])
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    (item,) = api_as(alice).get(f"/api/v1/statuses/{status.pk}").json()["media_attachments"]
    assert item["url"] == url and item["remote_url"] == url and item["preview_url"] is None
    assert item["type"] == "image"
    page = _thread_page(alice, status)
    assert f'href="{url}"' in page and "later" in page
    assert f'src="{url}"' not in page  # never hotlinked


def _thread_page(viewer, status) -> str:
    client = Client(HTTP_HOST=HOST)
    client.force_login(viewer.user)
    response = client.get(f"/@zed@remote.test/{status.pk}")
    assert response.status_code == 200
    return response.content.decode()


def test_the_web_page_of_the_post_shows_the_cached_picture_with_its_alt_text(
        zed, zed_keys, zed_account, alice, django_capture_on_commit_callbacks):
    url = serve(zed, "/media/1.png", png(40, 40))
    send(create(note(1, attachment=[image(url, name="A red square")])), zed_keys,
         django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    media = MediaAttachment.objects.get(status=status)
    page = _thread_page(alice, status)
    assert f'src="{media.thumbnail.url}"' in page and 'alt="A red square"' in page
    assert "remote.test/media" not in page


def test_a_document_that_is_not_a_picture_is_refused_cleanly(
        zed, zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    url = serve(zed, "/media/page.png", b"<html><script>alert(1)</script></html>", "image/png")
    send(create(note(1, attachment=[image(url, name="not really")])), zed_keys,
         django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    (item,) = api_as(alice).get(f"/api/v1/statuses/{status.pk}").json()["media_attachments"]
    assert item["type"] == "unknown" and item["url"] == url and item["preview_url"] is None
    media = MediaAttachment.objects.get(pk=item["id"])
    assert media.state == "failed" and not media.file and not media.thumbnail


def test_an_oversized_file_is_not_cached(zed, zed_keys, zed_account, settings,
                                          django_capture_on_commit_callbacks):
    settings.TRIBUNE_MEDIA_MAX_IMAGE_BYTES = 2_000
    big = png(200, 200)
    noise = Image.frombytes("RGB", (200, 200), bytes((i * 7919) % 251 for i in range(120_000)))
    out = io.BytesIO()
    noise.save(out, "PNG")
    big = out.getvalue()
    assert len(big) > 2_000
    url = serve(zed, "/media/big.png", big)
    send(create(note(1, attachment=[image(url)])), zed_keys, django_capture_on_commit_callbacks)
    media = MediaAttachment.objects.get(remote_url=url)
    assert media.state == "failed" and not media.file and "2000" in media.error
    assert media.type == "image"  # what it claimed; it just is not here


def test_a_file_slower_than_the_time_limit_is_not_cached(
        zed, zed_keys, zed_account, monkeypatch, django_capture_on_commit_callbacks):
    import threading

    monkeypatch.setattr("tribune.media.remote.FETCH_TIMEOUT", 0.3)
    release = threading.Event()

    def slow(request):
        release.wait(5)  # answers only once the test is over
        return 200, {"Content-Type": "image/png"}, png(8, 8)

    zed.routes["/media/slow.png"] = slow
    url = "https://remote.test/media/slow.png"
    try:
        send(create(note(1, attachment=[image(url)])), zed_keys,
             django_capture_on_commit_callbacks)
    finally:
        release.set()
    media = MediaAttachment.objects.get(remote_url=url)
    assert media.state == "failed" and not media.file and "timed out" in media.error
    assert Status.objects.filter(uri=f"{ZED}/statuses/1").exists()


def test_an_attachment_on_an_internal_address_is_not_fetched(
        zed, zed_keys, zed_account, canary, django_capture_on_commit_callbacks):
    url = serve(canary, "/secret.png", png(8, 8)).replace(
        "https://remote.test", f"http://127.0.0.1:{canary.port}")
    send(create(note(1, attachment=[image(url)])), zed_keys, django_capture_on_commit_callbacks)
    media = MediaAttachment.objects.get(remote_url=url)
    assert media.state == "failed" and not media.file
    assert canary.received == []


def test_five_attachments_become_four_and_bad_urls_are_ignored(
        zed, zed_keys, zed_account, django_capture_on_commit_callbacks):
    urls = [serve(zed, f"/media/{n}.png", png(8, 8)) for n in range(5)]
    attachments = [image("javascript:alert(1)"), image("ftp://remote.test/x.png"),
                   image({"type": "Link", "href": "data:image/png;base64,AAAA"}),
                   *[image(u) for u in urls]]
    send(create(note(1, attachment=attachments)), zed_keys, django_capture_on_commit_callbacks)
    rows = MediaAttachment.objects.filter(status__uri=f"{ZED}/statuses/1").order_by("position")
    assert [m.remote_url for m in rows] == urls[:4]
    assert [m.position for m in rows] == [0, 1, 2, 3]
    assert all(m.state == "done" and m.file for m in rows)
    assert not [r for r in zed.received if r.path == "/media/4.png"]


def test_an_update_replaces_the_attachments(
        zed, zed_keys, zed_account, alice, api_as, django_capture_on_commit_callbacks):
    kept = serve(zed, "/media/kept.png", png(10, 10))
    dropped = serve(zed, "/media/dropped.png", png(12, 12))
    added = serve(zed, "/media/added.png", png(14, 14))
    send(create(note(1, attachment=[image(kept, name="one"), image(dropped)])), zed_keys,
         django_capture_on_commit_callbacks)
    status = Status.objects.get(uri=f"{ZED}/statuses/1")
    before = {m.remote_url: m for m in MediaAttachment.objects.filter(status=status)}
    dropped_file = before[dropped].file.name
    update = {"id": f"{ZED}/statuses/1#updates/1", "type": "Update", "actor": ZED,
              "object": note(1, "<p>Edited</p>", updated="2026-11-30T11:00:00Z",
                             attachment=[image(added, name="new"),
                                         image(kept, name="one, described better")])}
    send(update, zed_keys, django_capture_on_commit_callbacks)
    entity = api_as(alice).get(f"/api/v1/statuses/{status.pk}").json()
    assert [(m["remote_url"], m["description"]) for m in entity["media_attachments"]] == [
        (added, "new"), (kept, "one, described better")]
    after = {m.remote_url: m for m in MediaAttachment.objects.filter(status=status)}
    assert after[kept].pk == before[kept].pk and after[kept].file == before[kept].file
    assert after[added].state == "done"
    assert get(f"/system/{dropped_file}").status_code == 404
    assert [r.path for r in zed.received].count("/media/kept.png") == 1
    # an Update without attachments removes them all
    bare = {**update, "id": f"{ZED}/statuses/1#updates/2",
            "object": note(1, "<p>Text only</p>", updated="2026-11-30T12:00:00Z")}
    send(bare, zed_keys, django_capture_on_commit_callbacks)
    assert not MediaAttachment.objects.filter(status=status).exists()


def test_media_of_a_domain_with_rejected_media_are_not_fetched(
        zed, zed_keys, zed_account, django_capture_on_commit_callbacks):
    domain_block_upsert(domain="remote.test", severity="noop", reject_media=True)
    url = serve(zed, "/media/1.png", png(8, 8))
    send(create(note(1, attachment=[image(url)])), zed_keys, django_capture_on_commit_callbacks)
    assert MediaAttachment.objects.get(remote_url=url).state == "failed"
    assert not [r for r in zed.received if r.path == "/media/1.png"]


def _zed_with(remote, zed_keys, **extra):
    remote.json("/users/zed", actor_document("zed", zed_keys[1], **extra))


def test_an_actors_icon_and_image_become_its_avatar_and_header(
        remote, zed_keys, alice, api_as, django_capture_on_commit_callbacks):
    icon = serve(remote, "/avatars/1.png", png(100, 80))
    header = serve(remote, "/headers/1.png", png(300, 100, (0, 0, 200)))
    _zed_with(remote, zed_keys, icon={"type": "Image", "mediaType": "image/png", "url": icon},
              image={"type": "Image", "url": header})
    with django_capture_on_commit_callbacks(execute=True):
        account = remote_actor_fetch(ZED).account
    account.refresh_from_db()
    assert account.avatar_remote_url == icon and account.avatar.name.startswith("accounts/avatars/")
    entity = api_as(alice).get(f"/api/v1/accounts/{account.pk}").json()
    assert entity["avatar"] == entity["avatar_static"]
    assert entity["avatar"].startswith(f"{BASE}/system/accounts/avatars/")
    assert entity["header"].startswith(f"{BASE}/system/accounts/headers/")
    assert entity["header_static"] == entity["header"]
    assert decoded(get(local_path(entity["avatar"]))).size == (400, 400)
    assert decoded(get(local_path(entity["header"]))).size == (1500, 500)
    # the profile page shows it from here
    client = Client(HTTP_HOST=HOST)
    client.force_login(alice.user)
    page = client.get("/@zed@remote.test").content.decode()
    assert account.avatar.url in page and icon not in page


def test_an_avatar_is_fetched_again_only_when_its_url_changes(
        remote, zed_keys, db, django_capture_on_commit_callbacks):
    first = serve(remote, "/avatars/1.png", png(50, 50))
    _zed_with(remote, zed_keys, icon={"type": "Image", "url": first})
    with django_capture_on_commit_callbacks(execute=True):
        remote_actor_fetch(ZED)
    with django_capture_on_commit_callbacks(execute=True):
        remote_actor_fetch(ZED)  # the same icon: not fetched again
    assert [r.path for r in remote.received].count("/avatars/1.png") == 1
    account = Account.objects.get(uri=ZED)
    old_name = account.avatar.name
    second = serve(remote, "/avatars/2.png", png(50, 50, (0, 255, 0)))
    _zed_with(remote, zed_keys, icon={"type": "Image", "url": second})
    with django_capture_on_commit_callbacks(execute=True):
        remote_actor_fetch(ZED)
    account.refresh_from_db()
    assert account.avatar_remote_url == second and account.avatar.name != old_name
    assert [r.path for r in remote.received].count("/avatars/2.png") == 1
    assert decoded(get(f"/system/{account.avatar.name}")).getpixel((200, 200)) == \
        pytest.approx((0, 255, 0), abs=3)
    assert get(f"/system/{old_name}").status_code == 404
    # no icon any more: back to the default picture
    _zed_with(remote, zed_keys)
    with django_capture_on_commit_callbacks(execute=True):
        remote_actor_fetch(ZED)
    account.refresh_from_db()
    assert account.avatar_remote_url == "" and not account.avatar


def test_an_avatar_that_is_not_a_picture_leaves_the_default(
        remote, zed_keys, db, django_capture_on_commit_callbacks):
    icon = serve(remote, "/avatars/1.png", b"GIF89a but not really", "image/png")
    _zed_with(remote, zed_keys, icon={"type": "Image", "url": icon})
    with django_capture_on_commit_callbacks(execute=True):
        account = remote_actor_fetch(ZED).account
    account.refresh_from_db()
    assert account.avatar_remote_url == icon and not account.avatar


def test_an_actor_that_deleted_itself_leaves_no_files(
        remote, zed_keys, db, django_capture_on_commit_callbacks):
    icon = serve(remote, "/avatars/1.png", png(50, 50))
    _zed_with(remote, zed_keys, icon={"type": "Image", "url": icon})
    with django_capture_on_commit_callbacks(execute=True):
        account = remote_actor_fetch(ZED).account
    url = serve(remote, "/media/1.png", png(8, 8))
    send(create(note(1, attachment=[image(url)])), zed_keys, django_capture_on_commit_callbacks)
    media = MediaAttachment.objects.get(remote_url=url)
    account.refresh_from_db()
    files = [account.avatar.name, media.file.name, media.thumbnail.name]
    assert all(get(f"/system/{name}").status_code == 200 for name in files)
    remote.routes["/users/zed"] = (410, {"Content-Type": "application/activity+json"}, b"{}")
    send({"id": f"{ZED}#delete", "type": "Delete", "actor": ZED, "object": ZED}, zed_keys,
         django_capture_on_commit_callbacks)
    account.refresh_from_db()
    assert not account.avatar and not account.avatar_remote_url
    assert not MediaAttachment.objects.exists()
    assert all(get(f"/system/{name}").status_code == 404 for name in files)
