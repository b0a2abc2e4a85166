"""Mastodon's admin reports (/api/v1/admin/reports) over cases and decisions.

The reference schema documents the Admin::Report entity but not these paths, so
the client here validates every response against the entity itself (and errors
against Error) as it arrives, as tests.conftest.Api does for documented paths."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator

from tests import mastodon_schema
from tests.conftest import Api
from tribune.api.presenters import iso
from tribune.moderation.decisions import Reasons, decision_create
from tribune.moderation.models import Case, Decision, LogEntry, Report
from tribune.moderation.services import report_create, rule_create
from tribune.oauth.services import application_create, token_create
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db

ADMIN_SCOPES = "read write admin:read:reports admin:write:reports"


def _validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator({**mastodon_schema.spec(), **schema})


class AdminApi(Api):
    """Checks each /api/v1/admin/reports response against Admin::Report (a list of
    them for the index) or Error."""

    def _checked(self, method, path, response):
        if mastodon_schema.spec() is None:
            return response  # tests/test_reference_schema.py reports its absence
        body = response.json()
        ref = {"$ref": "#/components/schemas/AdminReport"}
        if response.status_code != 200:
            schema = {"$ref": "#/components/schemas/Error"}
        elif path.split("?")[0].rstrip("/") == "/api/v1/admin/reports":
            schema = {"type": "array", "items": ref}
        else:
            schema = ref
        error = next(iter(_validator(schema).iter_errors(body)), None)
        assert error is None, f"{method} {path}: {error.message} at {list(error.absolute_path)}"
        return response


@pytest.fixture
def admin_as(db):
    """``admin_as(account, scopes=...)``: an AdminApi with a token of an app that may
    ask for the admin scopes."""
    application, _secret = application_create(
        name="Admin client", redirect_uris="urn:ietf:wg:oauth:2.0:oob",
        scopes=f"{ADMIN_SCOPES} admin:read admin:write")

    def make(account, scopes: str = ADMIN_SCOPES) -> AdminApi:
        return AdminApi(token_create(user=account.user, application=application,
                                     scopes=scopes.split()))

    return make


@pytest.fixture
def filed(alice, bob, carol):
    """Three reports: bob and carol on one post of alice's (one case), carol on
    bob's account."""
    rule = rule_create(text="No harassment", severity_tier=2)
    status = status_create(account=alice, text="a rude post")
    by_bob = report_create(reporter=bob, target=alice, status_ids=[status.pk],
                           rule_ids=[rule.pk], comment="targeted", forward=False)
    by_carol = report_create(reporter=carol, target=alice, status_ids=[status.pk],
                             category="spam", comment="again")
    on_bob = report_create(reporter=carol, target=bob, category="other", comment="odd")
    return {"rule": rule, "status": status, "by_bob": by_bob, "by_carol": by_carol,
            "on_bob": on_bob}


def expected(report: Report) -> dict:
    return {"id": str(report.pk), "category": report.category, "comment": report.comment,
            "forwarded": report.forward, "created_at": iso(report.created_at),
            "account": str(report.reporter_id), "target_account": str(report.target_account_id),
            "statuses": sorted(str(s) for s in report.statuses.values_list("pk", flat=True)),
            "rules": sorted(str(r) for r in report.rules.values_list("pk", flat=True)),
            "action_taken": False, "action_taken_at": None, "assigned_account": None}


def shown(body: dict) -> dict:
    return {"id": body["id"], "category": body["category"], "comment": body["comment"],
            "forwarded": body["forwarded"], "created_at": body["created_at"],
            "account": body["account"]["id"], "target_account": body["target_account"]["id"],
            "statuses": sorted(s["id"] for s in body["statuses"]),
            "rules": sorted(r["id"] for r in body["rules"]),
            "action_taken": body["action_taken"], "action_taken_at": body["action_taken_at"],
            "assigned_account": body["assigned_account"]}


def test_list_and_show_are_the_reports_filed(filed, moderator, admin_as, alice, bob, carol):
    api = admin_as(moderator)
    reports = [filed["on_bob"], filed["by_carol"], filed["by_bob"]]  # newest first
    response = api.get("/api/v1/admin/reports")
    assert response.status_code == 200, response.content
    assert [shown(b) for b in response.json()] == [expected(r) for r in reports]
    first = response.json()[2]
    assert first["account"]["account"]["acct"] == "bob"
    assert first["account"]["email"] == "bob@example.test"
    assert first["statuses"][0]["content"] == filed["status"].content
    assert first["rules"] == [{"id": str(filed["rule"].pk), "text": "No harassment", "hint": ""}]

    for params, wanted in [
        ({"account_id": str(carol.pk)}, [filed["on_bob"], filed["by_carol"]]),
        ({"target_account_id": str(alice.pk)}, [filed["by_carol"], filed["by_bob"]]),
        ({"account_id": str(bob.pk), "target_account_id": str(alice.pk)}, [filed["by_bob"]]),
        ({"resolved": "true"}, []),
    ]:
        ids = [b["id"] for b in api.get("/api/v1/admin/reports", params).json()]
        assert ids == [str(r.pk) for r in wanted], params

    one = api.get(f"/api/v1/admin/reports/{filed['by_bob'].pk}")
    assert one.status_code == 200
    assert shown(one.json()) == expected(filed["by_bob"])
    assert api.get("/api/v1/admin/reports/123456").status_code == 404


