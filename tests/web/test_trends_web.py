"""Trends and followed hashtags in the server-rendered interface: Explore, the
Follow button on a hashtag's page, the followed hashtags tab, and the staff's
review page (docs/adr/0031)."""

from __future__ import annotations

import pytest
from django.test import Client

from tribune.statuses.models import Tag
from tribune.statuses.services import favourite_create, status_create
from tribune.trends.models import Review, StatusTrend, TagFollow, TagTrend
from tribune.trends.scoring import trends_refresh

pytestmark = pytest.mark.django_db


def client_for(account=None) -> Client:
    client = Client(HTTP_HOST="localhost")
    if account is not None:
        client.force_login(account.user)
    return client


@pytest.fixture
def trending(make_account):
    """``#lanterns`` used by six accounts, and a post five of them favourited."""
    crowd = [make_account(f"walker{n}") for n in range(5)]
    author = make_account("author")
    post = status_create(account=author, text="#lanterns along the river")
    for account in crowd:
        status_create(account=account, text="#lanterns tonight")
        favourite_create(account=account, status=post)
    trends_refresh()
    return post


def test_explore_shows_only_approved_trends_and_is_in_the_navigation(
    settings, trending, moderator
):
    settings.TRIBUNE_TRENDS_REQUIRE_REVIEW = True
    html = client_for().get("/explore").content.decode()
    assert 'href="/explore"' in html
    assert (
        "No hashtags are trending right now." in html and "along the river" not in html
    )

    staff = client_for(moderator)
    review = staff.get("/moderation/trends").content.decode()
    assert "#lanterns" in review and "along the river" in review
    tag = Tag.objects.get(name="lanterns")
    assert staff.post(f"/moderation/trends/tags/{tag.pk}/approve").status_code == 303
    assert (
        staff.post(f"/moderation/trends/statuses/{trending.pk}/approve").status_code
        == 303
    )
    assert TagTrend.objects.get(tag=tag).review == Review.APPROVED
    assert StatusTrend.objects.get(status=trending).review == Review.APPROVED
    html = client_for().get("/explore").content.decode()
    assert 'href="/tags/lanterns"' in html and "6 people in the last day" in html
    assert "along the river" in html
    review = staff.get("/moderation/trends").content.decode()
    assert "No hashtags are waiting." in review and "No posts are waiting." in review
    assert staff.post(f"/moderation/trends/tags/{tag.pk}/reject").status_code == 303
    assert 'href="/tags/lanterns"' not in client_for().get("/explore").content.decode()


def test_the_review_page_is_for_staff(alice, trending):
    assert client_for(alice).get("/moderation/trends").status_code == 403
    tag = Tag.objects.get(name="lanterns")
    assert (
        client_for(alice).post(f"/moderation/trends/tags/{tag.pk}/approve").status_code
        == 403
    )
    assert client_for().get("/moderation/trends").status_code == 302
    assert TagTrend.objects.get(tag=tag).review == Review.PENDING


def test_follow_a_hashtag_from_its_page_and_unfollow_it_in_settings(alice, bob):
    status_create(account=bob, text="#knitting club")
    client = client_for(alice)
    page = client.get("/tags/knitting").content.decode()
    assert "Follow hashtag" in page
    assert (
        client_for().get("/tags/knitting").content.decode().count("Follow hashtag") == 0
    )
    response = client.post("/tags/knitting/follow", {"next": "/tags/knitting"})
    assert response.status_code == 303 and response["Location"] == "/tags/knitting"
    assert TagFollow.objects.filter(account=alice, tag__name="knitting").exists()
    assert "Unfollow hashtag" in client.get("/tags/knitting").content.decode()
    listed = client.get("/followed_tags").content.decode()
    assert "#knitting" in listed and 'href="/followed_tags"' in listed
    client.post("/tags/knitting/unfollow")
    assert not TagFollow.objects.filter(account=alice).exists()
    assert (
        "You are not following any hashtags."
        in client.get("/followed_tags").content.decode()
    )
    refused = client.post("/tags/not a tag/follow")  # no post could carry it
    assert refused.status_code == 422 and "Name is invalid" in refused.content.decode()
    assert client.post("/tags/knitting/like").status_code == 404


def test_explore_costs_the_same_queries_whatever_trends(
    settings, make_account, trending
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.TRIBUNE_TRENDS_REQUIRE_REVIEW = False
    client = client_for(make_account("reader"))

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/explore").status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    for name in ("lamps", "candles"):
        author = make_account(f"{name}_author")
        post = status_create(account=author, text=f"#{name} glow")
        for n in range(5):
            fan = make_account(f"{name}{n}")
            status_create(account=fan, text=f"#{name}")
            favourite_create(account=fan, status=post)
    trends_refresh()
    html = client.get("/explore").content.decode()
    assert 'href="/tags/lamps"' in html and 'href="/tags/candles"' in html
    assert queries() == one
