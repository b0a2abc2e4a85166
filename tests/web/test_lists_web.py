"""Lists in the server-rendered interface: the lists page, a list's timeline with
its settings and members, deleting with confirmation, the profile's list control,
others' lists answering 404, form errors answering 422, and the timeline page's
query count staying the same whatever its size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tribune.graph.services import follow_create
from tribune.lists.models import List, ListAccount
from tribune.lists.services import list_accounts_add, list_create
from tribune.statuses.services import status_create

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(account) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(account.user)
    return client


def policy_form(title: str, policy: str = "list", exclusive: bool = False) -> dict:
    data = {"list-title": title, "list-replies_policy": policy}
    if exclusive:
        data["list-exclusive"] = "on"
    return data


def test_create_list_then_rename_and_change_its_settings(alice):
    client = client_for(alice)
    page = client.get("/lists")
    assert page.status_code == 200
    assert 'href="/lists"' in page.content.decode()
    created = client.post("/lists", policy_form("Friends", "followed"))
    assert created.status_code == 303
    found = List.objects.get(account=alice)
    assert created["Location"] == f"/lists/{found.pk}"
    assert (found.title, found.replies_policy, found.exclusive) == (
        "Friends",
        "followed",
        False,
    )
    assert "Friends" in client.get("/lists").content.decode()

    saved = client.post(
        f"/lists/{found.pk}", policy_form("Close friends", "none", True)
    )
    assert saved.status_code == 303
    found.refresh_from_db()
    assert (found.title, found.replies_policy, found.exclusive) == (
        "Close friends",
        "none",
        True,
    )
    assert "Close friends" in client.get(f"/lists/{found.pk}").content.decode()


def test_validation_errors_answer_422_and_change_nothing(alice):
    client = client_for(alice)
    blank = client.post("/lists", policy_form("   "))
    assert blank.status_code == 422
    assert "This field is required." in blank.content.decode()
    unknown = client.post("/lists", policy_form("Ok", "everyone"))
    assert unknown.status_code == 422
    assert not List.objects.exists()

    found = list_create(account=alice, title="Reading")
    too_long = client.post(f"/lists/{found.pk}", policy_form("x" * 257))
    assert too_long.status_code == 422
    found.refresh_from_db()
    assert found.title == "Reading"


def test_add_and_remove_members_only_among_followed_accounts(alice, bob, carol):
    follow_create(account=alice, target=bob)
    found = list_create(account=alice, title="Pals")
    client = client_for(alice)
    html = client.get(f"/lists/{found.pk}").content.decode()
    assert "Add @bob" in html and "Add @carol" not in html
    searched = client.get(f"/lists/{found.pk}", {"q": "bo"}).content.decode()
    assert "Add @bob" in searched

    added = client.post(f"/lists/{found.pk}/accounts", {"account_id": bob.pk})
    assert added.status_code == 303
    assert list(
        ListAccount.objects.filter(list=found).values_list("account_id", flat=True)
    ) == [bob.pk]
    html = client.get(f"/lists/{found.pk}").content.decode()
    assert "Remove @bob" in html and "Add @bob" not in html

    refused = client.post(f"/lists/{found.pk}/accounts", {"account_id": carol.pk})
    assert refused.status_code == 422
    assert "Account must be a followed account" in refused.content.decode()
    assert ListAccount.objects.filter(list=found).count() == 1

    removed = client.post(
        f"/lists/{found.pk}/accounts/{bob.pk}/remove", HTTP_HX_REQUEST="true"
    )
    assert removed.status_code == 200 and removed.content == b""
    assert not ListAccount.objects.filter(list=found).exists()


def test_timeline_shows_the_members_posts_only(alice, bob, carol):
    follow_create(account=alice, target=bob)
    follow_create(account=alice, target=carol)
    found = list_create(account=alice, title="Just Bob")
    list_accounts_add(account=alice, list_id=found.pk, members=[bob])
    status_create(account=bob, text="bob writes about kites", visibility="public")
    status_create(account=carol, text="carol writes about boats", visibility="public")
    status_create(account=bob, text="bob whispers to followers", visibility="private")
    html = client_for(alice).get(f"/lists/{found.pk}").content.decode()
    assert "bob writes about kites" in html and "bob whispers to followers" in html
    assert "carol writes about boats" not in html


def test_delete_asks_for_confirmation(alice):
    found = list_create(account=alice, title="Old")
    client = client_for(alice)
    confirm = client.get(f"/lists/{found.pk}/delete")
    assert confirm.status_code == 200 and "Old" in confirm.content.decode()
    assert List.objects.filter(pk=found.pk).exists()
    deleted = client.post(f"/lists/{found.pk}/delete")
    assert deleted.status_code == 303 and deleted["Location"] == "/lists"
    assert not List.objects.filter(pk=found.pk).exists()


def test_someone_elses_list_is_not_found(alice, bob):
    follow_create(account=bob, target=alice)
    found = list_create(account=alice, title="Private")
    client = client_for(bob)
    assert client.get(f"/lists/{found.pk}").status_code == 404
    assert client.post(f"/lists/{found.pk}", policy_form("Mine")).status_code == 404
    assert client.post(f"/lists/{found.pk}/delete").status_code == 404
    assert (
        client.post(f"/lists/{found.pk}/accounts", {"account_id": alice.pk}).status_code
        == 404
    )
    assert client.get("/lists/not-a-number").status_code == 404
    found.refresh_from_db()
    assert found.title == "Private"
    assert not ListAccount.objects.exists()


def test_profile_control_puts_a_followed_account_in_the_lists_ticked(alice, bob, carol):
    follow_create(account=alice, target=bob)
    first = list_create(account=alice, title="First")
    second = list_create(account=alice, title="Second")
    list_accounts_add(account=alice, list_id=second.pk, members=[bob])
    client = client_for(alice)
    html = client.get("/@bob").content.decode()
    assert "Add to list or remove from list" in html
    assert (
        "Add to list or remove from list" not in client.get("/@carol").content.decode()
    )
    saved = client.post(f"/accounts/{bob.pk}/lists", {"lists": [str(first.pk)]})
    assert saved.status_code == 303
    assert list(
        ListAccount.objects.filter(account=bob).values_list("list_id", flat=True)
    ) == [first.pk]


def test_list_timeline_costs_the_same_queries_whatever_its_size(alice, bob, carol):
    follow_create(account=alice, target=bob)
    follow_create(account=alice, target=carol)
    found = list_create(account=alice, title="Both")
    list_accounts_add(account=alice, list_id=found.pk, members=[bob])
    status_create(account=bob, text="one", visibility="public")
    client = client_for(alice)
    client.get(f"/lists/{found.pk}")
    with CaptureQueriesContext(connection) as small:
        client.get(f"/lists/{found.pk}")
    list_accounts_add(account=alice, list_id=found.pk, members=[carol])
    for i in range(4):
        status_create(account=carol, text=f"carol post {i}", visibility="public")
        status_create(account=bob, text=f"bob post {i}", visibility="public")
    with CaptureQueriesContext(connection) as large:
        html = client.get(f"/lists/{found.pk}").content.decode()
    assert html.count("carol post") == 4 and html.count("bob post") == 4
    assert len(large) == len(small)


def test_polling_the_list_answers_only_new_posts(alice, bob):
    follow_create(account=alice, target=bob)
    found = list_create(account=alice, title="Live")
    list_accounts_add(account=alice, list_id=found.pk, members=[bob])
    first = status_create(account=bob, text="first kite", visibility="public")
    status_create(account=bob, text="second kite", visibility="public")
    fragment = client_for(alice).get(
        f"/lists/{found.pk}",
        {"min_id": first.pk, "part": "new"},
        HTTP_HX_REQUEST="true",
    )
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert "second kite" in html and "first kite" not in html
    assert "List settings" not in html
