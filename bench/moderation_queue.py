"""The moderation queue under a flood of reports, on the embedded default.

In a fresh SQLite data directory: makes accounts and statuses, files REPORTS
reports across SUBJECTS subjects through ``moderation.services.report_create``
(the path the API and the web use), and prints:

* reports ingested per second;
* ``next_case()`` latency (median of 200 calls) with 100 open cases and with
  100,000 open cases, and their ratio (the issue asks for under 2);
* the moderator's queue page (``case_queue(limit=50)``) latency at 100,000 cases.

    uv run python bench/moderation_queue.py [--reports 100000] [--subjects 5000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta


def median_ms(fn, runs: int = 200) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--subjects", type=int, default=5_000)
    args = parser.parse_args()
    os.environ.update(TRIBUNE_DATA_DIR=tempfile.mkdtemp(prefix="tribune-bench-"),
                      DJANGO_SETTINGS_MODULE="tribune.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from tribune.accounts.models import Account
    from tribune.moderation.models import Case, Tier
    from tribune.moderation.selectors import case_queue, next_case
    from tribune.moderation.services import report_create, rule_create
    from tribune.statuses.models import Status

    call_command("migrate", verbosity=0)
    now = timezone.now()
    authors = Account.objects.bulk_create([
        Account(username=f"author{i}", created_at=now) for i in range(50)])
    reporters = Account.objects.bulk_create([
        Account(username=f"reporter{i}", created_at=now) for i in range(200)])
    statuses = Status.objects.bulk_create([
        Status(account=authors[i % 50], text=f"post {i}", content=f"<p>post {i}</p>",
               created_at=now, visibility="public")
        for i in range(args.subjects)])
    rules = [rule_create(text=f"Rule {tier}", severity_tier=tier) for tier in Tier.values]

    began = time.perf_counter()
    for i in range(args.reports):
        subject = statuses[(i * 7919) % args.subjects]
        # Two reports in three cite a rule (mostly P4, some P3, a few P2).
        rule_ids = [rules[4 - (i % 5 == 0) - (i % 50 == 0)].pk] if i % 3 else []
        report_create(reporter=reporters[i % 200], target=subject.account,
                      status_ids=[subject.pk], rule_ids=rule_ids,
                      category=None if rule_ids else "spam")
    elapsed = time.perf_counter() - began
    print(f"ingest: {args.reports} reports on {args.subjects} subjects in {elapsed:.1f} s "
          f"= {args.reports / elapsed:.0f} reports/s; open cases {Case.objects.count()}")

    # next_case() with exactly 100 open cases ...
    keep = list(Case.objects.order_by("id").values_list("pk", flat=True)[:100])
    Case.objects.exclude(pk__in=keep).update(state="closed")
    hundred = median_ms(next_case)
    # ... and with 100,000 (the ingested cases reopened, the rest added in bulk).
    Case.objects.update(state="open")
    missing = 100_000 - Case.objects.count()
    Case.objects.bulk_create([
        Case(subject_key=f"account:{10**12 + i}", target_account=authors[i % 50],
             severity_tier=Tier.P4 - (i % 3 == 0), priority=i % 97,
             deadline_at=now + timedelta(minutes=i % 10_000), opened_at=now)
        for i in range(missing)], batch_size=2000)
    big = median_ms(next_case)
    page = median_ms(lambda: case_queue(limit=50), runs=50)
    open_cases = Case.objects.filter(state="open").count()
    print(f"next_case: {hundred:.3f} ms with 100 open cases, {big:.3f} ms with "
          f"{open_cases} (ratio {big / hundred:.2f})")
    print(f"queue page (50 cases): {page:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
