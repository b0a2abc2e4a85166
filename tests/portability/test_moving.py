"""Moving an account before federation: aliases, "moved to", and the signed move
statement an archive carries, checked here or with the old instance over HTTP."""

from __future__ import annotations

import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tribune.accounts.selectors import account_uri
from tribune.accounts.services import account_aliases_set, account_moved_to_set
from tribune.core.errors import ValidationFailed
from tribune.portability.exports import archive_write
from tribune.portability.imports import import_create, import_run
from tribune.portability.models import ImportRow
from tribune.portability.moving import (
    move_statement,
    move_statement_accept,
    move_statement_check,
)

pytestmark = pytest.mark.django_db


def test_aliases_and_moved_to_are_checked(alice, bob):
    with pytest.raises(ValidationFailed, match="not an account address"):
        account_aliases_set(account=alice, aliases=["not a url"])
    with pytest.raises(ValidationFailed, match="own alias"):
        account_aliases_set(account=alice, aliases=[account_uri(alice)])
    account_aliases_set(account=alice, aliases=["https://old.example/users/alice"] * 2)
    assert alice.also_known_as == ["https://old.example/users/alice"]
    # A local account must name the old one first, as Mastodon requires.
    with pytest.raises(ValidationFailed, match="aliases"):
        account_moved_to_set(account=bob, uri=account_uri(alice))
    with pytest.raises(ValidationFailed, match="no account"):
        account_moved_to_set(account=bob, uri=account_uri(alice) + "x")
    account_aliases_set(account=alice, aliases=[account_uri(bob)])
    account_moved_to_set(account=bob, uri=account_uri(alice))
    assert bob.moved_to_uri == account_uri(alice)
    # Another server's account cannot be asked yet: taken as given.
    account_moved_to_set(account=bob, uri="https://new.example/users/bob")
    account_moved_to_set(account=bob, uri="")
    assert bob.moved_to_uri == ""


def test_the_statement_is_valid_while_the_move_stands(alice):
    assert move_statement(alice) is None
    account_moved_to_set(account=alice, uri="https://new.example/users/alice")
    statement = move_statement(alice)
    answer = move_statement_check(statement=statement["statement"])
    assert answer == {"valid": True, "account": account_uri(alice),
                      "moved_to": "https://new.example/users/alice"}
    assert statement["verify"].endswith(statement["statement"].replace(":", "%3A"))
    tampered = statement["statement"][:-2] + "xx"
    assert move_statement_check(statement=tampered)["valid"] is False
    account_moved_to_set(account=alice, uri="")
    assert move_statement_check(statement=statement["statement"])["valid"] is False


def test_importing_the_old_archive_here_makes_the_alias(alice, make_account, tmp_path):
    """Both accounts on this instance: the statement is checked without HTTP."""
    newcomer = make_account("newcomer")
    account_aliases_set(account=newcomer, aliases=[account_uri(alice)])
    account_moved_to_set(account=alice, uri=account_uri(newcomer))
    account_aliases_set(account=newcomer, aliases=[])  # lost since; the archive proves it
    path = tmp_path / "archive.zip"
    archive_write(account=alice, path=path)
    assert "move.json" in zipfile.ZipFile(path).namelist()
    batch = import_create(account=newcomer, kind="mastodon-archive", mode="merge",
                          upload=SimpleUploadedFile("a.zip", path.read_bytes()), enqueue=False)
    import_run(import_id=batch.pk)
    row = ImportRow.objects.get(batch=batch, item="move.json")
    assert row.result == "imported", row.reason
    newcomer.refresh_from_db()
    assert newcomer.also_known_as == [account_uri(alice)]
    # Someone else importing the same archive gets no alias.
    other = make_account("other")
    batch = import_create(account=other, kind="mastodon-archive", mode="merge",
                          upload=SimpleUploadedFile("a.zip", path.read_bytes()), enqueue=False)
    import_run(import_id=batch.pk)
    assert "not to this account" in ImportRow.objects.get(batch=batch, item="move.json").reason


