"""``TRIBUNE_MEDIA_URL``: what each value means, and the one-line errors at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tribune.media.storage import (
    FILESYSTEM_BACKEND,
    S3_BACKEND,
    content_type,
    is_public_name,
    media_storage,
)

TRIBUNE = str(Path(sys.executable).with_name("tribune"))


def test_unset_keeps_files_in_the_data_dir():
    assert media_storage("", environ={}) == {"BACKEND": FILESYSTEM_BACKEND}
    assert media_storage("  ", environ={}) == {"BACKEND": FILESYSTEM_BACKEND}


def test_a_bucket_alone_uses_the_usual_aws_configuration():
    assert media_storage("s3://media", environ={}) == {
        "BACKEND": S3_BACKEND, "OPTIONS": {"bucket_name": "media", "location": ""}}


def test_every_parameter():
    value = ("s3://tribune-media/instance/files?endpoint=http://127.0.0.1:9000/"
             "&region=eu-west-1&public_url=https://cdn.example/media/&acl=public-read")
    environ = {"TRIBUNE_S3_ACCESS_KEY": "key", "TRIBUNE_S3_SECRET_KEY": "secret"}
    assert media_storage(value, environ=environ)["OPTIONS"] == {
        "bucket_name": "tribune-media",
        "location": "instance/files",
        "endpoint_url": "http://127.0.0.1:9000",
        "addressing_style": "path",
        "region_name": "eu-west-1",
        "url_protocol": "https:",
        "custom_domain": "cdn.example/media",
        "public_acl": True,
        "access_key": "key",
        "secret_key": "secret",
    }


@pytest.mark.parametrize("value, problem", [
    ("media", "must start with s3://"),
    ("https://bucket.example/", "must start with s3://"),
    ("file:///srv/media", "must start with s3://"),
    ("s3://", "names no bucket"),
    ("s3:///prefix", "names no bucket"),
    ("s3://Bad_Bucket", "bucket name"),
    ("s3://ab", "bucket name"),
    ("s3://media/../etc", "prefix"),
    ("s3://media?endpoint=127.0.0.1:9000", "endpoint="),
    ("s3://media?endpoint=ftp://host", "endpoint="),
    ("s3://media?public_url=cdn.example", "public_url="),
    ("s3://media?region=eu west", "region="),
    ("s3://media?acl=private", "public-read"),
    ("s3://media?bucket=other", "unknown parameter 'bucket'"),
    ("s3://media?region=a&region=b", "more than once"),
])
def test_bad_values_say_what_is_wrong(value, problem):
    with pytest.raises(ImproperlyConfigured) as error:
        media_storage(value, environ={})
    message = str(error.value)
    assert "TRIBUNE_MEDIA_URL" in message
    assert problem in message
    assert "\n" not in message


def test_credentials_in_the_url_are_refused_without_echoing_them():
    with pytest.raises(ImproperlyConfigured) as error:
        media_storage("s3://key:hunter2@media", environ={})
    assert "hunter2" not in str(error.value)
    assert "TRIBUNE_S3_ACCESS_KEY" in str(error.value)


def test_half_of_a_key_pair_is_refused():
    with pytest.raises(ImproperlyConfigured, match="set together"):
        media_storage("s3://media", environ={"TRIBUNE_S3_ACCESS_KEY": "key"})


@pytest.mark.parametrize("name, public", [
    ("media_attachments/1.png", True),
    ("media_attachments/files/1/small.webp", True),
    ("accounts/avatars/1.jpg", True),
    ("cards/1.jpg", True),
    ("uploads/photo.jpg", False),
    ("media_attachments", False),
    ("media_attachments/", False),
    ("media_attachments/../uploads/photo.jpg", False),
    ("media_attachments/./1.png", False),
    ("media_attachments//1.png", False),
    ("media_attachments/.hidden", False),
    ("media_attachments\\..\\secret_key", False),
    ("media_attachments/1.png\x00.txt", False),
    ("/media_attachments/1.png", False),
    ("../tribune.sqlite3", False),
    ("secret_key", False),
])
def test_public_names(name, public):
    assert is_public_name(name) is public


def test_content_types_do_not_depend_on_the_machine():
    assert content_type("media_attachments/1.webp") == "image/webp"
    assert content_type("media_attachments/1.AVIF") == "image/avif"
    assert content_type("media_attachments/1.mp4") == "video/mp4"
    assert content_type("media_attachments/1.unknown-ext") == "application/octet-stream"


@pytest.mark.parametrize("name, value", [
    ("TRIBUNE_MEDIA_URL", "ftp://media"),
    ("TRIBUNE_MEDIA_URL", "s3://"),
    ("TRIBUNE_S3_ACCESS_KEY", "only-the-key"),
])
def test_bad_configuration_stops_the_command_with_one_line(tmp_path, name, value):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIBUNE_")}
    env.update({"TRIBUNE_DATA_DIR": str(tmp_path), name: value})
    if name != "TRIBUNE_MEDIA_URL":
        env["TRIBUNE_MEDIA_URL"] = "s3://media"
    result = subprocess.run([TRIBUNE, "migrate"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert name in lines[0]
