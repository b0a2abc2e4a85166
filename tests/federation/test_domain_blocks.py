"""Domain blocks (Mastodon's server-wide moderation): a suspended server is
refused at the inbox before anything is fetched from it, gets no deliveries and
loses its follows; a silenced one stays out of public timelines and notifies
only those who follow its accounts; the command line, the public list (about
page, ``/api/v1/instance/domain_blocks``) and the admin API."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.conf import settings
from django.test import Client

from tests.federation.test_inbound_statuses import create, note, send
from tests.federation.test_inbox import HOST, ZED, post
from tribune.accounts.services import domain_block_upsert
from tribune.federation.actors import remote_actor_fetch
from tribune.graph.models import Follow
from tribune.graph.services import follow_create, follow_request_authorize
from tribune.notifications.models import Notification
from tribune.statuses.services import status_create

ALICE = f"{settings.TRIBUNE_BASE_URL}/users/alice"


@pytest.fixture
def zed_account(zed, db):
    zed.routes["/inbox"] = (202, {}, b"")
    return remote_actor_fetch(ZED).account


def like(status) -> dict:
    return {
        "id": f"{ZED}#likes/{status.pk}",
        "type": "Like",
        "actor": ZED,
        "object": f"{ALICE}/statuses/{status.pk}",
    }


# --- suspend ----------------------------------------------------------------------------


def test_a_suspended_domain_is_refused_at_the_inbox_without_a_fetch(
    zed, zed_keys, alice, db, django_capture_on_commit_callbacks
):
    """The storm of unknown actors of FED-11: each 403, zero requests to the domain."""
    domain_block_upsert(domain="remote.test", severity="suspend")
    status = status_create(account=alice, text="hello")
    for n in range(5):
        actor = f"https://remote.test/users/n{n}"
        response = post(
            "/inbox",
            like(status) | {"actor": actor},
            private_pem=zed_keys[0],
            key_id=f"{actor}#main-key",
        )
        assert response.status_code == 403
        assert "error" in response.json()
    assert zed.received == []
    # a subdomain of a suspended domain is suspended too
    response = post(
        "/inbox",
        like(status),
        private_pem=zed_keys[0],
        key_id="https://sub.remote.test/users/zed#main-key",
    )
    assert response.status_code == 403 and zed.received == []


def test_a_known_actor_of_a_suspended_domain_is_refused_too(
    zed, zed_keys, zed_account, alice, django_capture_on_commit_callbacks
):
    status = status_create(account=alice, text="hello")
    domain_block_upsert(domain="remote.test", severity="suspend")
    response = post("/inbox", like(status), private_pem=zed_keys[0])
    assert response.status_code == 403
    status.refresh_from_db()
    assert status.favourites_count == 0


def test_a_suspension_severs_follows_hides_accounts_and_stops_deliveries(
    zed, zed_account, alice, api_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=alice, target=zed_account)
        follow_request_authorize(account=zed_account, requester=alice)
        follow_create(account=zed_account, target=alice)
    assert Follow.objects.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        domain_block_upsert(
            domain="remote.test", severity="suspend", public_comment="Harassment"
        )
    assert not Follow.objects.exists()
    alice.refresh_from_db()
    assert (alice.followers_count, alice.following_count) == (0, 0)
    assert api_as(alice).get(f"/api/v1/accounts/{zed_account.pk}").status_code == 404
    zed.received.clear()
    # Even a delivery queued to it now (the Block of one of its accounts) is dropped.
    from tribune.federation.tasks import deliver
    from tribune.graph.models import Block
    from tribune.graph.services import block_create

    with django_capture_on_commit_callbacks(execute=True):
        block_create(account=alice, target=zed_account)
    assert Block.objects.filter(account=alice, target=zed_account).exists()
    # and a delivery task run directly, as a retry queued before the block would be
    deliver.call(
        account_id=alice.pk,
        inbox="https://remote.test/users/zed/inbox",
        activity={"type": "Like", "actor": ALICE},
    )
    assert [r for r in zed.received if r.method == "POST"] == []


def test_a_suspended_domains_actors_are_not_fetched(zed, db):
    from tribune.federation.actors import ActorError

    domain_block_upsert(domain="remote.test", severity="suspend")
    with pytest.raises(ActorError):
        remote_actor_fetch(ZED)
    assert zed.received == []


# --- silence ----------------------------------------------------------------------------


def test_a_silenced_domain_leaves_public_timelines_and_followers_still_see_it(
    zed, zed_keys, zed_account, alice, bob, api_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=alice, target=zed_account)
        follow_request_authorize(account=zed_account, requester=alice)
    send(create(note(1)), zed_keys, django_capture_on_commit_callbacks)
    uri = f"{ZED}/statuses/1"
    public = api_as(bob).get("/api/v1/timelines/public")
    assert [s["uri"] for s in public.json()] == [uri]
    with django_capture_on_commit_callbacks(execute=True):
        domain_block_upsert(domain="remote.test", severity="silence")
    assert api_as(bob).get("/api/v1/timelines/public").json() == []
    assert api_as(bob).get("/api/v1/timelines/public", {"remote": "true"}).json() == []
    # alice follows zed: her home timeline still has the post; the follow stays
    assert [s["uri"] for s in api_as(alice).get("/api/v1/timelines/home").json()] == [
        uri
    ]
    assert Follow.objects.filter(account=alice, target=zed_account).exists()
    with django_capture_on_commit_callbacks(execute=True):
        from tribune.accounts.services import domain_block_delete

        domain_block_delete(domain="remote.test")
    assert [s["uri"] for s in api_as(bob).get("/api/v1/timelines/public").json()] == [
        uri
    ]


def test_a_silenced_domain_notifies_only_those_who_follow_its_accounts(
    zed, zed_keys, zed_account, alice, bob, django_capture_on_commit_callbacks
):
    domain_block_upsert(domain="remote.test", severity="silence")
    with django_capture_on_commit_callbacks(execute=True):
        follow_create(account=bob, target=zed_account)
        follow_request_authorize(account=zed_account, requester=bob)
        of_alice = status_create(account=alice, text="for alice")
        of_bob = status_create(account=bob, text="for bob")
    send(like(of_alice), zed_keys, django_capture_on_commit_callbacks)
    send(
        like(of_bob)
        | {"object": f"{settings.TRIBUNE_BASE_URL}/users/bob/statuses/{of_bob.pk}"},
        zed_keys,
        django_capture_on_commit_callbacks,
    )
    of_alice.refresh_from_db()
    assert of_alice.favourites_count == 1  # the favourite counts...
    assert not Notification.objects.filter(
        account=alice, type="favourite"
    ).exists()  # ...silently
    assert Notification.objects.filter(
        account=bob, type="favourite", from_account=zed_account
    ).exists()


# --- the lists and the command line -----------------------------------------------------


def test_the_public_list_in_the_api_and_on_the_about_page(api_as, db):
    domain_block_upsert(
        domain="Spam.Example",
        severity="suspend",
        public_comment="Spam",
        private_comment="staff only",
    )
    domain_block_upsert(domain="loud.example", severity="silence")
    domain_block_upsert(domain="media.example", severity="noop", reject_media=True)
    response = api_as(None).get("/api/v1/instance/domain_blocks")
    assert response.status_code == 200
    assert response.json() == [
        {
            "domain": "loud.example",
            "severity": "silence",
            "comment": None,
            "digest": hashlib.sha256(b"loud.example").hexdigest(),
        },
        {
            "domain": "spam.example",
            "severity": "suspend",
            "comment": "Spam",
            "digest": hashlib.sha256(b"spam.example").hexdigest(),
        },
    ]
    page = Client(HTTP_HOST=HOST).get("/about").content.decode()
    assert "spam.example" in page and "Spam" in page and "loud.example" in page
    assert "staff only" not in page and "media.example" not in page


def test_the_command_line_blocks_lists_and_unblocks(db, capsys):
    from tribune.accounts.models import DomainBlock
    from tribune.cli import main

    assert (
        main(
            [
                "domains",
                "block",
                "bad.example",
                "--severity",
                "suspend",
                "--public-comment",
                "Abuse",
                "--reject-reports",
            ]
        )
        == 0
    )
    assert main(["domains", "block", "meh.example"]) == 0
    assert main(["domains", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [
        "bad.example\tsuspend\treject_reports\tAbuse",
        "meh.example\tsilence\t-\t",
    ]
    block = DomainBlock.objects.get(domain="bad.example")
    assert block.reject_reports and not block.reject_media
    assert main(["domains", "unblock", "bad.example"]) == 0
    assert list(DomainBlock.objects.values_list("domain", flat=True)) == ["meh.example"]
    assert main(["domains", "unblock", "bad.example"]) == 1
    assert main(["domains", "block", "not a domain"]) == 1
    with pytest.raises(SystemExit):
        main(["domains", "block", "x.example", "--severity", "nuke"])
    assert not DomainBlock.objects.filter(domain="x.example").exists()


def test_the_admin_api_for_staff(api_as, moderator, alice):
    staff = api_as(moderator, scopes="admin:read admin:write")
    created = staff.post(
        "/api/v1/admin/domain_blocks",
        json={
            "domain": "bad.example",
            "severity": "suspend",
            "public_comment": "Abuse",
            "private_comment": "seen in three reports",
        },
    )
    assert created.status_code == 200, created.content
    block = created.json()
    assert block["domain"] == "bad.example" and block["severity"] == "suspend"
    assert block["digest"] == hashlib.sha256(b"bad.example").hexdigest()
    assert block["private_comment"] == "seen in three reports"
    again = staff.post("/api/v1/admin/domain_blocks", json={"domain": "bad.example"})
    assert again.status_code == 422
    bad = staff.post("/api/v1/admin/domain_blocks", json={"domain": "a b"})
    assert bad.status_code == 422
    changed = staff.put(
        f"/api/v1/admin/domain_blocks/{block['id']}", json={"severity": "silence"}
    )
    assert changed.json()["severity"] == "silence"
    assert changed.json()["public_comment"] == "Abuse"
    assert [b["domain"] for b in staff.get("/api/v1/admin/domain_blocks").json()] == [
        "bad.example"
    ]
    assert (
        staff.get(f"/api/v1/admin/domain_blocks/{block['id']}").json()["id"]
        == block["id"]
    )
    not_staff = api_as(alice, scopes="admin:read admin:write")
    assert not_staff.get("/api/v1/admin/domain_blocks").status_code == 403
    assert staff.delete(f"/api/v1/admin/domain_blocks/{block['id']}").status_code == 200
    assert staff.get(f"/api/v1/admin/domain_blocks/{block['id']}").status_code == 404
    assert json.loads(staff.get("/api/v1/admin/domain_blocks").content) == []
