"""Open-loop sign-up load from many loopback source addresses (benchmark 4).

wrk sends from one address and in a closed loop, so it can neither offer a fixed
arrival rate above capacity nor look like many people signing up at once, each
from an address of their own (the per-IP limit of sign-ups is 5 per 30 minutes).
This sends ``POST /api/v1/accounts`` at ``--rate`` per second for ``--seconds``,
each request on a new connection bound to a loopback address (127.X.Y.Z; Linux
routes all of 127/8 to the loopback interface), ``--per-ip`` requests per address,
with an app token per address from ``--tokens``. It prints one JSON line: the
status and latency of every request (timeouts as status 0).

    python bench/scale/surge.py --port P --rate R --seconds S --tokens FILE
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time


async def one(port: int, source: str, token: str, username: str, timeout: float) -> tuple[int, float]:
    body = json.dumps({"username": username, "email": f"{username}@surge.test",
                       "password": "bench password, not a secret", "agreement": True}).encode()
    request = (f"POST /api/v1/accounts HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()
            await reader.read()
            writer.close()
        status = int(status_line.split()[1])
    except (TimeoutError, OSError, IndexError, ValueError):
        status = 0
    return status, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--per-ip", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    with open(args.tokens) as handle:
        tokens = handle.read().split()
    second = random.randrange(16, 250)
    run = f"{random.randrange(36**4):04x}"
    total = int(args.rate * args.seconds)
    tasks = []
    start = time.perf_counter()
    for k in range(total):
        address = k // args.per_ip
        source = f"127.{second}.{address // 250 % 250}.{address % 250 + 1}"
        due = start + k / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(args.port, source, tokens[address % len(tokens)],
                                             f"surge{run}{k}", args.timeout)))
    sent_for = time.perf_counter() - start
    results = await asyncio.gather(*tasks)
    print(json.dumps({"sent": total, "sent_for": sent_for, "results": results}))


if __name__ == "__main__":
    asyncio.run(main())
