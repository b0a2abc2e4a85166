"""End to end: pictures through Mastodon.py against the real server (task workers
process v2 uploads), with the raw JSON checked against the Mastodon schema."""

from __future__ import annotations

import io

import pytest
import requests
from mastodon import Mastodon, MastodonAPIError
from PIL import Image

from tests import mastodon_schema
from tests.media import images


@pytest.fixture(scope="module")
def mia(server):
    token = server.accounts("mia", scopes="read write")["mia"]
    client = Mastodon(access_token=token, api_base_url=server.base_url,
                      version_check_mode="created", ratelimit_method="throw")
    return client, token


def checked(method: str, url: str, token: str, server, **kwargs) -> dict:
    response = requests.request(method, url, headers={"Authorization": f"Bearer {token}"},
                                timeout=30, **kwargs)
    body = response.json()
    path = url.removeprefix(server.base_url)
    if mastodon_schema.spec() is not None:  # without the reference, nothing to check against
        assert mastodon_schema.check(method, path, response.status_code, body), path
    return {"status": response.status_code, "body": body}


def test_picture_with_description_through_mastodon_py(mia, server):
    client, token = mia
    media = client.media_post(io.BytesIO(images.jpeg(gps=True)), mime_type="image/jpeg",
                              description="A red square", focus=(0.25, -0.5), synchronous=True)
    assert media["type"] == "image" and media["description"] == "A red square"
    assert media["url"].startswith(server.base_url)

    status = client.status_post("A picture", media_ids=[media["id"]])
    [attached] = status["media_attachments"]
    assert attached["id"] == media["id"] and attached["description"] == "A red square"

    raw = checked("GET", f"{server.base_url}/api/v1/statuses/{status['id']}", token, server)
    assert raw["body"]["media_attachments"][0]["meta"]["focus"] == {"x": 0.25, "y": -0.5}
    checked("GET", f"{server.base_url}/api/v1/media/{media['id']}", token, server)

    served = requests.get(attached["url"], timeout=10)
    assert served.status_code == 200
    picture = Image.open(io.BytesIO(served.content))
    assert not picture.getexif() and "exif" not in picture.info


def test_v2_upload_and_refusals_are_valid_entities(mia, server):
    client, token = mia
    upload = checked("POST", f"{server.base_url}/api/v2/media", token, server,
                     files={"file": ("p.jpg", images.jpeg(), "image/jpeg")},
                     data={"description": "Later"})
    assert upload["status"] in (200, 202)
    refused = checked("POST", f"{server.base_url}/api/v1/media", token, server,
                      files={"file": ("page.png", images.HTML_AS_PNG, "image/png")})
    assert refused["status"] == 422
    bomb = checked("POST", f"{server.base_url}/api/v1/media", token, server,
                   files={"file": ("bomb.png", images.png_bomb(), "image/png")})
    assert bomb["status"] == 422
    too_many = [client.media_post(io.BytesIO(images.png()), mime_type="image/png",
                                  synchronous=True)["id"] for _ in range(5)]
    with pytest.raises(MastodonAPIError):
        client.status_post("five", media_ids=too_many)
    assert len(client.status_post("", media_ids=too_many[:4])["media_attachments"]) == 4