def test_the_list_pages_with_link_headers(filed, moderator, admin_as):
    api = admin_as(moderator)
    seen, path, params = [], "/api/v1/admin/reports", {"limit": "2"}
    while True:
        response = api.get(path, params)
        if not response.json():
            break
        seen += [b["id"] for b in response.json()]
        assert 'rel="next"' in response["Link"]
        next_url = response["Link"].split(">")[0].lstrip("<")
        path, params = urlsplit(next_url).path + "?" + urlsplit(next_url).query, None
    assert seen == [str(r.pk) for r in (filed["on_bob"], filed["by_carol"], filed["by_bob"])]


def test_staff_only(filed, bob, admin_as):
    api = admin_as(bob)  # the admin scopes, but not staff
    for response in (api.get("/api/v1/admin/reports"),
                     api.get(f"/api/v1/admin/reports/{filed['on_bob'].pk}"),
                     api.post(f"/api/v1/admin/reports/{filed['by_bob'].pk}/resolve",
                              json={"text": "Not a breach."})):
        assert response.status_code == 403
        assert response.json() == {"error": "This action is not allowed"}
    assert not Decision.objects.exists()


def test_the_admin_scopes_are_required(filed, moderator, admin_as):
    api = admin_as(moderator, scopes="read write")
    assert api.get("/api/v1/admin/reports").status_code == 403
    reader = admin_as(moderator, scopes="admin:read:reports")
    assert reader.get("/api/v1/admin/reports").status_code == 200
    response = reader.post(f"/api/v1/admin/reports/{filed['by_bob'].pk}/resolve",
                           json={"text": "Not a breach."})
    assert response.status_code == 403
    assert response.json()["error"] == "This action is outside the authorized scopes"
    assert not Decision.objects.exists()
    # admin:read grants admin:read:reports, as read grants read:statuses.
    assert admin_as(moderator, scopes="admin:read").get("/api/v1/admin/reports").status_code == 200


def test_resolve_without_reasons_is_refused_and_writes_nothing(filed, moderator, admin_as):
    api = admin_as(moderator)
    log_before = LogEntry.objects.count()
    for body in ({}, {"text": "   "}):
        response = api.post(f"/api/v1/admin/reports/{filed['by_bob'].pk}/resolve", json=body)
        assert response.status_code == 422
        assert response.json()["error"].startswith("Validation failed: Reasons are required")
    assert not Decision.objects.exists()
    assert LogEntry.objects.count() == log_before
    assert Case.objects.get(pk=filed["by_bob"].case_id).state == "open"


def test_resolve_with_reasons_decides_the_case_to_take_no_action(filed, moderator, admin_as):
    api = admin_as(moderator)
    facts = "The post quotes a film line; nobody is addressed."
    response = api.post(f"/api/v1/admin/reports/{filed['by_bob'].pk}/resolve",
                        data={"reason": facts})  # a form, and the `reason` spelling
    assert response.status_code == 200, response.content
    decision = Decision.objects.get()
    case = Case.objects.get(pk=filed["by_bob"].case_id)
    assert (decision.case_id, decision.restriction, decision.decided_by_id,
            decision.decision_facts) == (case.pk, "none", moderator.pk, facts)
    assert case.state == "decided" and case.closed_at == decision.created_at
    body = response.json()
    assert body["action_taken"] is True
    assert body["action_taken_at"] == iso(decision.created_at)
    assert body["action_taken_by_account"]["id"] == str(moderator.pk)
    filed["status"].refresh_from_db()
    assert filed["status"].removed_at is None and not filed["status"].moderation_label

    # Every report in the case is resolved with it; the other case is untouched.
    unresolved = [b["id"] for b in api.get("/api/v1/admin/reports").json()]
    resolved = [b["id"] for b in api.get("/api/v1/admin/reports", {"resolved": "true"}).json()]
    assert unresolved == [str(filed["on_bob"].pk)]
    assert resolved == [str(filed["by_carol"].pk), str(filed["by_bob"].pk)]
    # A decided case is not decided again, nor reopened.
    again = api.post(f"/api/v1/admin/reports/{filed['by_carol'].pk}/resolve",
                     json={"text": "Again."})
    assert again.status_code == 422 and Decision.objects.count() == 1
    reopen = api.post(f"/api/v1/admin/reports/{filed['by_bob'].pk}/reopen")
    assert reopen.status_code == 422
    assert Case.objects.get(pk=case.pk).state == "decided"


def test_a_decision_made_elsewhere_shows_as_resolved(filed, moderator, admin_as):
    decision_create(case_id=filed["on_bob"].case_id, moderator=moderator,
                    restriction="none", reasons=Reasons(facts="Nothing wrong."))
    body = admin_as(moderator).get(f"/api/v1/admin/reports/{filed['on_bob'].pk}").json()
    assert body["action_taken"] is True
    assert body["action_taken_by_account"]["username"] == "mod"


def test_reopen_and_assignment(filed, moderator, admin_as):
    api = admin_as(moderator)
    path = f"/api/v1/admin/reports/{filed['on_bob'].pk}"
    before = api.get(path).json()
    assert api.post(f"{path}/reopen").json() == before  # undecided: already open
    assigned = api.post(f"{path}/assign_to_self")
    assert assigned.status_code == 422
    assert "not assigned" in assigned.json()["error"]
    unassigned = api.post(f"{path}/unassign")
    assert unassigned.status_code == 200
    assert unassigned.json() == before and before["assigned_account"] is None
    log_before = LogEntry.objects.count()
    api.post(f"{path}/assign_to_self")
    assert LogEntry.objects.count() == log_before


def test_a_moderator_cannot_resolve_a_case_about_themselves(moderator, alice, admin_as):
    report = report_create(reporter=alice, target=moderator, category="spam")
    response = admin_as(moderator).post(f"/api/v1/admin/reports/{report.pk}/resolve",
                                        json={"text": "Fine."})
    assert response.status_code == 403
    assert not Decision.objects.exists()
