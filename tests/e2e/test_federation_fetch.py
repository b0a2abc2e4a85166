"""Another server's view of the real server: WebFinger, the actor and a note
fetched over HTTP, and the served key checked against a signature."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

PASSWORD = "correct-horse-battery-staple"
AS = "application/activity+json"


def test_a_peer_finds_the_actor_and_reads_a_public_note(server):
    token = server.accounts("fedora", scopes="read write")["fedora"]
    api = f"{server.base_url}/api/v1"
    headers = {"Authorization": f"Bearer {token}"}
    public = requests.post(f"{api}/statuses", headers=headers,
                           data={"status": "hello, fediverse"}).json()
    private = requests.post(f"{api}/statuses", headers=headers,
                            data={"status": "only friends", "visibility": "private"}).json()

    actor = requests.get(f"{server.base_url}/users/fedora", headers={"Accept": AS})
    assert actor.status_code == 200 and actor.headers["Content-Type"] == AS
    document = actor.json()
    assert document["id"] == public["account"]["url"].replace("/@fedora", "/users/fedora")
    key = serialization.load_pem_public_key(document["publicKey"]["publicKeyPem"].encode())

    path = f"/users/fedora/statuses/{public['id']}"
    note = requests.get(f"{server.base_url}{path}", headers={"Accept": AS})
    assert note.status_code == 200
    assert (note.json()["id"], note.json()["content"]) == (public["uri"], public["content"])
    hidden = requests.get(f"{server.base_url}/users/fedora/statuses/{private['id']}",
                          headers={"Accept": AS})
    assert hidden.status_code == 404

    # A Mastodon-style (draft-cavage) signing string, signed with the account's
    # stored private key, read from the server's database, verifies with the served key.
    signing_string = (f"(request-target): get {path}\nhost: remote.example\n"
                      f"digest: SHA-256={base64.b64encode(hashlib.sha256(b'').digest()).decode()}")
    shell = subprocess.run([sys.executable, "-c", (
        "import base64, django;"
        "django.setup();"
        "from cryptography.hazmat.primitives import hashes, serialization;"
        "from cryptography.hazmat.primitives.asymmetric import padding;"
        "from tribune.federation.models import ActorKey;"
        "k = ActorKey.objects.get(account__username='fedora');"
        "p = serialization.load_pem_private_key(k.private_key_pem.encode(), None);"
        f"print(base64.b64encode(p.sign({signing_string.encode()!r}, padding.PKCS1v15(),"
        " hashes.SHA256())).decode())")],
        env={**server.env, "DJANGO_SETTINGS_MODULE": "tribune.settings"},
        capture_output=True, text=True, timeout=120)
    assert shell.returncode == 0, shell.stderr
    signature = base64.b64decode(shell.stdout.split()[-1])
    key.verify(signature, signing_string.encode(), padding.PKCS1v15(), hashes.SHA256())
