"""``tribune moderation transparency`` and ``export-sor``, run in this process on
the test database, and their refusals of a bad period as an operator sees them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.moderation.transparency_data import build
from tests.test_cli import one_line, tribune
from tribune.cli import main
from tribune.moderation import tdb
from tribune.moderation.transparency import transparency_report


def period() -> list[str]:
    today = timezone.now().date()
    return ["--from", today.isoformat(), "--to", (today + timedelta(days=1)).isoformat()]


@pytest.mark.django_db(transaction=True)
def test_report_and_export(make_account, capsys, tmp_path):
    build(make_account)
    assert main(["moderation", "transparency", *period()]) == 0
    printed = json.loads(capsys.readouterr().out)
    today = timezone.now().date()
    expected = transparency_report(start=today, end=today + timedelta(days=1))
    printed.pop("generated_at"), expected.pop("generated_at")
    printed["backlog"].pop("at"), expected["backlog"].pop("at")
    printed["backlog"].pop("oldest_open_age_seconds")
    expected["backlog"].pop("oldest_open_age_seconds")
    assert printed == expected

    assert main(["moderation", "transparency", *period(), "--format", "html"]) == 0
    html = capsys.readouterr().out
    assert html.startswith("<!DOCTYPE html>")
    assert "<caption>" in html and '<th scope="row">' in html and '<th scope="col">' in html
    assert "No harassment" in html

    target = tmp_path / "statements.json"
    assert main(["moderation", "export-sor", *period(), "--output", str(target)]) == 0
    assert one_line(capsys.readouterr().out) == (
        f"wrote 5 statements in 1 batches to {target}")
    document = json.loads(target.read_text())
    assert list(document) == ["batches"]
    statements = document["batches"][0]["statements"]
    assert len(statements) == 5
    assert all(tdb.validate_statement(s) == [] for s in statements)

    assert main(["moderation", "export-sor", "--from", "2020-01-01", "--to", "2020-02-01"]) == 0
    assert json.loads(capsys.readouterr().out) == {"batches": []}


@pytest.mark.parametrize("command", ["transparency", "export-sor"])
@pytest.mark.parametrize(("dates", "message"), [
    (["--from", "2025-02-30", "--to", "2025-03-01"], "invalid date '2025-02-30'"),
    (["--from", "yesterday", "--to", "2025-03-01"], "invalid date 'yesterday'"),
    (["--from", "2025-03-01", "--to", "2025-02-01"], "--from 2025-03-01 is after --to 2025-02-01"),
])
def test_a_bad_period_is_one_line_and_a_failure(tmp_path, command, dates, message):
    result = tribune(tmp_path, "moderation", command, *dates)
    assert result.returncode != 0
    assert message in one_line(result.stderr)
    assert result.stdout == ""
