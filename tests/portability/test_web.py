"""The Import and export and Moving settings pages, through the forms a browser
posts: uploads with their per-row results, refusals shown on the form (never a
500), the archive requested and downloaded, the CSV files, the move notice."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.portability import files
from tribune.accounts.selectors import account_uri
from tribune.graph.models import Follow
from tribune.portability.models import Export, Import

pytestmark = pytest.mark.django_db


def browser(account=None) -> Client:
    client = Client(HTTP_HOST="localhost")
    if account is not None:
        client.force_login(account.user)
    return client


def no_inline_script(response) -> None:
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode())


def test_the_page_needs_a_signed_in_person():
    response = browser().get("/settings/import_export")
    assert response.status_code == 302 and "/auth/sign_in" in response["Location"]


def test_an_upload_is_imported_and_its_rows_shown(alice, bob, django_capture_on_commit_callbacks):
    client = browser(alice)
    page = client.get("/settings/import_export")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    no_inline_script(page)
    csv = SimpleUploadedFile("following_accounts.csv",
                             b"Account address,Show boosts\nbob,true\nghost@far.example,true\n")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/import_export", {
            "form": "import", "kind": "following", "mode": "merge", "file": csv})
    assert response.status_code == 303
    assert Follow.objects.filter(account=alice, target=bob).exists()
    batch = Import.objects.get(account=alice)
    assert (batch.state, batch.imported, batch.failed) == ("finished", 1, 1)
    listing = client.get("/settings/import_export").content.decode()
    assert f"/settings/imports/{batch.pk}" in listing and "following_accounts.csv" in listing
    detail = client.get(f"/settings/imports/{batch.pk}")
    text = detail.content.decode()
    assert detail.status_code == 200 and "ghost@far.example is on another server" in text
    no_inline_script(detail)
    only_failed = client.get(f"/settings/imports/{batch.pk}?result=failed&page=x").content.decode()
    assert "ghost@far.example" in only_failed and ">bob<" not in only_failed
    assert browser(bob).get(f"/settings/imports/{batch.pk}").status_code == 404


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"kind": "blocks", "mode": "merge", "name": "b.csv", "data": b"x" * 200}, "file", "larger than"),
    ({"kind": "mastodon-archive", "mode": "overwrite", "name": "a.zip",
      "data": files.zip_bytes(files.mastodon_members())}, "mode", "only be merged"),
    ({"kind": "mastodon-archive", "mode": "merge", "name": "a.zip",
      "data": files.zip_bytes({"../outbox.json": b"{}"})}, "file", "not allowed"),
    ({"kind": "x-archive", "mode": "merge", "name": "a.zip", "data": b"not a zip"}, "file",
     "not a zip"),
    ({"kind": "blocks", "mode": "merge", "name": "b.csv", "data": b"\xff\xfe\xfa"}, "file",
     "not UTF-8"),
])
def test_refusals_are_shown_on_the_form(alice, settings, fields, field, message):
    settings.TRIBUNE_IMPORT_MAX_CSV_BYTES = 100
    response = browser(alice).post("/settings/import_export", {
        "form": "import", "kind": fields["kind"], "mode": fields["mode"],
        "file": SimpleUploadedFile(fields["name"], fields["data"])})
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Import.objects.exists()


def test_the_archive_is_requested_then_downloaded(alice, bob, django_capture_on_commit_callbacks):
    client = browser(alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/settings/import_export", {"form": "export"}).status_code == 303
    export = Export.objects.get(account=alice)
    page = client.get("/settings/import_export").content.decode()
    assert f"/settings/exports/{export.pk}/download" in page
    download = client.get(f"/settings/exports/{export.pk}/download")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert "attachment" in download["Content-Disposition"]
    archive = zipfile.ZipFile(BytesIO(b"".join(download.streaming_content)))
    assert "outbox.json" in archive.namelist()
    assert browser(bob).get(f"/settings/exports/{export.pk}/download").status_code == 404
    again = client.post("/settings/import_export", {"form": "export"})
    assert again.status_code == 422 and "once every 7 days" in again.content.decode()
    assert Export.objects.filter(account=alice).count() == 1


def test_the_csv_files(alice, bob, settings):
    from tribune.graph.services import follow_create

    follow_create(account=alice, target=bob)
    response = browser(alice).get("/settings/exports/following_accounts.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[1] == f"bob@{settings.TRIBUNE_DOMAIN},true,false,"
    assert browser(alice).get("/settings/exports/passwords.csv").status_code == 404


def test_moving_sets_aliases_and_shows_the_notice(alice, bob):
    client = browser(bob)
    page = client.get("/settings/moving")
    assert page.status_code == 200 and account_uri(bob) in page.content.decode()
    no_inline_script(page)
    refused = client.post("/settings/moving", {"form": "moved", "moved-moved_to": account_uri(alice)})
    assert refused.status_code == 422 and "aliases" in refused.content.decode()
    assert browser(alice).post("/settings/moving", {
        "form": "aliases", "aliases-aliases": f"{account_uri(bob)}\r\n\r\n"}).status_code == 303
    assert client.post("/settings/moving", {
        "form": "moved", "moved-moved_to": account_uri(alice)}).status_code == 303
    profile = browser().get("/@bob").content.decode()
    assert "This account has moved to" in profile and 'href="http' in profile
    assert "@alice</a>" in profile
    statement = re.search(r"/move-statements/verify\?statement=([^\"&]+)",
                          client.get("/settings/moving").content.decode())[1]
    answer = browser().get(f"/move-statements/verify?statement={statement}").json()
    assert answer == {"valid": True, "account": account_uri(bob), "moved_to": account_uri(alice)}
    assert browser().get("/move-statements/verify?statement=forged").json()["valid"] is False
