"""Run as a script inside an instance's environment (``TRIBUNE_DATA_DIR``, maybe
``TRIBUNE_DATABASE_URL``):

    python backup_instance.py seed   # migrate, then invented content through the services
    python backup_instance.py dump   # every row of every table and every media file, as JSON

The dump reads rows through the ORM (so SQLite's and PostgreSQL's own forms compare
equal) in primary-key order, with datetimes in UTC and JSON values with sorted keys,
and the media files by name with their SHA-256; tables a backup leaves out
(``SKIPPED``) are reported apart, by row count.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import os
import sys
import uuid
from pathlib import Path


def _png(colour) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


def seed() -> None:
    from django.contrib.auth.hashers import make_password
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from tribune.accounts.services import account_create
    from tribune.graph.services import block_create, follow_create, mute_create
    from tribune.lists.services import list_accounts_add, list_create
    from tribune.media.account_images import account_profile_update
    from tribune.media.services import media_create
    from tribune.moderation.services import report_create
    from tribune.oauth.services import cli_application_get_or_create, token_create
    from tribune.statuses.services import (
        bookmark_create,
        favourite_create,
        pin_create,
        reblog_create,
        status_create,
        status_update,
    )
    from tribune.timelines.services import account_seen, markers_set

    hashed = make_password("a-long-test-passphrase")
    alice, bob, carol, dave = (
        account_create(username=name, email=f"{name}@example.test", hashed_password=hashed,
                       admin=name == "alice", locked=name == "carol",
                       display_name=f"{name.title()} Ünïcode ☕")
        for name in ("alice", "bob", "carol", "dave"))
    account_profile_update(account=alice, avatar=SimpleUploadedFile(
        "me.png", _png((200, 30, 30)), content_type="image/png"), note="Line one\nline two")
    follow_create(account=bob, target=alice)
    follow_create(account=carol, target=alice)
    follow_create(account=alice, target=bob)
    follow_create(account=dave, target=carol)  # carol is locked: a follow request
    media = media_create(account=alice, upload=SimpleUploadedFile(
        "photo.png", _png((10, 120, 200)), content_type="image/png"),
        description="A blue square « with quotes »", focus="0.5,-0.25", process_now=True)
    first = status_create(account=alice, text="Hello #tribune and @bob — café ☕\u2028next",
                          media_ids=[media.id])
    status_update(account=alice, status=first, text="Hello #tribune and @bob, edited")
    reply = status_create(account=bob, text="@alice welcome!", in_reply_to_id=first.id)
    for n in range(12):
        status_create(account=alice, text=f"Post {n} #numbers", spoiler_text="cw" if n % 3 else "")
    status_create(account=carol, text="Followers only", visibility="private")
    reblog_create(account=carol, status=first)
    favourite_create(account=bob, status=first)
    favourite_create(account=carol, status=reply)
    bookmark_create(account=bob, status=first)
    pin_create(account=alice, status=first)
    block_create(account=dave, target=bob)
    mute_create(account=alice, target=dave, notifications=False, duration=3600)
    report_create(reporter=bob, target=dave, comment="Spam, \"quoted\"\nand new lines")
    token_create(user=alice.user, application=cli_application_get_or_create(),
                 scopes=["read", "write"])
    markers_set(account=alice, positions={"home": str(first.id)})
    friends = list_create(account=alice, title="Friends « ☕ »", replies_policy="followed")
    list_accounts_add(account=alice, list_id=friends.id, members=[bob, alice])
    account_seen(account=alice)
    # A direct message (conversations) and a scheduled post holding an upload, which
    # refers to the scheduled post's row.
    from datetime import timedelta

    from django.utils import timezone

    from tribune.conversations.services import conversation_add_status
    from tribune.scheduling.services import scheduled_status_create

    secret = status_create(account=bob, text="@alice between us « ☕ »", visibility="direct")
    conversation_add_status(status_id=secret.pk)  # its effect, queued but not run here
    later = media_create(account=alice, upload=SimpleUploadedFile(
        "later.png", _png((30, 200, 30)), content_type="image/png"), process_now=True)
    scheduled_status_create(account=alice, text="Later « ☕ »", visibility="unlisted",
                            scheduled_at=timezone.now() + timedelta(days=3),
                            media_ids=[later.id])


def _value(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def dump() -> dict:
    from django.apps import apps
    from django.conf import settings

    from tribune.portability.backup_tables import SKIPPED

    tables, skipped = {}, {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        if meta.db_table in SKIPPED:
            skipped[meta.db_table] = model.objects.count()
            continue
        names = [f.attname for f in meta.local_concrete_fields]
        tables[meta.db_table] = [[_value(v) for v in row] for row in
                                 model.objects.order_by("pk").values_list(*names)]
    root = Path(settings.MEDIA_ROOT)
    files = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(root.rglob("*")) if p.is_file()} if root.exists() else {}
    return {"tables": tables, "skipped": skipped, "files": files}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribune.settings")
    import django

    django.setup()
    if sys.argv[1] == "seed":
        seed()
    else:
        json.dump(dump(), sys.stdout)
