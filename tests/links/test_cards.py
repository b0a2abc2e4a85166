"""Preview cards from real pages on loopback: made when the host is allow-listed,
refused for internal addresses without a single connection to them."""

from __future__ import annotations

import html
import io

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from tribune.core import http
from tribune.links.models import PreviewCard

pytestmark = pytest.mark.django_db(transaction=True)

HTML = {"Content-Type": "text/html; charset=utf-8"}


def page(title: str = "A page", description: str = "What it is about",
         image: str = "/picture.jpg", extra: str = "") -> bytes:
    return (f"""<!doctype html><html><head><title>Fallback</title>
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:description" content="{html.escape(description)}">
<meta property="og:image" content="{image}">
<meta property="og:site_name" content="Loopback News">{extra}
</head><body><p>Body</p></body></html>""").encode()


def jpeg_with_metadata(size=(900, 600)) -> bytes:
    picture = Image.new("RGB", size, (200, 40, 90))
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x0131] = "secret-software"  # Software
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def post(api, text: str, **extra) -> dict:
    response = api.post("/api/v1/statuses", json={"status": text, **extra})
    assert response.status_code == 200, response.content
    return api.get(f"/api/v1/statuses/{response.json()['id']}").json()


@pytest.fixture
def news(site):
    site.routes["/article"] = (200, HTML, page())
    site.routes["/picture.jpg"] = (200, {"Content-Type": "image/jpeg"}, jpeg_with_metadata())
    return site


def test_an_allowed_loopback_page_gives_a_card_in_the_api_and_the_web(alice, api_as, news, previews):
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{news.port}"]
    status = post(api_as(alice), f"Read this {news.url('/article')} #news @nobody")
    card = status["card"]
    assert card["url"] == news.url("/article")
    assert card["title"] == "A page"
    assert card["description"] == "What it is about"
    assert card["provider_name"] == "Loopback News"
    assert card["type"] == "link"
    assert card["html"] == "" and card["embed_url"] == ""
    assert (card["width"], card["height"]) == (400, 267)
    assert card["image"].startswith("http://127.0.0.1:8000/system/cards/")
    assert card["blurhash"]
    stored = PreviewCard.objects.get()
    with default_storage.open(stored.image.name) as handle:
        picture = Image.open(handle)
        assert picture.format == "JPEG" and picture.size == (400, 267)
        assert not picture.getexif()  # re-encoded without the camera's metadata
    assert news.paths == ["/article", "/picture.jpg"]

    page_html = Client(HTTP_HOST="localhost").get(f"/@alice/{status['id']}").content.decode()
    assert 'class="preview-card"' in page_html
    assert f'href="{news.url("/article")}"' in page_html
    assert "What it is about" in page_html and "Loopback News" in page_html
    assert f'src="/system/{stored.image.name}"' in page_html


def test_a_fresh_card_is_reused_for_the_same_url(alice, bob, api_as, news, previews):
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{news.port}"]
    first = post(api_as(alice), f"one {news.url('/article')}")
    second = post(api_as(bob), f"two {news.url('/article')}")
    assert first["card"] == second["card"]
    assert news.paths.count("/article") == 1
    assert PreviewCard.objects.count() == 1


def test_timelines_show_cards_without_a_query_per_status(alice, api_as, news, previews):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{news.port}"]
    api = api_as(alice)
    post(api, f"first {news.url('/article')}")
    with CaptureQueriesContext(connection) as few:
        api.get("/api/v1/timelines/home")
    for n in range(4):
        status = post(api, f"more {n} {news.url('/article')}")
        api.post(f"/api/v1/statuses/{status['id']}/reblog")
    with CaptureQueriesContext(connection) as many:
        statuses = api.get("/api/v1/timelines/home").json()
    assert len(many) == len(few)
    assert all(s["card"] or s["reblog"]["card"] for s in statuses)


