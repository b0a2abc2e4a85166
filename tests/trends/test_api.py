"""The client API of hashtags, followed hashtags and trends, each response checked
against Mastodon's OpenAPI schema (tests/conftest.py's Api)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tribune.graph.services import block_create
from tribune.statuses.models import Tag
from tribune.statuses.services import favourite_create, reblog_create, status_create
from tribune.trends.models import Review, TagFollow, TagTrend
from tribune.trends.scoring import trends_refresh

pytestmark = pytest.mark.django_db


def test_follow_a_tag_then_list_and_unfollow_it(api_as, alice, bob):
    api = api_as(alice)
    response = api.post("/api/v1/tags/Gardening/follow")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["following"]) == ("Gardening", True)
    assert len(body["history"]) == 7 and body["history"][0]["uses"] == "0"
    assert TagFollow.objects.filter(account=alice, tag__name="gardening").count() == 1
    assert (
        api.post("/api/v1/tags/gardening/follow").status_code == 200
    )  # twice: no change
    assert TagFollow.objects.filter(account=alice).count() == 1
    status_create(account=bob, text="#gardening today")
    shown = api.get("/api/v1/tags/GARDENING").json()
    assert shown["following"] is True and shown["history"][0] == {
        "day": str(
            int(
                timezone.now()
                .replace(hour=0, minute=0, second=0, microsecond=0)
                .timestamp()
            )
        ),
        "uses": "1",
        "accounts": "1",
    }
    assert api_as(bob).get("/api/v1/tags/gardening").json()["following"] is False
    assert api_as(None).get("/api/v1/tags/gardening").json()["following"] is None
    assert [t["name"] for t in api.get("/api/v1/followed_tags").json()] == ["Gardening"]
    unfollowed = api.post("/api/v1/tags/gardening/unfollow")
    assert unfollowed.json()["following"] is False
    assert api.get("/api/v1/followed_tags").json() == []


def test_bad_tags_are_404_or_422_and_scopes_apply(api_as, alice):
    api = api_as(alice)
    assert api.get("/api/v1/tags/nosuchtag").status_code == 404
    assert api.post("/api/v1/tags/nosuchtag/unfollow").status_code == 404
    # A name no post could carry as a hashtag cannot be followed: Mastodon's 422.
    for bad in ("not%20a%20tag", "123", "z" * 300, "%F0%9F%98%80"):  # digits only, an emoji
        r = api.post(f"/api/v1/tags/{bad}/follow")
        assert (r.status_code, r.json()["error"]) == (422, "Validation failed: Name is invalid")
    assert not TagFollow.objects.exists()
    assert (
        api_as(alice, scopes="read").post("/api/v1/tags/cats/follow").status_code == 403
    )
    assert api_as(None).get("/api/v1/followed_tags").status_code == 401


def test_followed_tags_are_paged_with_link_headers(api_as, alice):
    api = api_as(alice)
    for name in ("one", "two", "three"):
        api.post(f"/api/v1/tags/{name}/follow")
    first = api.get("/api/v1/followed_tags", {"limit": 2})
    assert [t["name"] for t in first.json()] == ["three", "two"]
    link = first["Link"]
    next_url = link.split(";")[0].strip("<>")
    rest = api.get(next_url.replace("http://localhost", ""))
    assert [t["name"] for t in rest.json()] == ["one"]


def _trending_world(make_account, count: int = 3):
    crowd = [make_account(f"fan{n}") for n in range(5)]
    posts = []
    for n in range(count):
        author = make_account(f"writer{n}")
        post = status_create(account=author, text=f"#topic{n} post {n}")
        for account in crowd:
            status_create(account=account, text=f"#topic{n} me too")
            favourite_create(account=account, status=post)
            if n % 2:
                reblog_create(account=account, status=post)
        posts.append(post)
    trends_refresh()
    return crowd, posts


def test_trends_show_what_staff_approved(settings, api_as, make_account, moderator):
    settings.TRIBUNE_TRENDS_REQUIRE_REVIEW = True
    crowd, posts = _trending_world(make_account, count=2)
    visitor = api_as(None)
    assert visitor.get("/api/v1/trends/tags").json() == []
    assert visitor.get("/api/v1/trends/statuses").json() == []
    staff = api_as(moderator, scopes="read write admin:read admin:write")
    pending = staff.get("/api/v1/admin/trends/tags").json()
    assert {t["name"] for t in pending} == {"topic0", "topic1"}
    assert all(t["requires_review"] and not t["trendable"] for t in pending)
    topic1 = Tag.objects.get(name="topic1")
    approved = staff.post(f"/api/v1/admin/trends/tags/{topic1.pk}/approve").json()
    assert (approved["trendable"], approved["requires_review"]) == (True, False)
    staff.post(f"/api/v1/admin/trends/tags/{Tag.objects.get(name='topic0').pk}/reject")
    assert [t["name"] for t in visitor.get("/api/v1/trends/tags").json()] == ["topic1"]
    assert [t["name"] for t in visitor.get("/api/v1/trends").json()] == ["topic1"]
    listed = staff.get("/api/v1/admin/trends/statuses").json()
    assert {s["id"] for s in listed} == {str(p.pk) for p in posts}
    staff.post(f"/api/v1/admin/trends/statuses/{posts[0].pk}/approve")
    assert [s["id"] for s in visitor.get("/api/v1/trends/statuses").json()] == [
        str(posts[0].pk)
    ]
    # A viewer who blocks the author does not see it.
    block_create(account=crowd[0], target=posts[0].account)
    assert api_as(crowd[0]).get("/api/v1/trends/statuses").json() == []
    assert TagTrend.objects.get(tag=topic1).review == Review.APPROVED


def test_admin_trends_are_for_staff_only(api_as, alice, moderator):
    tag = status_create(account=alice, text="#mine").tags.get()
    api = api_as(alice, scopes="read write admin:read admin:write")
    assert api.get("/api/v1/admin/trends/tags").status_code == 403
    assert api.post(f"/api/v1/admin/trends/tags/{tag.pk}/approve").status_code == 403
    staff = api_as(moderator, scopes="read write admin:read admin:write")
    assert staff.post("/api/v1/admin/trends/tags/999999/approve").status_code == 404
    assert staff.post("/api/v1/admin/trends/statuses/nope/reject").status_code == 404
    assert (
        api_as(moderator, scopes="read").get("/api/v1/admin/trends/tags").status_code
        == 403
    )


def test_trends_endpoints_run_a_constant_number_of_queries(
    settings, api_as, make_account
):
    settings.TRIBUNE_TRENDS_REQUIRE_REVIEW = False

    def counted(path: str, api) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            body = api.get(path).json()
        return len(body), len(ctx.captured_queries)

    _trending_world(make_account, count=1)
    viewer = api_as(make_account("reader"))
    one_tag = counted("/api/v1/trends/tags", viewer)
    one_status = counted("/api/v1/trends/statuses", viewer)
    _trending_world_more(make_account)
    three_tags = counted("/api/v1/trends/tags", viewer)
    three_statuses = counted("/api/v1/trends/statuses", viewer)
    assert (one_tag[0], three_tags[0]) == (1, 3)
    assert (one_status[0], three_statuses[0]) == (1, 3)
    assert three_tags[1] == one_tag[1]
    assert three_statuses[1] == one_status[1]


def _trending_world_more(make_account):
    crowd = [make_account(f"more{n}") for n in range(5)]
    for n in (1, 2):
        author = make_account(f"extra{n}")
        post = status_create(account=author, text=f"#later{n} post")
        for account in crowd:
            status_create(account=account, text=f"#later{n} yes")
            favourite_create(account=account, status=post)
    trends_refresh()
