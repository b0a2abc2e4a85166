"""Media files in an S3-compatible bucket (``TRIBUNE_MEDIA_URL=s3://...``), against
moto's standalone S3 server in its own process, over real HTTP: files are saved
through Django's storage API and fetched by their public URLs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tests.e2e.conftest import free_port, start_server, stop_server
from tests.mastodon_schema import require_services
from tribune.media.storage import PUBLIC_FOLDERS, media_storage

CREDENTIALS = {"TRIBUNE_S3_ACCESS_KEY": "tribune-test", "TRIBUNE_S3_SECRET_KEY": "tribune-secret"}
PNG = b"\x89PNG\r\n\x1a\n" + b"bytes that travel to the bucket and back" * 30


def _unavailable(message: str) -> None:
    if require_services():
        pytest.fail(message)
    pytest.skip(message)


def _moto_command() -> list[str]:
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "moto.server"]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """The URL of moto's S3 server, started for this module on a free loopback port."""
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    url = f"http://127.0.0.1:{free_port()}"
    with log_path.open("w") as log:
        try:
            process = subprocess.Popen(
                [*_moto_command(), "-H", "127.0.0.1", "-p", url.rsplit(":", 1)[1]],
                stdout=log, stderr=subprocess.STDOUT)
        except OSError as exc:
            _unavailable(f"moto's S3 server (moto[server]) could not start: {exc}")
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                _unavailable("moto's S3 server (moto[server]) did not start: "
                             + log_path.read_text()[-500:])
            time.sleep(0.1)
        yield url
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def s3_client(endpoint: str, region: str = "us-east-1"):
    return boto3.client("s3", endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=CREDENTIALS["TRIBUNE_S3_ACCESS_KEY"],
                        aws_secret_access_key=CREDENTIALS["TRIBUNE_S3_SECRET_KEY"])


def new_bucket(endpoint: str, region: str = "us-east-1", *, prefix: str = "",
               policy: bool = True) -> str:
    """A new bucket; with ``policy``, anyone may read the public folders (and only
    them), as the README asks of operators."""
    name = f"tribune-{uuid.uuid4().hex[:12]}"
    client = s3_client(endpoint, region)
    extra = ({} if region == "us-east-1"
             else {"CreateBucketConfiguration": {"LocationConstraint": region}})
    client.create_bucket(Bucket=name, **extra)
    if policy:
        resources = [f"arn:aws:s3:::{name}/{prefix}{folder}/*" for folder in PUBLIC_FOLDERS]
        client.put_bucket_policy(Bucket=name, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": resources}],
        }))
    return name


@pytest.fixture
def use_media_url(settings):
    """Point the default storage at ``TRIBUNE_MEDIA_URL=value``, as the settings do."""

    def use(value: str) -> None:
        settings.STORAGES = {**settings.STORAGES,
                             "default": media_storage(value, environ=CREDENTIALS)}

    return use


def test_round_trip_through_the_default_storage(endpoint, use_media_url):
    bucket = new_bucket(endpoint)
    use_media_url(f"s3://{bucket}?endpoint={endpoint}")

    name = default_storage.save("media_attachments/110000000000000002.png", ContentFile(PNG))
    url = default_storage.url(name)
    assert url == f"{endpoint}/{bucket}/{name}"  # path style, unsigned
    assert default_storage.exists(name)
    assert default_storage.size(name) == len(PNG)
    with default_storage.open(name) as handle:
        assert handle.read() == PNG

    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert "immutable" in response.headers["Cache-Control"]

    # A second file of the same name never replaces the first.
    other = default_storage.save(name, ContentFile(b"another file"))
    assert other != name
    assert requests.get(url, timeout=10).content == PNG

    # Raw uploads stay private.
    upload = default_storage.save("uploads/photo-with-location.jpg", ContentFile(b"raw"))
    assert requests.get(default_storage.url(upload), timeout=10).status_code == 403

    default_storage.delete(name)
    default_storage.delete(other)
    assert not default_storage.exists(name)
    assert requests.get(url, timeout=10).status_code == 404


