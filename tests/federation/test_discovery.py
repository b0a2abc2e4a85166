"""WebFinger (RFC 7033, Mastodon's spec/webfinger.md), host-meta (RFC 6415) and
NodeInfo 2.0/2.1."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tribune.accounts.models import Account
from tribune.core.urls import absolute
from tribune.statuses.services import status_create

DOMAIN = settings.TRIBUNE_DOMAIN


def finger(peer, resource: str | None):
    return peer.get("/.well-known/webfinger", {} if resource is None else {"resource": resource})


def expected_jrd(name: str) -> dict:
    return {
        "subject": f"acct:{name}@{DOMAIN}",
        "aliases": [absolute(f"/users/{name}"), absolute(f"/@{name}")],
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
             "href": absolute(f"/@{name}")},
            {"rel": "self", "type": "application/activity+json",
             "href": absolute(f"/users/{name}")},
            {"rel": "http://ostatus.org/schema/1.0/subscribe",
             "template": absolute("/authorize_interaction?uri={uri}")},
        ],
    }


@pytest.mark.parametrize("resource", [
    f"acct:alice@{DOMAIN}", f"acct:ALICE@{DOMAIN.upper()}", f"alice@{DOMAIN}",
    absolute("/users/alice"), absolute("/@alice"), absolute("/users/Alice"),
])
def test_webfinger_finds_a_local_account_by_each_of_its_names(peer, alice, resource):
    response = finger(peer, resource)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jrd+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == expected_jrd("alice")


def test_a_name_with_a_dot_and_a_dash_is_found_as_account_create_allows_it(peer, make_account):
    """Usernames may hold "." and "-" between other characters (accounts.services);
    WebFinger and the actor document serve them like any other."""
    make_account("jo.ann-lee")
    assert finger(peer, f"acct:jo.ann-lee@{DOMAIN}").json() == expected_jrd("jo.ann-lee")
    actor = peer.get("/users/jo.ann-lee", HTTP_ACCEPT="application/activity+json")
    assert actor.status_code == 200
    assert actor.json()["id"] == absolute("/users/jo.ann-lee")


@pytest.mark.parametrize("resource", [None, "", "acct:", "acct:alice", "alice", "acct:@",
                                      "x" * 600])
def test_webfinger_refuses_a_missing_or_malformed_resource(peer, alice, resource):
    response = finger(peer, resource)
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("resource", [
    "acct:nobody@{d}", "acct:alice@other.example", "acct:alice@{d}.evil.example",
    "https://other.example/users/alice", "{base}/users/alice/statuses/1", "{base}/about",
    "acct:al ice@{d}", "acct:alice/../bob@{d}",
])
def test_webfinger_answers_404_for_what_we_do_not_serve(peer, alice, resource):
    resource = resource.format(d=DOMAIN, base=absolute(""))
    assert finger(peer, resource).status_code == 404


def test_webfinger_does_not_serve_suspended_pending_or_remote_accounts(peer, make_account):
    from tribune.accounts.instance import registration_mode_set
    from tribune.accounts.registrations import account_sign_up
    from tribune.core.ids import new_id

    suspended = make_account("sam")
    Account.objects.filter(pk=suspended.pk).update(suspended_at=timezone.now())
    registration_mode_set(mode="approval")
    account_sign_up(username="penny", email="penny@example.test",
                    password="a-long-test-passphrase", agreement=True, reason="hello")
    Account.objects.create(id=new_id(), username="rem", domain="remote.example",
                           uri="https://remote.example/users/rem", created_at=timezone.now())
    for name in ("sam", "penny"):
        assert finger(peer, f"acct:{name}@{DOMAIN}").status_code == 404
        assert peer.get(f"/users/{name}", HTTP_ACCEPT="application/activity+json").status_code == 404
    assert finger(peer, "acct:rem@remote.example").status_code == 404
    assert finger(peer, f"acct:rem@{DOMAIN}").status_code == 404


def test_host_meta_points_at_webfinger(peer):
    response = peer.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xrd+xml"
    import xml.etree.ElementTree as ET

    root = ET.fromstring(response.content)
    ns = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"
    assert root.tag == f"{ns}XRD"
    links = root.findall(f"{ns}Link")
    assert [(link.get("rel"), link.get("template")) for link in links] == [
        ("lrdd", absolute("/.well-known/webfinger") + "?resource={uri}")]


def test_nodeinfo_well_known_links_both_versions(peer):
    response = peer.get("/.well-known/nodeinfo")
    assert response.status_code == 200
    assert response.json() == {"links": [
        {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
         "href": absolute("/nodeinfo/2.0")},
        {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
         "href": absolute("/nodeinfo/2.1")},
    ]}


# The keys NodeInfo's schemas require (nodeinfo.diaspora.software/ns/schema/2.0 and
# 2.1: "required" of the top level, software, usage and usage.users).
REQUIRED = {"version", "software", "protocols", "services", "openRegistrations", "usage",
            "metadata"}
SOFTWARE_2_0 = {"name", "version"}
SOFTWARE_2_1 = {"name", "version", "homepage"}  # repository and homepage are optional


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_nodeinfo_counts_local_accounts_and_posts(peer, settings, make_account, version):
    from tribune.accounts.instance import registration_mode_set
    from tribune.accounts.registrations import account_sign_up
    from tribune.core.ids import new_id

    settings.TRIBUNE_TITLE = "Harbour Social"
    now = timezone.now()
    recent, older, idle = make_account("recent"), make_account("older"), make_account("idle")
    suspended = make_account("gone")
    Account.objects.filter(pk=recent.pk).update(active_at=now - timedelta(days=2))
    Account.objects.filter(pk=older.pk).update(active_at=now - timedelta(days=90))
    Account.objects.filter(pk=idle.pk).update(active_at=now - timedelta(days=400))
    Account.objects.filter(pk=suspended.pk).update(suspended_at=now, active_at=now)
    Account.objects.create(id=new_id(), username="rem", domain="remote.example",
                           uri="https://remote.example/users/rem", created_at=now,
                           statuses_count=50, active_at=now)
    status_create(account=recent, text="one")
    status_create(account=recent, text="two")
    status_create(account=older, text="three")
    registration_mode_set(mode="approval")
    account_sign_up(username="penny", email="penny@example.test",
                    password="a-long-test-passphrase", agreement=True, reason="hello")
    response = peer.get(f"/nodeinfo/{version}")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        f'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{version}#"')
    body = response.json()
    assert set(body) == REQUIRED
    assert set(body["software"]) == (SOFTWARE_2_0 if version == "2.0" else SOFTWARE_2_1)
    from tribune import __version__

    assert body["version"] == version
    assert body["software"]["name"] == "tribune"
    assert body["software"]["version"] == __version__
    assert body["protocols"] == ["activitypub"]
    assert body["services"] == {"inbound": [], "outbound": []}
    assert body["openRegistrations"] is True  # approval counts as open, as in Mastodon
    assert body["usage"] == {"users": {"total": 3, "activeMonth": 1, "activeHalfyear": 2},
                             "localPosts": 3}
    assert body["metadata"] == {"nodeName": "Harbour Social"}


@pytest.mark.parametrize(("mode", "open_"), [("open", True), ("approval", True),
                                              ("invite", False), ("closed", False)])
def test_nodeinfo_open_registrations_follow_the_mode(peer, db, mode, open_):
    from tribune.accounts.instance import registration_mode_set

    registration_mode_set(mode=mode)
    assert peer.get("/nodeinfo/2.0").json()["openRegistrations"] is open_


def test_unknown_nodeinfo_version_is_404(peer, db):
    assert peer.get("/nodeinfo/1.0").status_code == 404
    assert peer.get("/nodeinfo/2.2").status_code == 404
