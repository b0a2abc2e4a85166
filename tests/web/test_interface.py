"""The server-rendered interface through Django's test client: pages, in-place
actions with and without htmx, form errors, security headers, query counts."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tribune.graph.services import follow_create
from tribune.statuses.models import Bookmark, Favourite, Status
from tribune.statuses.services import favourite_create, status_create

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(account=None, **extra) -> Client:
    client = Client(HTTP_HOST="localhost", **extra)
    if account is not None:
        client.force_login(account.user)
    return client


def query_count(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


def count_cards(html: str) -> int:
    return len(re.findall(r'<article class="status[ "]', html))


def inline_scripts(html: str) -> list[str]:
    return re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)


# --- pages ---------------------------------------------------------------------------


def test_visitor_gets_the_landing_page_with_rules_and_local_posts(alice):
    from tribune.moderation.services import rule_create

    rule_create(text="No harassment")
    status_create(account=alice, text="Hello from the landing page")
    status_create(account=alice, text="followers see this", visibility="private")
    html = client_for().get("/").content.decode()
    assert "No harassment" in html
    assert "Hello from the landing page" in html
    assert "followers see this" not in html
    assert 'href="/auth/sign_in"' in html


def test_signed_in_home_shows_followed_posts_and_a_compose_box(alice, bob):
    follow_create(account=bob, target=alice)
    status_create(account=alice, text="for my followers", visibility="private")
    response = client_for(bob).get("/")
    html = response.content.decode()
    assert "for my followers" in html
    assert 'id="compose"' in html
    assert 'data-max="500"' in html


def test_public_urls_keep_mastodons_shapes(alice, bob):
    status = status_create(account=alice, text="a #Shape test")
    reply = status_create(account=bob, text="@alice answered", in_reply_to_id=status.pk)
    visitor = client_for()
    card = f'id="status-{status.pk}"'
    assert card in visitor.get("/@alice").content.decode()
    thread = visitor.get(f"/@alice/{status.pk}").content.decode()
    assert "answered" in thread and f'id="status-{reply.pk}"' in thread
    assert card in visitor.get("/tags/shape").content.decode()
    # The same post under someone else's name moves to its own; unknown ids are not found.
    assert visitor.get(f"/@bob/{status.pk}").status_code == 301
    assert visitor.get("/@alice/123456789").status_code == 404
    assert visitor.get("/@alice/not-an-id").status_code == 404
    assert visitor.get("/@nobody").status_code == 404


def test_a_thread_shows_ancestors_before_and_replies_after(alice, bob):
    root = status_create(account=alice, text="root post")
    middle = status_create(account=bob, text="@alice middle reply", in_reply_to_id=root.pk)
    leaf = status_create(account=alice, text="@bob leaf reply", in_reply_to_id=middle.pk)
    html = client_for().get(f"/@bob/{middle.pk}").content.decode()
    assert html.index("root post") < html.index("middle reply") < html.index("leaf reply")
    assert f'id="status-{leaf.pk}"' in html


def test_private_posts_are_not_shown_to_visitors(alice, bob):
    secret = status_create(account=alice, text="followers only", visibility="private")
    assert client_for().get(f"/@alice/{secret.pk}").status_code == 404
    assert client_for(bob).get(f"/@alice/{secret.pk}").status_code == 404
    follow_create(account=bob, target=alice)
    assert client_for(bob).get(f"/@alice/{secret.pk}").status_code == 200


def test_pages_for_people_send_visitors_to_sign_in():
    for path in ("/notifications", "/bookmarks", "/favourites", "/follow_requests"):
        response = client_for().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/auth/sign_in?next=")


def test_user_content_is_shown_only_as_sanitised_html(alice):
    status_create(account=alice, text='<script>alert(1)</script> <img src=x onerror=alert(2)>')
    html = client_for().get("/@alice").content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onerror=alert" not in html.replace("onerror=alert(2)&gt;", "")


# --- security headers ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/public/local", "/auth/sign_in", "/@alice"])
def test_pages_forbid_inline_scripts(alice, path):
    response = client_for().get(path)
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1).split()
    assert script_src == ["'self'"]
    assert "frame-ancestors 'none'" in policy
    assert inline_scripts(response.content.decode()) == []


def test_forms_require_the_csrf_token(alice, bob):
    status = status_create(account=alice, text="csrf")
    client = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    client.force_login(bob.user)
    refused = client.post(f"/statuses/{status.pk}/favourite")
    assert refused.status_code == 403
    assert not Favourite.objects.filter(account=bob).exists()


# --- actions ---------------------------------------------------------------------------


def test_favourite_without_javascript_redirects_back(alice, bob):
    status = status_create(account=alice, text="like me")
    response = client_for(bob).post(f"/statuses/{status.pk}/favourite",
                                    HTTP_REFERER="http://localhost/public/local")
    assert response.status_code == 303
    assert response["Location"] == "http://localhost/public/local"
    assert Favourite.objects.filter(account=bob, status=status).count() == 1


def test_actions_with_htmx_answer_the_new_button_bar(alice, bob):
    status = status_create(account=alice, text="like me in place")
    client = client_for(bob)
    response = client.post(f"/statuses/{status.pk}/favourite", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<footer class="actions"')
    favourite = re.search(r'aria-pressed="(\w+)">Favourite <span class="count">(\d+)', html)
    assert favourite.groups() == ("true", "1")
    assert f'action="/statuses/{status.pk}/unfavourite"' in html
    html = client.post(f"/statuses/{status.pk}/bookmark", **HTMX).content.decode()
    assert re.search(r'aria-pressed="true">Bookmark', html)
    assert Bookmark.objects.filter(account=bob, status=status).exists()
    html = client.post(f"/statuses/{status.pk}/reblog", **HTMX).content.decode()
    assert re.search(r'aria-pressed="true">Boost <span class="count">1', html)
    html = client.post(f"/statuses/{status.pk}/unfavourite", **HTMX).content.decode()
    assert re.search(r'aria-pressed="false">Favourite <span class="count">0', html)


def test_actions_on_a_reblog_act_on_the_original(alice, bob, carol):
    original = status_create(account=alice, text="original")
    from tribune.statuses.services import reblog_create

    reblog = reblog_create(account=bob, status=original)
    client_for(carol).post(f"/statuses/{reblog.pk}/favourite")
    assert Favourite.objects.filter(account=carol, status=original).exists()


def test_unknown_or_invisible_targets_are_404(alice, bob):
    secret = status_create(account=alice, text="secret", visibility="private")
    client = client_for(bob)
    assert client.post(f"/statuses/{secret.pk}/favourite").status_code == 404
    assert client.post("/statuses/999/favourite").status_code == 404
    assert client.post(f"/statuses/{secret.pk}/explode").status_code == 404
    assert client.get(f"/statuses/{secret.pk}/favourite").status_code == 405
    assert not Favourite.objects.exists()


def test_compose_posts_and_returns_to_the_page(bob):
    client = client_for(bob)
    response = client.post("/statuses", {"text": "Hello #world", "spoiler_text": "cw here",
                                         "visibility": "unlisted"},
                           HTTP_REFERER="http://localhost/")
    assert response.status_code == 303
    status = Status.objects.get(account=bob)
    assert (status.text, status.spoiler_text, status.visibility) == (
        "Hello #world", "cw here", "unlisted")
    assert status.sensitive is True
    assert [t.name for t in status.tags.all()] == ["world"]


def test_compose_errors_come_back_on_the_form_and_post_nothing(bob, settings):
    client = client_for(bob)
    too_long = "x" * (settings.TRIBUNE_MAX_CHARACTERS + 1)
    response = client.post("/statuses", {"text": too_long, "visibility": "public"})
    assert response.status_code == 422
    html = response.content.decode()
    limit = settings.TRIBUNE_MAX_CHARACTERS
    assert f"Text character limit of {limit} exceeded" in html
    assert "Validation failed" not in html  # the API's wording, not a person's
    assert too_long in html  # what was typed is kept
    empty = client.post("/statuses", {"text": "", "visibility": "public"})
    assert empty.status_code == 422
    bad = client.post("/statuses", {"text": "hi", "visibility": "everyone"})
    assert bad.status_code == 422
    assert not Status.objects.exists()


def test_reply_box_mentions_the_author_and_keeps_the_thread(alice, bob):
    status = status_create(account=alice, text="question?", visibility="unlisted")
    client = client_for(bob)
    html = client.get(f"/@alice/{status.pk}").content.decode()
    assert "Replying to @alice" in html
    assert re.search(r'<textarea[^>]*>\s*@alice </textarea>', html)
    assert re.search(r'<option value="unlisted" selected>', html)
    response = client.post("/statuses", {"text": "@alice answer", "visibility": "unlisted",
                                         "in_reply_to_id": str(status.pk)})
    reply = Status.objects.get(account=bob)
    assert response["Location"] == f"/@alice/{status.pk}#status-{reply.pk}"
    assert reply.in_reply_to_id == status.pk


def test_edit_keeps_history_and_only_the_author_may_edit(alice, bob):
    status = status_create(account=alice, text="first version")
    assert client_for(bob).get(f"/@alice/{status.pk}/edit").status_code == 404
    assert client_for(bob).post(f"/@alice/{status.pk}/edit", {"text": "hijack"}).status_code == 404
    client = client_for(alice)
    form = client.get(f"/@alice/{status.pk}/edit").content.decode()
    assert "first version" in form
    response = client.post(f"/@alice/{status.pk}/edit", {"text": "second version",
                                                           "spoiler_text": ""})
    assert response.status_code == 303
    history = client_for().get(f"/@alice/{status.pk}/history").content.decode()
    assert history.index("second version") < history.index("first version")
    assert "edited" in client_for().get(f"/@alice/{status.pk}").content.decode()


def test_delete_own_post_only(alice, bob):
    status = status_create(account=alice, text="short-lived")
    assert client_for(bob).post(f"/statuses/{status.pk}/delete").status_code == 404
    response = client_for(alice).post(f"/statuses/{status.pk}/delete",
                                      HTTP_REFERER=f"http://localhost/@alice/{status.pk}")
    assert response.status_code == 303
    assert response["Location"] == "/@alice"
    assert not Status.objects.filter(pk=status.pk).exists()


def test_follow_a_locked_account_and_the_request_is_accepted(make_account, bob):
    locked = make_account("locked_one", locked=True)
    response = client_for(bob).post(f"/accounts/{locked.pk}/follow")
    assert response.status_code == 303
    profile = client_for(bob).get("/@locked_one").content.decode()
    assert "Cancel follow request" in profile
    requests_page = client_for(locked).get("/follow_requests").content.decode()
    assert "@bob" in requests_page
    client_for(locked).post(f"/follow_requests/{bob.pk}/authorize")
    assert "Unfollow" in client_for(bob).get("/@locked_one").content.decode()
    assert client_for(locked).get("/follow_requests").content.decode().count("@bob") == 0


def test_block_and_mute_buttons(alice, bob):
    client = client_for(bob)
    client.post(f"/accounts/{alice.pk}/mute")
    assert "Unmute" in client.get("/@alice").content.decode()
    client.post(f"/accounts/{alice.pk}/block")
    html = client.get("/@alice").content.decode()
    assert "Unblock" in html and ">Follow<" not in html
    assert client.post(f"/accounts/{bob.pk}/follow").status_code == 422  # oneself


def test_notifications_page_shows_favourites_and_replies(alice, bob):
    status = status_create(account=alice, text="notify me")
    favourite_create(account=bob, status=status)
    status_create(account=bob, text="@alice a reply", in_reply_to_id=status.pk)
    html = client_for(alice).get("/notifications").content.decode()
    assert "favourited your post" in html
    assert "mentioned you" in html
    assert "a reply" in html


# --- lists: load more, polling --------------------------------------------------------


def test_load_more_and_polling_fragments(alice):
    posts = [status_create(account=alice, text=f"post number {i}") for i in range(25)]
    client = client_for()
    page = client.get("/public/local").content.decode()
    assert "post number 24" in page and "post number 4" not in page
    more = re.search(r'hx-get="([^"]+part=more)"', page).group(1).replace("&amp;", "&")
    assert more == f"/public/local?max_id={posts[5].pk}&part=more"
    fragment = client.get(more, **HTMX).content.decode()
    assert "post number 4" in fragment and "post number 0" in fragment
    assert "post number 5" not in fragment
    assert "<html" not in fragment
    # Polling from the newest post returns only what came after it.
    poll = re.search(r'hx-get="([^"]+part=new)"', page).group(1).replace("&amp;", "&")
    assert count_cards(client.get(poll, **HTMX).content.decode()) == 0
    newer = status_create(account=alice, text="brand new")
    fresh = client.get(poll, **HTMX).content.decode()
    assert 'hx-swap-oob="afterbegin:#feed"' in fresh and "brand new" in fresh
    assert count_cards(fresh) == 1
    assert f"min_id={newer.pk}" in fresh  # the next poll starts after it
    # Without JavaScript the link is a plain page of older posts.
    assert client.get(f"/public/local?max_id={posts[5].pk}").status_code == 200


def test_polling_an_empty_timeline_catches_the_first_post(alice, bob):
    follow_create(account=bob, target=alice)
    client = client_for(bob)
    page = client.get("/").content.decode()
    poll = re.search(r'hx-get="([^"]+part=new)"', page).group(1).replace("&amp;", "&")
    assert poll == "/?min_id=0&part=new"
    status_create(account=alice, text="first ever")
    assert "first ever" in client.get(poll, **HTMX).content.decode()


# --- a constant number of queries per page --------------------------------------------


def _fill(alice, bob, carol, n):
    statuses = []
    for i in range(n):
        status = status_create(account=alice, text=f"post {i} #tagged @bob")
        favourite_create(account=bob, status=status)
        status_create(account=carol, text=f"@alice reply {i}", in_reply_to_id=status.pk)
        statuses.append(status)
    return statuses


@pytest.mark.parametrize("path", ["/", "/public/local", "/tags/tagged", "/@alice",
                                  "/@alice/with_replies", "/@alice/followers",
                                  "/notifications", "/favourites", "/bookmarks"])
def test_list_pages_cost_the_same_queries_for_2_or_12_items(path, make_account):
    counts = []
    for n in (2, 12):
        alice, bob, carol = (make_account(f"{name}{n}") for name in ("alice", "bob", "carol"))
        for follower in (bob, carol):
            follow_create(account=follower, target=alice)
        follow_create(account=alice, target=bob)
        _fill(alice, bob, carol, n)
        client = client_for(alice if path in ("/", "/notifications") else bob)
        counts.append(query_count(client, path.replace("alice", f"alice{n}")))
    assert counts[0] == counts[1], counts


def test_thread_page_costs_the_same_queries_for_any_thread_size(make_account):
    counts = []
    for n in (1, 10):
        alice, bob = make_account(f"talker{n}"), make_account(f"replier{n}")
        root = status_create(account=alice, text="root")
        parent = root
        for i in range(n):
            parent = status_create(account=bob if i % 2 == 0 else alice,
                                   text=f"reply {i}", in_reply_to_id=parent.pk)
        counts.append(query_count(client_for(bob), f"/@talker{n}/{root.pk}"))
    assert counts[0] == counts[1], counts


def test_pin_own_posts_which_lead_the_profile(alice, bob):
    older = status_create(account=alice, text="pin me please")
    for i in range(3):
        status_create(account=alice, text=f"newer {i}")
    client = client_for(alice)
    html = client.post(f"/statuses/{older.pk}/pin", **HTMX).content.decode()
    assert re.search(r'aria-pressed="true">Unpin from profile', html)
    profile = client_for().get("/@alice").content.decode()
    assert profile.index("Pinned") < profile.index("pin me please") < profile.index("newer 2")
    # Someone else's post offers no pin button and cannot be pinned.
    assert "Pin on profile" not in client_for(bob).get("/@alice").content.decode()
    assert client_for(bob).post(f"/statuses/{older.pk}/pin").status_code == 422
    client.post(f"/statuses/{older.pk}/unpin")
    assert "Pinned" not in client_for().get("/@alice").content.decode()


def test_who_favourited_and_boosted_a_post(alice, bob, carol):
    from tribune.statuses.services import reblog_create

    status = status_create(account=alice, text="popular")
    favourite_create(account=bob, status=status)
    reblog_create(account=carol, status=status)
    thread = client_for().get(f"/@alice/{status.pk}").content.decode()
    assert "1 favourite" in thread and "1 boost" in thread
    favourited = client_for().get(f"/@alice/{status.pk}/favourites").content.decode()
    assert "@bob" in favourited and "@carol" not in favourited
    boosted = client_for().get(f"/@alice/{status.pk}/reblogs").content.decode()
    assert "@carol" in boosted and "@bob" not in boosted


def test_blocked_and_muted_accounts_can_be_listed_and_released(alice, bob, carol):
    client = client_for(alice)
    client.post(f"/accounts/{bob.pk}/block")
    client.post(f"/accounts/{carol.pk}/mute")
    blocks = client.get("/blocks").content.decode()
    assert "@bob" in blocks and "@carol" not in blocks
    assert f'action="/accounts/{bob.pk}/unblock"' in blocks
    mutes = client.get("/mutes").content.decode()
    assert "@carol" in mutes and f'action="/accounts/{carol.pk}/unmute"' in mutes
    client.post(f"/accounts/{bob.pk}/unblock")
    assert "@bob" not in client.get("/blocks").content.decode()


def test_unread_notifications_are_counted_until_the_page_is_read(alice, bob, carol):
    status = status_create(account=alice, text="count the stars")
    favourite_create(account=bob, status=status)
    favourite_create(account=carol, status=status)
    client = client_for(alice)
    badge = re.search(r'<span class="unread">(\d+)', client.get("/public/local").content.decode())
    assert badge and badge.group(1) == "2"
    client.get("/notifications")
    assert 'class="unread"' not in client.get("/public/local").content.decode()
    from tribune.notifications.models import Notification
    from tribune.timelines.selectors import markers

    newest = Notification.objects.filter(account=alice).order_by("-id").first()
    assert markers(account=alice, timelines=["notifications"])["notifications"].last_read_id == newest.pk
    status_create(account=bob, text="@alice one more")
    badge = re.search(r'<span class="unread">(\d+)', client.get("/").content.decode())
    assert badge.group(1) == "1"


# --- recovering from wrong links, expired forms and errors ---------------------------


def test_missing_pages_are_styled_translated_and_slash_tolerant(alice):
    status = status_create(account=alice, text="slash")
    missing = client_for(HTTP_ACCEPT_LANGUAGE="fr").get("/@nobody")
    assert missing.status_code == 404
    html = missing.content.decode()
    assert "Page introuvable" in html and 'class="site-header"' in html
    assert client_for().get("/tags/cozy/").status_code == 301
    assert client_for().get("/tags/cozy/")["Location"] == "/tags/cozy"
    assert client_for().get(f"/@alice/{status.pk}/?x=1")["Location"] == f"/@alice/{status.pk}?x=1"
    assert client_for().get("/no/such/page/").status_code == 404
    api = client_for().get("/api/v1/nothing/here")
    assert api.status_code == 404 and api.json() == {"error": "Record not found"}


def test_mastodon_and_activitypub_urls_lead_to_the_right_page(alice, bob):
    status = status_create(account=alice, text="where am I")
    visitor = client_for()
    assert visitor.get("/users/alice")["Location"] == "/@alice"
    assert visitor.get(f"/users/alice/statuses/{status.pk}")["Location"] == f"/@alice/{status.pk}"
    moved = visitor.get(f"/@bob/{status.pk}")
    assert (moved.status_code, moved["Location"]) == (301, f"/@alice/{status.pk}")
    assert visitor.get(f"/@bob/{status.pk}/history")["Location"] == f"/@alice/{status.pk}/history"
    assert visitor.get("/users/nobody").status_code == 404


def test_about_page_shows_the_rules(alice):
    from tribune.moderation.services import rule_create

    rule_create(text="Keep it civil")
    html = client_for().get("/about").content.decode()
    assert "Keep it civil" in html and "/api/v2/instance" in html


def test_an_expired_form_gets_a_page_that_explains_and_htmx_reloads(alice, bob):
    status = status_create(account=alice, text="stale")
    client = Client(HTTP_HOST="localhost", enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(bob.user)
    plain = client.post("/statuses", {"text": "lost?", "visibility": "public"})
    assert plain.status_code == 403
    assert "Ce formulaire a expiré" in plain.content.decode()
    htmx = client.post(f"/statuses/{status.pk}/favourite", **HTMX)
    assert (htmx.status_code, htmx["HX-Refresh"]) == (403, "true")
    assert not Status.objects.filter(account=bob).exists()


def test_htmx_actions_after_signing_out_send_the_page_to_sign_in(alice):
    status = status_create(account=alice, text="signed out")
    response = client_for().post(f"/statuses/{status.pk}/favourite", **HTMX,
                                 HTTP_HX_CURRENT_URL="http://localhost/public/local?max_id=5")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/auth/sign_in?next=/public/local%3Fmax_id%3D5"
    assert response.content == b""


def test_a_refused_action_keeps_the_bar_and_says_why(alice, bob):
    status = status_create(account=alice, text="not yours to pin")
    response = client_for(bob, HTTP_ACCEPT_LANGUAGE="fr").post(f"/statuses/{status.pk}/pin", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<footer class="actions"')
    assert re.search(r'role="alert">Vous ne pouvez épingler', html)


def test_domain_errors_follow_the_interface_language(bob):
    response = client_for(bob, HTTP_ACCEPT_LANGUAGE="fr").post(
        "/statuses", {"text": "   ", "visibility": "public"})
    assert response.status_code == 422
    assert "Le texte doit être rempli" in response.content.decode()
    # Without a language of its own, a request is answered in English.
    from django.utils import translation

    from tribune.core.errors import ValidationFailed

    with translation.override("en"), pytest.raises(ValidationFailed, match="Text can't be blank"):
        status_create(account=bob, text="   ")


def test_accepting_the_last_follow_request_in_place_says_none_are_left(make_account, bob, carol):
    locked = make_account("gatekeeper", locked=True)
    follow_create(account=bob, target=locked)
    follow_create(account=carol, target=locked)
    client = client_for(locked)
    assert client.post(f"/follow_requests/{bob.pk}/authorize", **HTMX).content == b""
    last = client.post(f"/follow_requests/{carol.pk}/reject", **HTMX).content.decode()
    assert last == '<p class="empty">No pending follow requests.</p>'


def test_a_reply_keeps_the_content_warning(alice, bob):
    status = status_create(account=alice, text="plot details", spoiler_text="spoilers")
    html = client_for(bob).get(f"/@alice/{status.pk}").content.decode()
    assert re.search(r'name="spoiler_text"[^>]*value="spoilers"', html)


def test_visitors_are_invited_to_sign_in_and_closed_servers_hide_sign_up(alice, settings):
    html = client_for().get("/@alice").content.decode()
    assert 'href="/auth/sign_in?next=/%40alice"' in html
    assert 'href="/auth/sign_up"' in client_for().get("/@alice").content.decode()
    settings.TRIBUNE_REGISTRATIONS = "closed"
    assert 'href="/auth/sign_up"' not in client_for().get("/@alice").content.decode()


def test_the_character_limit_is_shown_as_a_localised_number(bob, settings):
    settings.TRIBUNE_MAX_CHARACTERS = 5000
    english = client_for(bob, HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    french = client_for(bob, HTTP_ACCEPT_LANGUAGE="fr").get("/").content.decode()
    assert 'data-max="5000" aria-live="polite">5,000</output>' in english
    assert 'data-max="5000" aria-live="polite">5\u202f000</output>' in french or \
        'data-max="5000" aria-live="polite">5\xa0000</output>' in french


def test_a_home_timeline_polling_after_sign_out_reloads_instead_of_nesting(alice):
    response = client_for().get("/?min_id=0&part=new", **HTMX)
    assert (response.status_code, response["HX-Refresh"]) == (204, "true")
    assert response.content == b""


def test_deleting_the_post_of_the_open_thread_in_place_leaves_the_page(alice):
    status = status_create(account=alice, text="gone")
    other = status_create(account=alice, text="stays")
    client = client_for(alice)
    response = client.post(f"/statuses/{status.pk}/delete", **HTMX,
                           HTTP_HX_CURRENT_URL=f"http://localhost/@alice/{status.pk}")
    assert (response.status_code, response["HX-Redirect"]) == (204, "/@alice")
    elsewhere = client.post(f"/statuses/{other.pk}/delete", **HTMX,
                            HTTP_HX_CURRENT_URL="http://localhost/public/local")
    assert (elsewhere.status_code, elsewhere.content) == (200, b"")


def test_an_action_on_a_post_deleted_meanwhile_says_so_in_place(alice, bob):
    from tribune.statuses.services import status_delete

    status = status_create(account=alice, text="soon gone")
    status_delete(account=alice, status=status)
    response = client_for(bob, HTTP_ACCEPT_LANGUAGE="fr").post(
        f"/statuses/{status.pk}/favourite", **HTMX)
    assert response.status_code == 200
    assert "Ce message n&#x27;est plus disponible." in response.content.decode()
    assert client_for(bob).post(f"/statuses/{status.pk}/favourite").status_code == 404


@pytest.mark.parametrize("name", ["%3Cscript%3E", "a%20b", "nope%00", "123", "-"])
def test_names_no_post_could_carry_as_a_hashtag_are_not_found(name):
    assert client_for().get(f"/tags/{name}").status_code == 404


def test_every_id_on_a_profile_with_pinned_posts_is_unique(alice, bob):
    status = status_create(account=alice, text="pinned and listed")
    client_for(alice).post(f"/statuses/{status.pk}/pin")
    favourite_create(account=bob, status=status)
    for client, path in ((client_for(alice), "/@alice"), (client_for(alice), "/notifications")):
        ids = re.findall(r'\bid="([^"]+)"', client.get(path).content.decode())
        assert len(ids) == len(set(ids)), path


def test_oauth_error_pages_speak_the_readers_language(alice):
    response = client_for(alice, HTTP_ACCEPT_LANGUAGE="fr").get(
        "/oauth/authorize?response_type=code&client_id=nope&redirect_uri=urn:ietf:wg:oauth:2.0:oob")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Invalid client_id" not in html
    assert "Retour à la page d" in html


def test_invites_still_work_while_registrations_are_closed(settings, alice):
    from tribune.accounts.registrations import invite_create

    settings.TRIBUNE_REGISTRATIONS = "closed"
    invite = invite_create(created_by=alice)
    page = client_for().get(f"/auth/sign_up?invite={invite.code}").content.decode()
    assert 'name="username"' in page
    closed = client_for().get("/auth/sign_up").content.decode()
    assert 'name="username"' not in closed
