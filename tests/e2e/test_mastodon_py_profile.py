"""End to end: avatar and header through Mastodon.py's update_credentials against
the real server, with the raw JSON checked against the Mastodon schema."""

from __future__ import annotations

import io

import pytest
import requests
from mastodon import Mastodon, MastodonAPIError
from PIL import Image

from tests.e2e.test_mastodon_py_media import checked
from tests.media import images


@pytest.fixture(scope="module")
def pia(server):
    token = server.accounts("pia", scopes="read write")["pia"]
    client = Mastodon(access_token=token, api_base_url=server.base_url,
                      version_check_mode="created", ratelimit_method="throw")
    return client, token


def fetched(url: str) -> Image.Image:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.content))


def test_avatar_and_header_through_mastodon_py(pia, server):
    client, token = pia
    me = client.account_update_credentials(
        display_name="Pia", avatar=io.BytesIO(images.jpeg((640, 480), gps=True)),
        avatar_mime_type="image/jpeg", header=io.BytesIO(images.png((300, 300))),
        header_mime_type="image/png")
    assert me["display_name"] == "Pia"
    assert me["avatar"].startswith(server.base_url + "/system/accounts/avatars/")
    assert me["avatar_static"] == me["avatar"]
    avatar = fetched(me["avatar"])
    assert avatar.size == (400, 400) and not avatar.getexif()
    assert fetched(me["header"]).size == (1500, 500)
    raw = checked("GET", f"{server.base_url}/api/v1/accounts/verify_credentials", token, server)
    assert raw["body"]["avatar"] == me["avatar"]

    with pytest.raises(MastodonAPIError):
        client.account_update_credentials(avatar=io.BytesIO(images.HTML_AS_PNG),
                                          avatar_mime_type="image/png")
    assert client.account_verify_credentials()["avatar"] == me["avatar"]

    removed = client.account_delete_avatar()
    assert removed["avatar"].endswith("/avatars/original/missing.png")
    assert requests.get(me["avatar"], timeout=10).status_code == 404
