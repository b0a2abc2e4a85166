"""Actor keys: made lazily, once, usable for RSA-SHA256 signatures."""

from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tribune.federation.keys import actor_key_get_or_create
from tribune.federation.models import ActorKey


def test_sign_up_makes_no_key_and_the_first_need_makes_one(alice):
    assert not ActorKey.objects.filter(account=alice).exists()
    key = actor_key_get_or_create(account=alice)
    again = actor_key_get_or_create(account=alice)
    assert again.pk == key.pk and again.public_key_pem == key.public_key_pem
    assert ActorKey.objects.filter(account=alice).count() == 1


def test_the_key_is_rsa_2048_and_its_halves_match(alice):
    key = actor_key_get_or_create(account=alice)
    private = serialization.load_pem_private_key(key.private_key_pem.encode(), password=None)
    public = serialization.load_pem_public_key(key.public_key_pem.encode())
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    signature = private.sign(b"(request-target): get /users/bob", padding.PKCS1v15(),
                             hashes.SHA256())
    public.verify(signature, b"(request-target): get /users/bob", padding.PKCS1v15(),
                  hashes.SHA256())


def test_each_account_has_its_own_key(alice, bob):
    assert (actor_key_get_or_create(account=alice).public_key_pem
            != actor_key_get_or_create(account=bob).public_key_pem)


def test_remote_accounts_get_no_key_here(db):
    from django.utils import timezone

    from tribune.accounts.models import Account
    from tribune.core.ids import new_id

    remote = Account.objects.create(id=new_id(), username="zed", domain="remote.example",
                                    uri="https://remote.example/users/zed",
                                    created_at=timezone.now())
    with pytest.raises(ValueError):
        actor_key_get_or_create(account=remote)
    assert not ActorKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_make_one_key(make_account):
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database's table locks ignore the busy "
                    "timeout, so two writers at once fail there; PostgreSQL runs this")
    alice = make_account("alice")
    start, pems, errors = threading.Barrier(2), [], []

    def fetch() -> None:
        try:
            start.wait(timeout=30)
            pems.append(actor_key_get_or_create(account=alice).public_key_pem)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(pems) == 2 and pems[0] == pems[1]
    assert ActorKey.objects.get(account=alice).public_key_pem == pems[0]


def test_private_keys_are_not_written_into_backup_rows(alice):
    from tribune.federation.keys import instance_actor_key_get_or_create
    from tribune.portability.backup_tables import table_specs

    actor_key_get_or_create(account=alice)
    instance_actor_key_get_or_create()
    tables = {spec.table for spec in table_specs()}
    assert "federation_actorkey" not in tables
    assert "federation_instanceactorkey" not in tables
    assert "accounts_domainblock" in tables  # the operator's policies are kept
