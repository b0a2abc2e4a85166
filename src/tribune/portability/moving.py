"""Moving an account to another server: the signed statement in the archive.

Mastodon moves an account with a ``Move`` activity that the old server sends and
the new one checks against its ``alsoKnownAs`` (docs: user/moving.md, spec/
activitypub.md "Move"); followers then follow the new account. Beside it, a move between two Tribune
instances can go through the account's archive:

1. on the old instance, the person marks the account as moved to the new one's
   ActivityPub id (``accounts.services.account_moved_to_set``): the old profile
   shows where it went, the API's Account carries ``moved``;
2. the old instance's archive (``exports``) then holds ``move.json``, a statement
   ``{account, moved_to}`` signed with the old instance's secret key (Django's
   signing, salted for this use, with its time). The weekly limit on archives
   (Mastodon's, against the cost of making them, not a cooldown between moves)
   lets through one archive with the statement after a move, even when an
   archive was made days before (``move_archive_due``): the person asking is the
   account's owner, signed in on its own server;
3. importing that archive on the new instance (``imports``) asks the old
   instance, at ``/move-statements/verify`` on the host of the old account's id,
   whether the statement is its own and still true; if so the old id becomes an
   alias of the new account, proof that both accounts are the same person's.

Federation adds the ``Move`` activity out and in, followers re-following the
new account, and ``alsoKnownAs`` checked by fetching the actor
(``federation.moves``, docs/adr/0030); the statement still brings an archive's
move across.
"""

from __future__ import annotations

import json
import logging
import zipfile
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from django.core import signing
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_by_uri, account_uri
from tribune.accounts.services import account_aliases_set
from tribune.core.errors import ValidationFailed
from tribune.core.urls import absolute
from tribune.portability.models import Export, JobState

logger = logging.getLogger(__name__)

SALT = "tribune.portability.move"
VERIFY_PATH = "/move-statements/verify"
# A statement answers "did this account move there?" at the time of export; a year
# later the answer may have changed, and the old instance is asked anyway.
MAX_AGE = 365 * 24 * 3600


def move_statement(account: Account) -> dict[str, Any] | None:
    """The signed statement that ``account`` moved to ``account.moved_to_uri``, as
    ``move.json`` holds it, or None when it has not moved. ``statement`` is the
    signed value; ``verify`` the address that checks it."""
    if not account.moved_to_uri:
        return None
    payload = {"account": account_uri(account), "moved_to": account.moved_to_uri}
    token = signing.dumps(payload, salt=SALT, compress=True)
    return {**payload, "issued_at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "statement": token, "verify": absolute(f"{VERIFY_PATH}?statement={quote(token)}")}


def _carries_statement(export: Export) -> bool:
    """Whether ``export``'s stored archive holds ``move.json`` (False when its file
    is gone or cannot be read)."""
    if not export.file:
        return False
    try:
        with default_storage.open(export.file.name, "rb") as stored, \
                zipfile.ZipFile(stored) as archive:
            return "move.json" in archive.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        logger.warning("moving: export %s unreadable: %r", export.pk, exc)
        return False


def move_archive_due(*, account: Account, since: datetime) -> bool:
    """Whether ``account`` may have a new archive although one was asked for after
    ``since`` (the weekly limit): it has moved, and none of its archives asked for
    since then carries a move statement or will (one still waiting or being made
    reads the move when it is made). At most one such archive a week, whatever
    the moves: changing where one moved does not buy more."""
    if not account.moved_to_uri:
        return False
    recent = Export.objects.filter(account=account, created_at__gt=since).exclude(
        state=JobState.FAILED)
    for export in recent:
        if export.state in (JobState.QUEUED, JobState.RUNNING) or _carries_statement(export):
            return False
    return True


def move_statement_check(*, statement: str) -> dict[str, Any]:
    """What this instance says of ``statement``: ``valid`` is true only when this
    instance signed it (within ``MAX_AGE``) and the account still points where it
    said; ``account`` and ``moved_to`` are the statement's ids (None when it is not
    one of ours)."""
    try:
        payload = signing.loads(statement, salt=SALT, max_age=MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return {"valid": False, "account": None, "moved_to": None}
    if not isinstance(payload, dict):
        return {"valid": False, "account": None, "moved_to": None}
    old, new = str(payload.get("account", "")), str(payload.get("moved_to", ""))
    account = account_by_uri(old)
    current = account is not None and bool(new) and account.moved_to_uri == new
    return {"valid": current, "account": old, "moved_to": new}


def _verify_url(old_uri: str, token: str) -> str:
    parts = urlsplit(old_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationFailed(_("The move statement names an account address that is "
                                 "not a web address."))
    # Asked on the old account's own host, never at an address the file names.
    return f"{parts.scheme}://{parts.netloc}{VERIFY_PATH}?statement={quote(token)}"


def _ask_old_instance(url: str) -> dict[str, Any]:
    from tribune.core.http import FetchError, fetch

    try:
        answer = fetch(url, headers={"Accept": "application/json"}, max_bytes=10_000)
        data = json.loads(answer.content) if answer.status == 200 else {}
    except (FetchError, ValueError, RecursionError):
        raise ValidationFailed(_("The old server could not be asked to confirm the move "
                                 "statement.")) from None
    return data if isinstance(data, dict) else {}


def move_statement_accept(*, account: Account, document: Any) -> str:
    """Make the old account of a verified move statement (``move.json`` of an
    archive) an alias of ``account``; returns the old account's id.

    The statement must say the old account moved to ``account`` and be confirmed
    by the instance that signed it: this one when the old account is here, else
    the old account's host, asked through the SSRF-safe client (``core.http``).
    Raises ValidationFailed when it is malformed, about another account, or not
    confirmed.
    """
    if not isinstance(document, dict) or not all(
            isinstance(document.get(k), str) for k in ("account", "moved_to", "statement")):
        raise ValidationFailed(_("The move statement is not readable."))
    old, new, token = document["account"], document["moved_to"], document["statement"]
    if new != account_uri(account):
        raise ValidationFailed(_("The move statement is about a move to %(uri)s, not to "
                                 "this account.") % {"uri": new[:200]})
    if old.startswith(absolute("/")):
        answer = move_statement_check(statement=token)
    else:
        answer = _ask_old_instance(_verify_url(old, token))
    if not (answer.get("valid") is True and answer.get("account") == old
            and answer.get("moved_to") == new):
        raise ValidationFailed(_("The old server did not confirm the move statement."))
    if old not in account.also_known_as:
        account_aliases_set(account=account, aliases=[*account.also_known_as, old])
    return old