@pytest.fixture
def old_instance(settings):
    """Another instance on loopback answering /move-statements/verify with what
    ``answer`` holds (the statement it was asked about is in ``asked``)."""
    state = {"answer": {}, "asked": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            state["asked"].append(parse_qs(parts.query).get("statement", [""])[0])
            body = json.dumps(state["answer"]).encode()
            status = 200 if parts.path == "/move-statements/verify" else 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    settings.TRIBUNE_FETCH_ALLOW_HOSTS = [host]
    state["origin"] = f"http://{host}"
    yield state
    server.shutdown()
    server.server_close()


def test_a_statement_from_another_instance_is_confirmed_there(alice, old_instance):
    old = f"{old_instance['origin']}/users/alice"
    document = {"account": old, "moved_to": account_uri(alice), "statement": "signed-there"}
    old_instance["answer"] = {"valid": False}
    with pytest.raises(ValidationFailed, match="did not confirm"):
        move_statement_accept(account=alice, document=document)
    old_instance["answer"] = {"valid": True, "account": old, "moved_to": account_uri(alice)}
    assert move_statement_accept(account=alice, document=document) == old
    assert old_instance["asked"][-1] == "signed-there"
    alice.refresh_from_db()
    assert alice.also_known_as == [old]


def test_a_statement_is_never_checked_at_an_address_it_names(alice, old_instance):
    document = {"account": "http://10.0.0.1/users/alice", "moved_to": account_uri(alice),
                "statement": "x", "verify": f"{old_instance['origin']}/move-statements/verify"}
    old_instance["answer"] = {"valid": True, "account": document["account"],
                              "moved_to": account_uri(alice)}
    with pytest.raises(ValidationFailed, match="could not be asked"):
        move_statement_accept(account=alice, document=document)
    assert old_instance["asked"] == []


def test_the_api_account_says_where_it_moved(alice, bob, api_as):
    api = api_as(alice)
    assert api.get(f"/api/v1/accounts/{bob.pk}").json().keys().isdisjoint({"moved"})
    account_aliases_set(account=alice, aliases=[account_uri(bob)])
    account_moved_to_set(account=bob, uri=account_uri(alice))
    entity = api.get(f"/api/v1/accounts/{bob.pk}").json()
    assert entity["moved"]["id"] == str(alice.pk) and "moved" not in entity["moved"]
    # Moved elsewhere: that account is not known here, so there is no entity to show.
    account_moved_to_set(account=bob, uri="https://new.example/users/bob")
    assert api.get(f"/api/v1/accounts/{bob.pk}").json().keys().isdisjoint({"moved"})


def test_the_weekly_archive_limit_lets_the_move_statement_through_once(
        alice, make_account, django_capture_on_commit_callbacks):
    """The documented flow: an archive taken days before, then the move, then the
    archive that carries the move statement, imported on the new account. The
    weekly limit stays for everything else."""
    from tribune.portability.exports import export_request
    from tribune.portability.models import Export

    def archive():
        with django_capture_on_commit_callbacks(execute=True):
            made = export_request(account=alice)
        made.refresh_from_db()
        return made

    before = archive()
    with pytest.raises(ValidationFailed, match="once every 7 days"):
        export_request(account=alice)  # not moved: the limit holds
    newcomer = make_account("newcomer")
    account_aliases_set(account=newcomer, aliases=[account_uri(alice)])
    account_moved_to_set(account=alice, uri=account_uri(newcomer))

    moved = archive()
    assert moved.pk != before.pk and moved.state == "finished"
    with moved.file.open("rb") as stored, zipfile.ZipFile(stored) as made:
        statement = json.loads(made.read("move.json"))
    assert statement["moved_to"] == account_uri(newcomer)
    # One such archive: pointing the move elsewhere does not buy another.
    with pytest.raises(ValidationFailed, match="once every 7 days"):
        export_request(account=alice)
    account_moved_to_set(account=alice, uri="https://new.example/users/alice")
    with pytest.raises(ValidationFailed, match="once every 7 days"):
        export_request(account=alice)
    assert Export.objects.filter(account=alice).count() == 2

    account_moved_to_set(account=alice, uri=account_uri(newcomer))
    with moved.file.open("rb") as stored:
        upload = SimpleUploadedFile("archive.zip", stored.read())
    batch = import_create(account=newcomer, kind="mastodon-archive", mode="merge",
                          upload=upload, enqueue=False)
    import_run(import_id=batch.pk)
    assert ImportRow.objects.get(batch=batch, item="move.json").result == "imported"
    newcomer.refresh_from_db()
    assert newcomer.also_known_as == [account_uri(alice)]
