"""``tribune moderation stats`` and ``verify-log`` as an operator runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests import instances
from tests.test_cli import TRIBUNE, _env, one_line, query, tribune

SETUP = textwrap.dedent("""
    import django, os
    os.environ["DJANGO_SETTINGS_MODULE"] = "tribune.settings"
    django.setup()
    from tribune.accounts.services import account_create
    from tribune.moderation.services import report_create, rule_create
    a = account_create(username="target", email="t@example.test", password="x", check_password=False)
    b = account_create(username="reporter", email="r@example.test", password="x", check_password=False)
    rule = rule_create(text="No threats", severity_tier=1)
    report_create(reporter=b, target=a, rule_ids=[rule.pk])
    report_create(reporter=b, target=a, category="spam")
""")


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("moderation")
    instances.migrated(data_dir)
    subprocess.run([sys.executable, "-c", SETUP], env=_env(data_dir), check=True)
    return data_dir


def test_stats_counts_the_queue(instance):
    result = tribune(instance, "moderation", "stats", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["reports"] == 2
    # Both reports name no single status: one case about the account, at P1.
    assert figures["open_cases"] == 1
    assert [t["open"] for t in figures["tiers"]] == [0, 1, 0, 0, 0]
    assert figures["log_entries"] == 4  # rule, case, report, report (P4 adds no tier change)
    text = tribune(instance, "moderation", "stats")
    assert "P1: 1 open" in text.stdout


def test_verify_log_exits_0_when_intact_and_1_when_tampered(instance):
    intact = tribune(instance, "moderation", "verify-log")
    assert intact.returncode == 0
    assert one_line(intact.stdout) == "moderation log intact: 4 entries"
    query(instance, "UPDATE moderation_logentry SET actor_kind = 'system' WHERE seq = 4")
    broken = tribune(instance, "moderation", "verify-log")
    assert broken.returncode == 1
    assert one_line(broken.stderr) == (
        "moderation log broken at entry 4: the entry was changed after it was written")


def test_moderation_needs_a_subcommand(instance):
    result = subprocess.run([TRIBUNE, "moderation"], env=_env(instance),
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "SUBCOMMAND" in one_line(result.stderr) or "required" in result.stderr


CATCH_UP_SETUP = textwrap.dedent("""
    import django, os
    from datetime import timedelta
    os.environ["DJANGO_SETTINGS_MODULE"] = "tribune.settings"
    django.setup()
    from django.utils import timezone
    from tribune.accounts.services import account_create
    from tribune.moderation.decisions import Reasons, decision_create
    from tribune.moderation.models import Decision
    from tribune.moderation.services import report_create, rule_create
    a = account_create(username="target", email="t@example.test", password="x", check_password=False)
    b = account_create(username="reporter", email="r@example.test", password="x", check_password=False)
    m = account_create(username="mod", email="m@example.test", password="x", check_password=False,
                       admin=True)
    rule = rule_create(text="No spam", severity_tier=4)
    case = report_create(reporter=b, target=a, rule_ids=[rule.pk]).case
    decision = decision_create(case_id=case.pk, moderator=m, restriction="freeze",
                               reasons=Reasons(facts="Posting ads.", rule_id=rule.pk,
                                               explanation="Spam."),
                               duration=timedelta(days=1))
    # The worker that would have lifted it at its end was not running.
    Decision.objects.filter(pk=decision.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
""")


def test_catch_up_lifts_a_restriction_whose_worker_was_not_running(tmp_path):
    instances.migrated(tmp_path)
    subprocess.run([sys.executable, "-c", CATCH_UP_SETUP], env=_env(tmp_path), check=True)
    [(frozen,)] = query(tmp_path, "SELECT frozen_at FROM accounts_account WHERE username = 'target'")
    assert frozen is not None
    result = tribune(tmp_path, "moderation", "catch-up")
    assert result.returncode == 0, result.stderr
    assert one_line(result.stdout) == (
        "restrictions lifted: 1  jury panels closed: 0  appeals assigned: 0")
    [(frozen,)] = query(tmp_path, "SELECT frozen_at FROM accounts_account WHERE username = 'target'")
    assert frozen is None
    again = tribune(tmp_path, "moderation", "catch-up")
    assert one_line(again.stdout).startswith("restrictions lifted: 0")