def test_without_the_allow_list_a_loopback_page_gives_no_card(alice, api_as, news, previews):
    status = post(api_as(alice), f"Read this {news.url('/article')}")
    assert status["card"] is None
    assert news.connections == 0
    assert PreviewCard.objects.count() == 0


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://2130706433:{port}/",
    "http://127.1:{port}/",
])
def test_internal_addresses_give_no_card_and_are_never_contacted(alice, api_as, canary, previews, target):
    status = post(api_as(alice), "Look " + target.format(port=canary.port))
    assert status["card"] is None
    assert canary.connections == 0


def test_a_host_name_for_loopback_is_reached_only_when_allowed(alice, api_as, canary, previews):
    api = api_as(alice)
    assert post(api, f"first http://localhost:{canary.port}/")["card"] is None
    assert canary.connections == 0
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"localhost:{canary.port}"]
    assert post(api, f"again http://localhost:{canary.port}/")["card"]["title"] == "leak"
    assert canary.connections == 1
    # The connection went to the checked address; the request still names the host.
    assert canary.headers[0]["Host"] == f"localhost:{canary.port}"
    assert canary.headers[0]["User-Agent"].startswith("Tribune/")


def test_a_redirect_from_an_allowed_host_to_an_internal_one_is_refused(alice, api_as, site, canary, previews):
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{site.port}"]
    site.routes["/go"] = (302, {"Location": canary.url("/")}, b"")
    site.routes["/metadata"] = (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    api = api_as(alice)
    assert post(api, f"hop {site.url('/go')}")["card"] is None
    assert post(api, f"hop {site.url('/metadata')}")["card"] is None
    assert site.paths == ["/go", "/metadata"]
    assert canary.connections == 0


def test_redirects_are_followed_three_times_at_most(site, previews):
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{site.port}"]
    for n in range(5):
        site.routes[f"/r{n}"] = (302, {"Location": f"/r{n + 1}"}, b"")
    site.routes["/r5"] = (200, HTML, page())
    assert http.fetch(site.url("/r2")).url == site.url("/r5")
    with pytest.raises(http.FetchError, match="redirects"):
        http.fetch(site.url("/r1"))


def test_an_oversized_page_is_cut_off(alice, api_as, site, previews):
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{site.port}"]
    late = b'<meta name="description" content="never read">'
    body = page(description="", image="").replace(b"</head>", b"<!--" + b"x" * 1_500_000 + b"-->" + late)
    site.routes["/huge"] = (200, HTML, body)
    fetched = http.fetch(site.url("/huge"), truncate=True)
    assert fetched.truncated and len(fetched.content) == http.DEFAULT_MAX_BYTES
    with pytest.raises(http.FetchError, match="over"):
        http.fetch(site.url("/huge"))
    card = post(api_as(alice), f"big {site.url('/huge')}")["card"]
    assert card["title"] == "A page"
    assert card["description"] == ""


def test_html_and_script_in_metadata_are_neutralised(alice, api_as, site, previews):
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{site.port}"]
    site.routes["/xss"] = (200, HTML, page(
        title='<script>alert("t")</script><b>Bold</b> title\u202e',
        description='<img src=x onerror=alert(1)>Plain <a href="javascript:x">words</a>',
        image="javascript:alert(1)"))
    status = post(api_as(alice), f"xss {site.url('/xss')}")
    card = status["card"]
    assert card["title"] == "Bold title"
    assert card["description"] == "Plain words"
    assert card["image"] is None
    page_html = Client(HTTP_HOST="localhost").get(f"/@alice/{status['id']}").content.decode()
    assert "alert" not in page_html and "onerror" not in page_html


def test_oembed_fills_author_and_provider(alice, api_as, site, previews):
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{site.port}"]
    link = f'<link rel="alternate" type="application/json+oembed" href="{site.url("/oembed.json")}">'
    site.routes["/video"] = (200, HTML, (
        f"<html><head><title>Plain &amp; simple</title>{link}</head></html>").encode())
    site.routes["/oembed.json"] = (200, {"Content-Type": "application/json"}, (
        b'{"version": "1.0", "type": "video", "provider_name": "Tube", '
        b'"provider_url": "https://tube.example/", "author_name": "<i>Ann</i>", '
        b'"author_url": "https://tube.example/ann", "html": "<iframe src=evil></iframe>"}'))
    card = post(api_as(alice), f"watch {site.url('/video')}")["card"]
    assert card["title"] == "Plain & simple"
    assert card["provider_name"] == "Tube"
    assert card["provider_url"] == "https://tube.example/"
    assert card["author_name"] == "Ann"
    assert card["authors"] == [{"name": "Ann", "url": "https://tube.example/ann", "account": None}]
    assert card["type"] == "link" and card["html"] == ""


def test_things_that_are_not_pictures_are_not_stored(alice, api_as, site, previews):
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{site.port}"]
    site.routes["/p"] = (200, HTML, page(image="/not-a-picture.jpg"))
    site.routes["/not-a-picture.jpg"] = (200, {"Content-Type": "image/jpeg"},
                                         b"<svg onload=alert(1)></svg>")
    card = post(api_as(alice), f"see {site.url('/p')}")["card"]
    assert card["title"] == "A page"
    assert card["image"] is None and card["width"] == 0


def test_private_and_direct_posts_get_no_card_and_fetch_nothing(alice, api_as, news, previews):
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{news.port}"]
    api = api_as(alice)
    assert post(api, f"psst {news.url('/article')}", visibility="private")["card"] is None
    assert post(api, f"psst {news.url('/article')}", visibility="direct")["card"] is None
    assert news.connections == 0
    assert post(api, f"hi {news.url('/article')}", visibility="unlisted")["card"]["title"] == "A page"


def test_an_edit_changes_or_removes_the_card(alice, api_as, site, previews):
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{site.port}"]
    site.routes["/a"] = (200, HTML, page(title="First", image=""))
    site.routes["/b"] = (200, HTML, page(title="Second", image=""))
    api = api_as(alice)
    status = post(api, f"see {site.url('/a')}")
    assert status["card"]["title"] == "First"
    api.put(f"/api/v1/statuses/{status['id']}", json={"status": f"no, {site.url('/b')}"})
    assert api.get(f"/api/v1/statuses/{status['id']}").json()["card"]["title"] == "Second"
    api.put(f"/api/v1/statuses/{status['id']}", json={"status": "never mind"})
    assert api.get(f"/api/v1/statuses/{status['id']}").json()["card"] is None


def test_previews_can_be_turned_off(alice, api_as, news, previews):
    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{news.port}"]
    previews.TRIBUNE_LINK_PREVIEWS = False
    assert post(api_as(alice), f"see {news.url('/article')}")["card"] is None
    assert news.connections == 0


def test_a_card_fetched_or_refreshed_later_shows_on_the_cached_home_timeline(
        alice, bob, api_as, news, previews):
    from datetime import timedelta

    from django.utils import timezone

    from tribune.graph.services import follow_create
    from tribune.links.services import card_fetch_for_status

    previews.TRIBUNE_FETCH_ALLOW_HOSTS = [f"127.0.0.1:{news.port}"]
    follow_create(account=alice, target=bob)
    a, b = api_as(alice), api_as(bob)

    def home_card(status_id):
        [entity] = [s for s in a.get("/api/v1/timelines/home").json() if s["id"] == status_id]
        return entity["card"]

    previews.TRIBUNE_LINK_PREVIEWS = False
    first = post(b, f"one {news.url('/article')}")["id"]
    assert home_card(first) is None  # the entity is cached without a card
    previews.TRIBUNE_LINK_PREVIEWS = True
    card_fetch_for_status(status_id=int(first))
    assert home_card(first)["title"] == "A page"

    # A week later the page has a new title; the next post of the link refreshes
    # the card, and the first post shows the new one too.
    PreviewCard.objects.update(fetched_at=timezone.now() - timedelta(days=8))
    news.routes["/article"] = (200, HTML, page(title="A renamed page"))
    post(b, f"two {news.url('/article')}")
    assert home_card(first)["title"] == "A renamed page"
