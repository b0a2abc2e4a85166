"""The profile a Mastodon archive brings in ``actor.json``: display name (``name``),
bio (``summary``, Mastodon's HTML turned back into the text it was written as),
and the avatar (``icon``) and header (``image``) files the archive holds, all
through ``media.account_images.account_profile_update``, so pictures are
processed as an upload is.

An archive fills in what the account has not set yet: a display name, bio,
avatar or header already chosen here is kept, and the row says so (importing
an old archive later must not undo the profile made since). Profile fields
(``attachment`` of ``PropertyValue``) are counted and reported: Tribune's
profiles have no fields yet.

Rows: one for the name and bio when the actor has either (or fields), and one
per picture it names.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import PurePosixPath
from typing import Any

from django.core.files import File
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tribune.accounts.models import Account
from tribune.accounts.services import DISPLAY_NAME_MAX, NOTE_MAX
from tribune.core.errors import ValidationFailed
from tribune.media.account_images import account_profile_update
from tribune.media.processing import max_image_bytes
from tribune.portability.archive_reader import Archive
from tribune.portability.models import RowResult
from tribune.portability.rows import Outcome, Step

PICTURES = (("avatar", "icon"), ("header", "image"))


def _fields(actor: dict) -> int:
    attachment = actor.get("attachment")
    items = attachment if isinstance(attachment, list) else [attachment]
    return sum(1 for item in items
               if isinstance(item, dict) and item.get("type") == "PropertyValue")


def _text_step(account: Account, actor: dict, bio: str) -> Step | None:
    name = actor.get("name")
    name = " ".join(name.split()) if isinstance(name, str) else ""
    fields = _fields(actor)
    if not (name or bio or fields):
        return None

    def apply(_prepared) -> Outcome:
        current = Account.objects.get(pk=account.pk)
        changes: dict[str, str] = {}
        notes: list[str] = []
        if name and name != current.display_name:
            if current.display_name:
                notes.append(_("Your display name here is kept."))
            elif len(name) > DISPLAY_NAME_MAX:
                notes.append(_("The display name is longer than %(limit)d characters and "
                               "was left out.") % {"limit": DISPLAY_NAME_MAX})
            else:
                changes["display_name"] = name
        if bio and bio != current.note:
            if current.note:
                notes.append(_("Your bio here is kept."))
            elif len(bio) > NOTE_MAX:
                notes.append(_("The bio is longer than %(limit)d characters and was left "
                               "out.") % {"limit": NOTE_MAX})
            else:
                changes["note"] = bio
        if fields:
            notes.append(ngettext(
                "%(count)d profile field is not imported: profiles here have no fields yet.",
                "%(count)d profile fields are not imported: profiles here have no fields "
                "yet.", fields) % {"count": fields})
        if not changes:
            return RowResult.SKIPPED, " ".join(notes) or _("Already as in the archive.")
        account_profile_update(account=current, **changes)
        return RowResult.IMPORTED, " ".join(notes)

    return Step(item=_("actor.json: display name and bio"), apply=apply)


def _picture_url(value: Any) -> str | None:
    """The archive path an actor's ``icon`` or ``image`` names (an Image, or a
    list of them: the first), None for none or a web address."""
    if isinstance(value, list):
        value = value[0] if value else None
    url = value.get("url") if isinstance(value, dict) else value
    if isinstance(url, dict):  # a Link
        url = url.get("href")
    if not isinstance(url, str) or not url or "://" in url:
        return None
    return url.lstrip("/")


def _picture_step(account: Account, archive: Archive, kind: str, member: str) -> Step:
    def apply(_prepared) -> Outcome:
        current = Account.objects.get(pk=account.pk)
        if getattr(current, kind):
            return RowResult.SKIPPED, (_("Your avatar here is kept.") if kind == "avatar"
                                       else _("Your header here is kept."))
        handle, path = tempfile.mkstemp(prefix="tribune-import-picture-")
        try:
            with os.fdopen(handle, "w+b") as out:
                archive.copy(member, out, limit=max_image_bytes())
                out.seek(0)
                picture = File(out, name=PurePosixPath(member).name)
                try:
                    account_profile_update(account=current, **{kind: picture})
                except ValidationFailed as exc:
                    raise ValidationFailed(
                        _("The picture %(file)s was refused: %(reason)s")
                        % {"file": picture.name, "reason": exc}) from None
        finally:
            os.unlink(path)
        return RowResult.IMPORTED, ""

    return Step(item=member, apply=apply)


def profile_steps(account: Account, archive: Archive, actor: Any, bio: str) -> list[Step]:
    """The rows of ``actor`` (the parsed ``actor.json``, or anything else for
    none), in order: name and bio, avatar, header. ``bio`` is the actor's
    ``summary`` as text. A picture the actor names but the archive lacks gets a
    skipped row saying so."""
    if not isinstance(actor, dict):
        return []
    steps = []
    if (text := _text_step(account, actor, bio.strip())) is not None:
        steps.append(text)
    for kind, key in PICTURES:
        url = _picture_url(actor.get(key))
        if url is None:
            continue
        member = archive.locate(url)
        if member is None:
            steps.append(Step(item=url, apply=lambda _prepared, k=kind: (
                RowResult.SKIPPED,
                _("The avatar is not in the archive.") if k == "avatar"
                else _("The header is not in the archive."))))
            continue
        steps.append(_picture_step(account, archive, kind, member))
    return steps
