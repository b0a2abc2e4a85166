"""The benchmark floor, ``GET /_bench/floor``: routed only when
``TRIBUNE_BENCHMARK_FLOOR`` is on (off by default; never in production).

The scale benchmarks (bench/scale, BENCHMARKS.md) divide the home timeline's
throughput by this view's, measured in the same server process and the same run,
so that a figure survives a noisy machine. It is the least a JSON read can cost
here: the same middleware, one query on the statuses' ``(account, -id)`` index
(an account's newest statuses) and a JSON body padded to the size of a real page.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse

from tribune.statuses.models import Status

LIMIT = 20
MAX_BYTES = 1_000_000


def floor(request: HttpRequest) -> HttpResponse:
    """``?account=<id>&bytes=<n>``: the newest 20 statuses of one account (id,
    created_at, visibility, language, content), each padded so the body is about
    ``n`` bytes. 400 ``{"error": ...}`` when a parameter is not a non-negative
    integer or ``n`` is over 1,000,000."""
    try:
        account_id = int(request.GET.get("account", ""))
        size = int(request.GET.get("bytes", "0"))
    except ValueError:
        return JsonResponse({"error": "account and bytes must be integers"}, status=400)
    if account_id < 0 or not 0 <= size <= MAX_BYTES:
        return JsonResponse({"error": "account or bytes out of range"}, status=400)
    rows = list(Status.objects.filter(account_id=account_id).order_by("-id")
                .values_list("id", "created_at", "visibility", "language", "content")[:LIMIT])
    items = [{"id": str(i), "created_at": at.isoformat(), "visibility": v, "language": lang,
              "content": content, "padding": ""} for i, at, v, lang, content in rows]
    body = json.dumps(items)
    if items and len(body) < size:
        pad = (size - len(body)) // len(items)
        for item in items:
            item["padding"] = "x" * pad
        body = json.dumps(items)
    return HttpResponse(body, content_type="application/json")