def test_prefix_region_and_public_url(endpoint, use_media_url):
    bucket = new_bucket(endpoint, region="eu-west-1", prefix="instance-a/")
    # The public URL here is the bucket itself; in production, a CDN in front of it.
    use_media_url(f"s3://{bucket}/instance-a?endpoint={endpoint}&region=eu-west-1"
                  f"&public_url={endpoint}/{bucket}/")

    name = default_storage.save("accounts/avatars/1.webp", ContentFile(b"RIFF....WEBP"))
    url = default_storage.url(name)
    assert url == f"{endpoint}/{bucket}/instance-a/accounts/avatars/1.webp"
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == b"RIFF....WEBP"
    assert response.headers["Content-Type"] == "image/webp"
    keys = [o["Key"] for o in s3_client(endpoint, "eu-west-1").list_objects_v2(
        Bucket=bucket)["Contents"]]
    assert keys == ["instance-a/accounts/avatars/1.webp"]


def test_acl_public_read_opens_public_files_only(endpoint, use_media_url):
    bucket = new_bucket(endpoint, policy=False)
    use_media_url(f"s3://{bucket}?endpoint={endpoint}&acl=public-read")
    served = default_storage.save("media_attachments/3.png", ContentFile(PNG))
    upload = default_storage.save("uploads/photo-with-location.jpg", ContentFile(b"raw"))
    assert requests.get(default_storage.url(served), timeout=10).content == PNG
    assert requests.get(default_storage.url(upload), timeout=10).status_code == 403

    # Without the parameter no ACL is sent (services with ACLs turned off refuse
    # them), so the bucket's policy decides, and this bucket has none.
    use_media_url(f"s3://{bucket}?endpoint={endpoint}")
    plain = default_storage.save("media_attachments/4.png", ContentFile(PNG))
    assert requests.get(default_storage.url(plain), timeout=10).status_code == 403


SCRIPT = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
action, name = sys.argv[1], sys.argv[2]
if action == "save":
    name = default_storage.save(name, ContentFile(sys.stdin.buffer.read()))
else:
    default_storage.delete(name)
print(json.dumps({"name": name, "url": default_storage.url(name),
                  "exists": default_storage.exists(name),
                  "backend": settings.STORAGES["default"]["BACKEND"]}))
"""


def test_the_real_server_configured_with_a_bucket(endpoint, tmp_path):
    bucket = new_bucket(endpoint)
    process, server, log = start_server(
        tmp_path, TRIBUNE_MEDIA_URL=f"s3://{bucket}?endpoint={endpoint}", **CREDENTIALS)
    try:
        env = {**server.env, "DJANGO_SETTINGS_MODULE": "tribune.settings"}

        def storage(action: str, name: str, data: bytes = b"") -> dict:
            result = subprocess.run([sys.executable, "-c", SCRIPT, action, name], env=env,
                                    input=data, capture_output=True, timeout=60, check=True)
            return json.loads(result.stdout)

        saved = storage("save", "media_attachments/5.png", PNG)
        assert saved["backend"] == "tribune.media.s3.PublicS3Storage"
        assert saved["exists"]
        assert saved["url"] == f"{endpoint}/{bucket}/{saved['name']}"
        assert requests.get(saved["url"], timeout=10).content == PNG
        # The files are the bucket's to serve, not the server's.
        local = requests.get(f"{server.base_url}/system/{saved['name']}", timeout=10)
        assert local.status_code == 404

        assert not storage("delete", saved["name"])["exists"]
        assert requests.get(saved["url"], timeout=10).status_code == 404
    finally:
        stop_server(process, log, tmp_path)


@pytest.mark.django_db
def test_an_avatar_goes_to_the_bucket_and_is_served_from_it(endpoint, use_media_url, alice):
    """The profile picture pipeline writes through the same storage: the processed
    avatar lands in the bucket and its URL serves it over HTTP."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from tests.media import images
    from tribune.media.account_images import account_profile_update

    bucket = new_bucket(endpoint)
    use_media_url(f"s3://{bucket}?endpoint={endpoint}")
    account_profile_update(account=alice, avatar=SimpleUploadedFile(
        "me.jpg", images.jpeg(size=(800, 600), gps=True)))
    alice.refresh_from_db()
    url = default_storage.url(alice.avatar.name)
    assert url.startswith(f"{endpoint}/{bucket}/accounts/avatars/")
    served = requests.get(url, timeout=10)
    assert served.status_code == 200
    picture = Image.open(io.BytesIO(served.content))
    assert picture.size == (400, 400) and not picture.getexif()
