"""Documents shaped as Mastodon, GoToSocial and Misskey write them
(tests/federation/fixtures), delivered signed to the inboxes as those servers
deliver them: the accounts resolve, the posts are stored and rendered, replies
thread, boosts and favourites count (and their undos uncount), edits apply and
deletions remove."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from tests.federation import peers
from tests.federation.fixtures import Local, gotosocial, mastodon, misskey
from tests.federation.test_inbox import HOST, post
from tribune.accounts.models import Account
from tribune.notifications.models import Notification
from tribune.statuses.models import Status
from tribune.statuses.services import status_create

SERVERS = {"mastodon": mastodon, "gotosocial": gotosocial, "misskey": misskey}
LOCAL = Local(base=settings.TRIBUNE_BASE_URL, domain=settings.TRIBUNE_DOMAIN, username="alice")
REL = 'rel="nofollow noopener noreferrer"'

# What each post must look like here: written out by hand from the fixture's
# HTML and Mastodon's allow-list (core.text.sanitize): classes other than
# h-card, u-url, mention, hashtag, invisible and ellipsis are dropped, every
# link gets our rel, the rest is kept.
EXPECTED_HTML = {
    "mastodon": (
        f'<p><span class="h-card" translate="no"><a href="{LOCAL.profile}" '
        f'class="u-url mention" {REL}>@<span>alice</span></a></span> the pattern is up '
        f':sparkle: <a href="https://toot.remote.test/tags/Knitting" class="mention hashtag" '
        f'{REL}>#<span>Knitting</span></a> '
        '<a href="https://patterns.example.test/cardigans/2026/raglan" target="_blank" '
        f'translate="no" {REL}><span class="invisible">https://</span><span class="ellipsis">'
        'patterns.example.test/cardigans/</span><span class="invisible">2026/raglan</span>'
        '</a></p>'),
    "gotosocial": (
        f'<p><span class="h-card"><a href="{LOCAL.profile}" class="u-url mention" '
        f'target="_blank" {REL}>@<span>alice</span></a></span> fog again this morning, '
        '9°C<br><a href="https://gts.remote.test/tags/weather" class="mention hashtag" '
        f'target="_blank" {REL}>#<span>weather</span></a></p>'),
    "misskey": (
        f'<p><a href="{LOCAL.profile}" class="u-url mention" {REL}>@alice@{LOCAL.domain}</a>'
        ' new sketch <i>finally</i> <span>:nya:</span><br>'
        f'<a href="https://mk.remote.test/tags/sketch" {REL}>#sketch</a></p>'),
}
EXPECTED_POST = {  # spoiler_text, sensitive, language, the hashtag's name, the account's name
    "mastodon": ("pattern spoilers", True, "en", "knitting", "Mona Quill :sparkle:"),
    "gotosocial": ("weather, long", True, "fr", "weather", "Gale Bot"),
    "misskey": ("cat pictures", True, None, "sketch", "Mika :nya:"),
}


@pytest.fixture(scope="module")
def server_keys():
    return {name: peers.key_pair() for name in SERVERS}


@pytest.fixture
def servers(settings, server_keys):
    """The three servers on one loopback peer, each under its own domain,
    serving its actor, WebFinger and (GoToSocial) key documents."""
    peer, http = peers.start("127.0.0.2")
    settings.TRIBUNE_DEV_PEERS = {m.DOMAIN: (peer.address, peer.port) for m in SERVERS.values()}
    for name, server in SERVERS.items():
        public = server_keys[name][1]
        actor_path = urlsplit(server.ACTOR).path
        peer.json(actor_path, server.actor(public))
        peer.routes[f"{actor_path}/inbox"] = (202, {}, b"")
        peer.json(f"/.well-known/webfinger?resource=acct:{server.HANDLE}", server.webfinger(),
                  content_type="application/jrd+json")
    peer.json(urlsplit(gotosocial.KEY_ID).path, gotosocial.key_stub(server_keys["gotosocial"][1]))
    peer.routes["/inbox"] = (202, {}, b"")
    yield peer
    http.shutdown()
    http.server_close()


@pytest.fixture(params=list(SERVERS))
def name(request):
    return request.param


def deliver(name, activity, server_keys, capture):
    """POST ``activity`` signed by ``name``'s actor to where that server
    delivers it (its shared inbox, or GoToSocial's per-account inbox)."""
    server = SERVERS[name]
    path = (server.inbox_path(LOCAL) if server is gotosocial else server.INBOX_PATH)
    with capture(execute=True):
        response = post(path, activity, private_pem=server_keys[name][0],
                        key_id=server.KEY_ID)
    assert response.status_code == 202, response.content


def test_the_account_resolves_by_its_handle(name, servers, alice, api_as):
    server = SERVERS[name]
    response = api_as(alice).get("/api/v1/accounts/lookup", {"acct": f"@{server.HANDLE}"})
    assert response.status_code == 200, response.content
    account = response.json()
    assert account["acct"] == server.HANDLE
    assert account["username"] == server.USERNAME
    assert account["display_name"] == EXPECTED_POST[name][4]
    assert account["url"] == server.PROFILE
    assert account["locked"] is (server is gotosocial)
    assert account["bot"] is (server is gotosocial)  # a Service
    assert Account.objects.get(uri=server.ACTOR).remote_actor.key_id == server.KEY_ID
    expected_note = {
        "mastodon": f'<p>Knits, writes, <a href="https://toot.remote.test/tags/yarn" '
                    f'class="mention hashtag" {REL}>#<span>yarn</span></a></p>',
        "gotosocial": "<p>Posts the weather at the lighthouse every morning.</p>",
        "misskey": "<p><span>draws cats </span><b>on Sundays</b></p>"}[name]
    assert account["note"] == expected_note


def test_a_public_post_is_stored_and_rendered(name, servers, server_keys, alice, api_as,
                                              django_capture_on_commit_callbacks):
    server = SERVERS[name]
    # the first delivery: the signing key is fetched as that server serves it
    deliver(name, server.create(server.note(LOCAL)), server_keys,
            django_capture_on_commit_callbacks)
    stored = Status.objects.get(uri=server.NOTE)
    assert stored.account.uri == server.ACTOR
    spoiler, sensitive, language, tag, display_name = EXPECTED_POST[name]
    status = api_as(alice).get(f"/api/v1/statuses/{stored.pk}").json()
    assert status["content"] == EXPECTED_HTML[name]
    assert (status["spoiler_text"], status["sensitive"], status["language"]) == (
        spoiler, sensitive, language)
    assert status["visibility"] == "public"
    assert status["uri"] == server.NOTE
    assert status["account"]["acct"] == server.HANDLE
    assert status["account"]["display_name"] == display_name
    assert [m["acct"] for m in status["mentions"]] == ["alice"]
    assert [t["name"] for t in status["tags"]] == [tag]
    assert Notification.objects.filter(account=alice, type="mention",
                                       status=stored, from_account=stored.account).exists()
    # the web page shows the same HTML under its warning, and the author by handle
    client = Client(HTTP_HOST=HOST)
    client.force_login(alice.user)
    page = client.get(f"/@{server.HANDLE}/{stored.pk}")
    assert page.status_code == 200
    # the post's links name its author by username: one redirect to the handle
    moved = client.get(f"/@{server.USERNAME}/{stored.pk}")
    assert (moved.status_code, moved["Location"]) == (301, f"/@{server.HANDLE}/{stored.pk}")
    html = page.content.decode()
    assert EXPECTED_HTML[name] in html and spoiler in html
    assert f'href="/@{server.HANDLE}"' in html
    if server is misskey:  # no url on Misskey's notes
        assert status["url"] in (None, server.NOTE)
    else:
        assert status["url"] == server.note(LOCAL)["url"]


def test_a_reply_a_boost_and_a_like_of_a_local_post(name, servers, server_keys, alice, api_as,
                                                    django_capture_on_commit_callbacks):
    server = SERVERS[name]
    parent = status_create(account=alice, text="Anyone seen the lighthouse today?")
    parent_uri = LOCAL.status(parent.pk)
    deliver(name, server.create(server.reply(LOCAL, parent_uri)), server_keys,
            django_capture_on_commit_callbacks)
    announce, like = server.announce(LOCAL, parent_uri), server.like(parent_uri)
    deliver(name, announce, server_keys, django_capture_on_commit_callbacks)
    deliver(name, like, server_keys, django_capture_on_commit_callbacks)
    reply = Status.objects.get(uri=server.REPLY)
    assert reply.in_reply_to == parent and reply.account.uri == server.ACTOR
    api = api_as(alice)
    context = api.get(f"/api/v1/statuses/{parent.pk}/context").json()
    assert [s["uri"] for s in context["descendants"]] == [server.REPLY]
    shown = api.get(f"/api/v1/statuses/{parent.pk}").json()
    assert (shown["replies_count"], shown["reblogs_count"], shown["favourites_count"]) == (
        1, 1, 1)
    notified = sorted(Notification.objects.filter(account=alice, from_account=reply.account)
                      .values_list("type", flat=True))
    assert notified == ["favourite", "mention", "reblog"]
    boosters = api.get(f"/api/v1/statuses/{parent.pk}/reblogged_by").json()
    assert [a["acct"] for a in boosters] == [server.HANDLE]
    for activity in (like, announce):
        deliver(name, server.undo(activity), server_keys, django_capture_on_commit_callbacks)
    shown = api.get(f"/api/v1/statuses/{parent.pk}").json()
    assert (shown["replies_count"], shown["reblogs_count"], shown["favourites_count"]) == (
        1, 0, 0)


@pytest.mark.parametrize("name", ["mastodon", "gotosocial"])
def test_an_edit_is_applied(name, servers, server_keys, alice, api_as,
                            django_capture_on_commit_callbacks):
    server = SERVERS[name]
    deliver(name, server.create(server.note(LOCAL)), server_keys,
            django_capture_on_commit_callbacks)
    deliver(name, server.update(LOCAL), server_keys, django_capture_on_commit_callbacks)
    stored = Status.objects.get(uri=server.NOTE)
    api = api_as(alice)
    status = api.get(f"/api/v1/statuses/{stored.pk}").json()
    old, new = {"mastodon": ("the pattern is up", "the pattern (v2) is up"),
                "gotosocial": ("9°C", "10°C")}[name]
    assert status["content"] == EXPECTED_HTML[name].replace(old, new)
    assert status["edited_at"] is not None
    history = api.get(f"/api/v1/statuses/{stored.pk}/history").json()
    assert [h["content"] for h in history] == [EXPECTED_HTML[name], status["content"]]


def test_a_deletion_removes_the_post(name, servers, server_keys, alice, api_as,
                                     django_capture_on_commit_callbacks):
    server = SERVERS[name]
    deliver(name, server.create(server.note(LOCAL)), server_keys,
            django_capture_on_commit_callbacks)
    pk = Status.objects.get(uri=server.NOTE).pk
    delete = server.delete(LOCAL) if server is gotosocial else server.delete()
    deliver(name, delete, server_keys, django_capture_on_commit_callbacks)
    assert not Status.objects.filter(uri=server.NOTE).exists()
    assert api_as(alice).get(f"/api/v1/statuses/{pk}").status_code == 404
    assert Account.objects.get(uri=server.ACTOR).statuses_count == 0


@pytest.mark.parametrize("quoted", ["local", "unknown"])
def test_a_misskey_quote_is_stored_as_a_post(quoted, servers, server_keys, alice, api_as,
                                             django_capture_on_commit_callbacks):
    target = (LOCAL.status(status_create(account=alice, text="my lighthouse photo").pk)
              if quoted == "local" else "https://mk.remote.test/notes/9x2lzzzzzz")
    deliver("misskey", misskey.create(misskey.quote(LOCAL, target)), server_keys,
            django_capture_on_commit_callbacks)
    stored = Status.objects.get(uri=misskey.QUOTE)
    status = api_as(alice).get(f"/api/v1/statuses/{stored.pk}").json()
    assert status["content"] == (
        f'<p>look at this<br><br>RE: <a href="{target}" {REL}>{target}</a></p>')
    assert status["account"]["acct"] == misskey.HANDLE and status["reblog"] is None
    assert status["visibility"] == "public"


def test_the_fixtures_are_json():
    """Each document is plain JSON, as it travels."""
    for server in SERVERS.values():
        for document in (server.actor("PEM"), server.webfinger(), server.note(LOCAL),
                         server.reply(LOCAL, LOCAL.status(1))):
            assert json.loads(json.dumps(document)) == document
