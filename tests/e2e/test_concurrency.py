"""Several clients writing at once through the real server: every request succeeds
(the SQLite setup of the embedded default: WAL, IMMEDIATE transactions, a busy
timeout; or PostgreSQL), and every post reaches the followers' home timelines."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests

PASSWORD = "correct-horse-battery-staple"


POSTS = 10  # per writer, each favourited by the reader


def test_concurrent_writers_and_readers(server):
    names = [f"writer{i}" for i in range(4)]
    tokens = server.accounts(*names, "reader")
    api = f"{server.base_url}/api/v1"

    def headers(name):
        return {"Authorization": f"Bearer {tokens[name]}"}

    for name in names:
        account = requests.get(f"{api}/accounts/lookup", params={"acct": name}).json()
        assert requests.post(f"{api}/accounts/{account['id']}/follow", headers=headers("reader")).status_code == 200

    def write(name):
        codes, ids = [], []
        for i in range(POSTS):
            r = requests.post(f"{api}/statuses", headers=headers(name),
                              data={"status": f"{name} says {i} #load"})
            codes.append(r.status_code)
            if r.status_code == 200:
                ids.append(r.json()["id"])
                codes.append(requests.post(f"{api}/statuses/{ids[-1]}/favourite",
                                           headers=headers("reader")).status_code)
        return codes, ids

    def read(_):
        return [requests.get(f"{api}/timelines/home", headers=headers("reader")).status_code
                for _ in range(15)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        writers = list(pool.map(write, names))
        readers = list(pool.map(read, range(2)))
    codes = [c for w in writers for c in w[0]] + [c for r in readers for c in r]
    assert set(codes) == {200}, sorted(set(codes))
    posted = {i for w in writers for i in w[1]}
    assert len(posted) == len(names) * POSTS

    # The fan-out of 40 posts and the notices of 40 favourites queue behind one task
    # worker (with Redis, an RQ worker forking a process per job): the time allowed
    # is for a machine that is busy with other work too.
    deadline = time.monotonic() + 120
    seen: set[str] = set()
    while time.monotonic() < deadline and not posted <= seen:
        seen, url = set(), f"{api}/timelines/home?limit=40"
        while url:
            page = requests.get(url, headers=headers("reader"))
            assert page.status_code in (200, 206), (page.status_code, page.text[:300])
            seen |= {s["id"] for s in page.json()}
            url = page.links.get("next", {}).get("url") if page.json() else None
        # Rounds two seconds apart stay well within the reader's request budget
        # (Mastodon's 300 per 5 minutes), however long the fan-out takes.
        time.sleep(2)
    assert posted <= seen
