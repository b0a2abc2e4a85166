"""Media files kept in the data dir, served by the real server at ``/system/...``:
the right bytes and headers for public files, 404 for everything else."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from tests.e2e.conftest import start_server, stop_server

PNG = b"\x89PNG\r\n\x1a\n" + b"not really a picture, but bytes to compare" * 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real server on its own data dir, with the default (filesystem) storage."""
    data_dir = tmp_path_factory.mktemp("media-server")
    process, running, log = start_server(data_dir)
    yield running
    stop_server(process, log, data_dir)


@pytest.fixture(scope="module")
def storage(server):
    """The server's default storage, as Tribune's code reaches it."""
    config = settings.STORAGES["default"]
    assert config["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    return storages.create_storage({**config, "OPTIONS": {
        "location": server.data_dir / "media", "base_url": settings.MEDIA_URL}})


def raw_get(base_url: str, path: str, method: str = "GET") -> tuple[int, bytes]:
    """Send ``path`` exactly as written (requests would resolve dot segments)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_saved_file_is_served_with_safe_headers(server, storage):
    name = storage.save("media_attachments/110000000000000001.png", ContentFile(PNG))
    url = storage.url(name)
    assert url == f"/system/{name}"

    response = requests.get(server.base_url + url, timeout=10)
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "sandbox" in policy
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["Content-Length"] == str(len(PNG))

    head = requests.head(server.base_url + url, timeout=10)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(PNG))
    assert head.headers["Content-Type"] == "image/png"

    assert requests.post(server.base_url + url, timeout=10).status_code in (403, 405)

    storage.delete(name)
    assert not storage.exists(name)
    assert requests.get(server.base_url + url, timeout=10).status_code == 404


def test_missing_files_are_404(server):
    response = requests.get(f"{server.base_url}/system/media_attachments/404.png", timeout=10)
    assert response.status_code == 404
    assert requests.get(f"{server.base_url}/system/media_attachments/", timeout=10
                        ).status_code == 404


def test_raw_uploads_and_other_files_are_never_served(server, storage):
    upload = storage.save("uploads/photo-with-location.jpg", ContentFile(b"raw upload"))
    assert storage.exists(upload)
    stray = storage.save("notes.txt", ContentFile(b"not a media file"))
    hidden = storage.save("media_attachments/.hidden.png", ContentFile(PNG))
    for name in (upload, stray, hidden):
        status, body = raw_get(server.base_url, f"/system/{name}")
        assert status == 404, name
        assert b"raw upload" not in body


@pytest.mark.parametrize("path", [
    "/system/../tribune.sqlite3",
    "/system/../secret_key",
    "/system/%2e%2e/tribune.sqlite3",
    "/system/%2E%2E/secret_key",
    "/system/..%2ftribune.sqlite3",
    "/system/..%2Fsecret_key",
    "/system/media_attachments/../../tribune.sqlite3",
    "/system/media_attachments/%2e%2e/%2e%2e/tribune.sqlite3",
    "/system/media_attachments/..%2f..%2fsecret_key",
    "/system/media_attachments/%252e%252e/%252e%252e/secret_key",
    "/system/media_attachments/..%5c..%5csecret_key",
    "/system/media_attachments/../uploads/photo-with-location.jpg",
    "/system/media_attachments/%2e%2e/uploads/photo-with-location.jpg",
    "/system//etc/passwd",
    "/system/%2fetc/passwd",
    "/system/media_attachments/%00.png",
])
def test_paths_out_of_the_media_folders_are_404(server, storage, path):
    storage.save("uploads/photo-with-location.jpg", ContentFile(b"raw upload"))
    database = server.data_dir / "tribune.sqlite3"
    if not database.exists():  # on PostgreSQL: a file in its place, as bait
        database.write_bytes(b"SQLite format 3\x00" + bytes(84))
    assert database.exists()
    status, body = raw_get(server.base_url, path)
    assert status == 404
    assert b"SQLite format" not in body
    assert b"raw upload" not in body
    secret_key = server.data_dir / "secret_key"
    if secret_key.exists():
        assert secret_key.read_bytes().strip() not in body
