"""Instance backup and restore with media in an S3-compatible bucket (moto's
standalone S3 server in its own process, over real HTTP): the archive takes the
files from the bucket, and a restore puts them back into a new bucket or into a
data directory, byte for byte."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.media.test_s3_storage import CREDENTIALS, endpoint, new_bucket, s3_client
from tests.portability.conftest import Target

# The instances are its own (SQLite, or PostgreSQL databases it makes), whatever
# the run's database: CI runs it once.
pytestmark = pytest.mark.own_instances

__all__ = ["endpoint"]  # the module-scoped moto server, used as a fixture here


@dataclass
class BucketTarget(Target):
    """An instance whose media storage is ``s3://bucket`` on ``endpoint``."""

    bucket: str = ""
    endpoint: str = ""

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, **CREDENTIALS,
                "TRIBUNE_MEDIA_URL": f"s3://{self.bucket}?endpoint={self.endpoint}"}

    def bucket_files(self) -> dict[str, str]:
        """Every object of the bucket by key, with the SHA-256 of its bytes."""
        client = s3_client(self.endpoint)
        keys = [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket) for item in page.get("Contents", [])]
        return {key: hashlib.sha256(client.get_object(Bucket=self.bucket, Key=key)["Body"]
                                    .read()).hexdigest() for key in sorted(keys)}


def _seeded_in_bucket(endpoint: str, tmp_path: Path) -> BucketTarget:
    source = BucketTarget(tmp_path / "source", bucket=new_bucket(endpoint), endpoint=endpoint)
    source.script("seed")
    return source


def test_media_in_a_bucket_come_back_in_a_new_bucket_and_in_a_data_directory(
        endpoint, passphrase_file, tmp_path):
    source = _seeded_in_bucket(endpoint, tmp_path)
    files = source.bucket_files()
    # The seed uploads three pictures and an avatar (each with its processed forms).
    assert len([k for k in files if not k.startswith("uploads/")]) >= 3, files
    assert not (source.data_dir / "media").exists()  # nothing went to the disk
    rows = source.dump()["tables"]

    archive = tmp_path / "instance.tar.gz"
    done = source.tribune("backup", str(archive), "--passphrase-file", str(passphrase_file))
    assert done.returncode == 0, done.stderr

    into_bucket = BucketTarget(tmp_path / "restored-s3", bucket=new_bucket(endpoint),
                               endpoint=endpoint)
    done = into_bucket.tribune("restore", str(archive), "--passphrase-file", str(passphrase_file))
    assert done.returncode == 0, done.stderr
    restored = into_bucket.bucket_files()
    kept = {key: digest for key, digest in files.items() if key in restored}
    # Every file a row names is back under the same key with the same bytes; raw
    # uploads awaiting processing are the only objects a backup may leave out.
    assert kept == restored
    assert set(files) - set(restored) <= {k for k in files if k.startswith("uploads/")}
    assert into_bucket.dump()["tables"] == rows

    on_disk = Target(tmp_path / "restored-disk")
    done = on_disk.tribune("restore", str(archive), "--passphrase-file", str(passphrase_file))
    assert done.returncode == 0, done.stderr
    assert on_disk.dump()["files"] == restored
    assert on_disk.dump()["tables"] == rows
