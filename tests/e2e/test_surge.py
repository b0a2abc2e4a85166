"""A burst of sign-ups against the real server (`tribune serve`, gunicorn with
threads), each process admitting one password hashing at a time
(TRIBUNE_HASH_CONCURRENCY=1): every sign-up is answered, either made (200) or
refused at once with 503 and ``Retry-After`` (never a timeout or another error),
refused ones leave nothing behind, and reads made meanwhile are all served."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import start_server, stop_server

BURST = 12
ROUNDS = 5  # bursts until one finds every slot taken; each is checked in full
PASSWORD = "a sign-up passphrase for the burst"


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("surge-data")
    process, running, log = start_server(data_dir, TRIBUNE_HASH_CONCURRENCY="1",
                                         TRIBUNE_RATE_LIMITS="off")
    yield running
    stop_server(process, log, data_dir)


def _app_token(base: str) -> str:
    app = requests.post(f"{base}/api/v1/apps", data={
        "client_name": "Burst", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": "read write"}, timeout=30).json()
    token = requests.post(f"{base}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": "read write"}, timeout=30)
    assert token.status_code == 200, token.text
    return token.json()["access_token"]


def test_a_burst_of_sign_ups_is_answered_at_once_and_reads_go_on(busy_server):
    base = busy_server.base_url
    token = _app_token(base)
    refused_seen = False
    for round_number in range(ROUNDS):
        start = threading.Barrier(BURST + 2)

        def sign_up(n: int, round_number=round_number, start=start):
            username = f"burst{round_number}_{n}"
            start.wait()
            response = requests.post(
                f"{base}/api/v1/accounts", headers={"Authorization": f"Bearer {token}"},
                data={"username": username, "email": f"{username}@example.test",
                      "password": PASSWORD, "agreement": "true"}, timeout=60)
            return username, response

        def read(_: int, start=start):
            start.wait()
            return [requests.get(f"{base}{path}", timeout=60).status_code
                    for path in ("/api/v1/timelines/public", "/api/v1/instance", "/")]

        with ThreadPoolExecutor(max_workers=BURST + 2) as pool:
            signing = [pool.submit(sign_up, n) for n in range(BURST)]
            reading = [pool.submit(read, n) for n in range(2)]
            answers = [f.result() for f in signing]
            reads = [code for f in reading for code in f.result()]

        assert set(reads) == {200}, reads
        for username, response in answers:
            assert response.status_code in (200, 503), (username, response.status_code,
                                                        response.text)
            lookup = requests.get(f"{base}/api/v1/accounts/lookup",
                                  params={"acct": username}, timeout=30)
            if response.status_code == 200:
                own = requests.get(f"{base}/api/v1/accounts/verify_credentials", timeout=30,
                                   headers={"Authorization":
                                            f"Bearer {response.json()['access_token']}"})
                assert own.status_code == 200 and own.json()["username"] == username
                assert lookup.status_code == 200
            else:
                assert response.headers["Retry-After"] == "1"
                assert isinstance(response.json()["error"], str)
                assert lookup.status_code == 404  # nothing was written
                refused_seen = True
        if refused_seen:
            break
    assert refused_seen, f"{ROUNDS} bursts of {BURST} sign-ups never found the slots taken"
