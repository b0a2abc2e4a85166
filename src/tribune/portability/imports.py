"""Imports of a person's own data: Mastodon's CSV files and account archive, and
X/Twitter archives.

``import_create`` checks an upload at once (kind, mode, size, rows, that an
archive is one and of the right kind), keeps the file in storage (``imports/``,
never public) and queues ``import_run`` on the ``portability`` queue. The run
reads the file again and applies it row by row through the domain services
(``follow_create``, ``block_create``, ``mute_create``, ``bookmark_create``,
``list_create`` and ``list_accounts_add``, ``statuses.importing.status_import``,
``media_create``). Each row is applied
together with its ``ImportRow`` result in one transaction, so a row is never half
applied, and a run that was interrupted resumes after its last recorded row. Rows
are ``imported``, ``skipped`` (nothing to do: already there, the same as an
earlier line of the file, or a kind of entry that is not imported) or ``failed``
with the reason, in words the person can act on.

``overwrite`` (CSV kinds only, as in Mastodon) then also removes the follows,
blocks, mutes, bookmarks, lists or list members that the file does not name.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.accounts.selectors import account_lookup, can_act
from tribune.core.errors import (
    DomainError,
    Forbidden,
    NotFound,
    Unavailable,
    ValidationFailed,
)
from tribune.graph.models import Block, Follow, FollowRequest, Mute
from tribune.graph.selectors import is_blocked_either_way
from tribune.graph.services import (
    block_create,
    block_delete,
    follow_create,
    follow_delete,
    mute_create,
    mute_delete,
)
from tribune.lists.models import ListAccount
from tribune.lists.selectors import list_by_title, lists_of, member_ids
from tribune.lists.services import (
    list_accounts_add,
    list_accounts_remove,
    list_create,
    list_delete,
)
from tribune.media.storage import storage_errors
from tribune.portability.archive_reader import Archive
from tribune.portability.csvfiles import Row, read_rows
from tribune.portability.models import (
    Import,
    ImportKind,
    ImportMode,
    ImportRow,
    JobState,
    RowResult,
)
from tribune.portability.rows import Outcome, Plan, Step
from tribune.portability.selectors import status_for_uri
from tribune.statuses.models import Bookmark
from tribune.statuses.services import bookmark_create, bookmark_delete

logger = logging.getLogger(__name__)

CSV_KINDS = (ImportKind.FOLLOWING, ImportKind.BLOCKS, ImportKind.MUTES,
             ImportKind.BOOKMARKS, ImportKind.LISTS)
ARCHIVE_KINDS = (ImportKind.MASTODON_ARCHIVE, ImportKind.X_ARCHIVE)


# --- uploads ---------------------------------------------------------------------


def _limit_for(kind: str) -> int:
    return (settings.TRIBUNE_IMPORT_MAX_CSV_BYTES if kind in CSV_KINDS
            else settings.TRIBUNE_IMPORT_MAX_ARCHIVE_BYTES)


def import_check(*, kind: str, mode: str, upload: File) -> None:
    """Raise ValidationFailed unless ``upload`` may be imported as ``kind`` in
    ``mode``: a known kind and mode (archives are only merged), within the size
    limit, and for a CSV within the row limit, for an archive a readable zip or
    tar.gz of that kind. Forms call it to show the error on the spot."""
    if kind not in ImportKind.values:
        raise ValidationFailed(_("Unknown import type %(kind)s.") % {"kind": kind})
    if mode not in ImportMode.values:
        raise ValidationFailed(_("Unknown import mode %(mode)s.") % {"mode": mode})
    if kind in ARCHIVE_KINDS and mode != ImportMode.MERGE:
        raise ValidationFailed(_("Archives can only be merged into your account."))
    if upload is None or not upload.size:
        raise ValidationFailed(_("The file is empty."))
    limit = _limit_for(kind)
    if upload.size > limit:
        raise ValidationFailed(_("The file is larger than %(limit)s.")
                               % {"limit": filesizeformat(limit)})
    if kind in CSV_KINDS:
        upload.seek(0)
        read_rows(upload.read(limit + 1), kind=kind)
        upload.seek(0)
        return
    with _local_copy(upload) as path, Archive(path) as archive:
        _archive_reader(kind).check(archive)
    upload.seek(0)


def import_create(*, account: Account, kind: str, mode: str, upload: File,
                  filename: str = "", enqueue: bool = True) -> Import:
    """Accept ``upload`` from ``account`` as an import of ``kind`` (ImportKind) in
    ``mode`` (ImportMode) and return the queued Import. With ``enqueue`` (the web
    page) a task runs it after commit; without (the command line) the caller runs
    ``import_run`` itself.

    Raises Forbidden for an account restricted by a moderation decision,
    ValidationFailed for anything ``import_check`` refuses and while another of
    the account's imports is waiting or running, and Unavailable when the storage
    cannot keep the file.
    """
    if not can_act(account):
        raise Forbidden(_("Your account is restricted by a moderation decision: you can "
                          "read, but not post, boost, favourite or follow"))
    import_check(kind=kind, mode=mode, upload=upload)
    if Import.objects.filter(account=account,
                             state__in=[JobState.QUEUED, JobState.RUNNING]).exists():
        raise ValidationFailed(_("Another import is still in progress; wait until it has "
                                 "finished."))
    filename = PurePosixPath(filename or getattr(upload, "name", "") or "").name
    suffix = "".join(PurePosixPath(filename).suffixes[-2:])[:10].lower()
    upload.seek(0)
    try:
        stored = default_storage.save(f"imports/{secrets.token_hex(16)}{suffix}", upload)
    except storage_errors() as exc:
        logger.warning("import storage failed: %s", exc)
        raise Unavailable(_("The media storage cannot be reached just now; try again "
                            "later")) from None
    try:
        with transaction.atomic():
            batch = Import.objects.create(
                account=account, kind=kind, mode=mode, file=stored, filename=filename[:255],
                file_size=upload.size, created_at=timezone.now())
            if enqueue:
                pk = str(batch.pk)
                transaction.on_commit(lambda: _enqueue(pk), robust=False)
    except BaseException:
        default_storage.delete(stored)
        raise
    return batch


def _enqueue(import_id: str) -> None:
    from tribune.portability.tasks import run_import

    run_import.enqueue(import_id=import_id)


@contextmanager
def _local_copy(source) -> Iterator[Path]:
    """A temporary local file with ``source``'s content (archives need seeking)."""
    with tempfile.NamedTemporaryFile(prefix="tribune-import-", suffix=".bin") as handle:
        source.seek(0)
        for chunk in source.chunks(1024 * 1024):
            handle.write(chunk)
        handle.flush()
        yield Path(handle.name)


# --- running ----------------------------------------------------------------------


def import_run(*, import_id: int | str) -> Import | None:
    """Apply a queued import (the task's work; the command line calls it
    directly) and return it finished. Rows already recorded by an interrupted run
    are not applied again. A file that cannot be read any more fails the whole
    import with the reason. Returns None for an unknown id; a finished or failed
    import is returned as it is."""
    batch = Import.objects.filter(pk=import_id).select_related("account").first()
    if batch is None or batch.state in (JobState.FINISHED, JobState.FAILED):
        return batch
    Import.objects.filter(pk=batch.pk).update(state=JobState.RUNNING,
                                              started_at=batch.started_at or timezone.now())
    try:
        with default_storage.open(batch.file.name, "rb") as stored:
            if batch.kind in CSV_KINDS:
                plan = _csv_plan(batch, read_rows(stored.read(), kind=batch.kind))
                _apply(batch, plan)
            else:
                with _local_copy(File(stored)) as path, Archive(path) as archive:
                    plan = _archive_reader(batch.kind).plan(batch, archive)
                    _apply(batch, plan)
    except DomainError as exc:
        return _finish(batch, error=str(exc))
    except FileNotFoundError:
        return _finish(batch, error=_("The uploaded file is no longer available."))
    except Exception:
        logger.exception("import %s stopped", batch.pk)
        return _finish(batch, error=_("An unexpected error stopped the import; the rows "
                                      "listed were done."))
    return _finish(batch)


def _apply(batch: Import, plan: Plan) -> None:
    Import.objects.filter(pk=batch.pk).update(total=plan.total)
    done = set(ImportRow.objects.filter(batch=batch).values_list("number", flat=True))
    for number, step in plan.steps:
        if number not in done:
            _apply_row(batch, number, step)
    if batch.mode == ImportMode.OVERWRITE and plan.remove_others is not None:
        Import.objects.filter(pk=batch.pk).update(removed=plan.remove_others())


def _record(batch: Import, number: int, step: Step, outcome: Outcome) -> None:
    result, reason = outcome
    ImportRow.objects.create(batch=batch, number=number, item=step.item[:500],
                             result=result, reason=str(reason)[:500])


def _apply_row(batch: Import, number: int, step: Step) -> None:
    prepared = None
    try:
        if step.prepare is not None:
            prepared = step.prepare()
        with transaction.atomic():
            outcome = step.apply(prepared)
            _record(batch, number, step, outcome)
        return
    except DomainError as exc:
        outcome = (RowResult.FAILED, str(exc))
    except IntegrityError:
        # A twin run recorded this row, or imported this post, meanwhile.
        outcome = (RowResult.SKIPPED, _("Already imported."))
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        logger.info("import %s row %s unreadable: %r", batch.pk, number, exc)
        outcome = (RowResult.FAILED, _("The entry is not in the expected format."))
    if step.discard is not None and prepared is not None:
        step.discard(prepared)
    try:
        with transaction.atomic():
            _record(batch, number, step, outcome)
    except IntegrityError:
        pass  # recorded by a twin run


def _finish(batch: Import, *, error: str = "") -> Import:
    counts = dict(ImportRow.objects.filter(batch=batch).values_list("result")
                  .annotate(n=Count("id")).values_list("result", "n"))
    Import.objects.filter(pk=batch.pk).update(
        state=JobState.FAILED if error else JobState.FINISHED, error=error[:500],
        imported=counts.get(RowResult.IMPORTED, 0), skipped=counts.get(RowResult.SKIPPED, 0),
        failed=counts.get(RowResult.FAILED, 0), finished_at=timezone.now(), file="")
    if batch.file.name:
        try:
            default_storage.delete(batch.file.name)
        except Exception:  # the results matter more than a leftover file: log it
            logger.exception("import %s: could not delete %s", batch.pk, batch.file.name)
    batch.refresh_from_db()
    return batch


# --- accounts named in CSV files ----------------------------------------------------


def _target(acct: str) -> Account:
    """The account a CSV row names (``user`` or ``user@domain``). Raises NotFound
    with a reason a person can act on."""
    acct = acct.strip().lstrip("@")
    username, _sep, domain = acct.partition("@")
    if not username or "@" in domain or (_sep and not domain):
        raise NotFound(_("This is not an account address."))
    try:
        return account_lookup(acct=acct)
    except NotFound:
        pass
    if domain and domain.lower() != settings.TRIBUNE_DOMAIN.lower():
        raise NotFound(_("%(acct)s is on another server; accounts on other servers "
                         "cannot be reached until this server federates.") % {"acct": acct})
    raise NotFound(_("There is no account %(acct)s on this server.") % {"acct": username})


def _acct_key(acct: str) -> str:
    """An account address as a key: without a leading ``@`` nor this instance's
    domain, in lower case (``@Bob@here`` and ``bob`` are one account)."""
    acct = acct.strip().lstrip("@").lower()
    local = "@" + settings.TRIBUNE_DOMAIN.lower()
    return acct[: -len(local)] if acct.endswith(local) else acct


def _not_yourself(account: Account, target: Account, action: str) -> None:
    if target.pk == account.pk:
        raise ValidationFailed(action)


def _follow_step(account: Account, row: Row) -> Step:
    def apply(_prepared) -> Outcome:
        target = _target(row.account())
        _not_yourself(account, target, _("This is your own account: you cannot follow "
                                         "yourself."))
        if is_blocked_either_way(account.pk, target.pk):
            raise Forbidden(_("You cannot follow %(acct)s: one of you blocks the other.")
                            % {"acct": row.account()})
        show_reblogs, notify = row.flag("Show boosts"), row.flag("Notify on new posts")
        # Mastodon's "Languages" column (which languages of the account to show) is
        # read and left aside on purpose: a follow here has no language filter and
        # shows every post, so the person is told rather than the column dropped.
        languages = row.get("Languages")
        existing = Follow.objects.filter(account=account, target=target).first()
        if existing is not None and (show_reblogs in (None, existing.show_reblogs)
                                     and notify in (None, existing.notify)):
            return RowResult.SKIPPED, _("Already following.")
        if existing is None and FollowRequest.objects.filter(account=account,
                                                             target=target).exists():
            return RowResult.SKIPPED, _("A follow request is already waiting.")
        result = follow_create(account=account, target=target, show_reblogs=show_reblogs,
                               notify=notify)
        notes = []
        if isinstance(result, FollowRequest):
            notes.append(_("Follow request sent: this account approves its followers."))
        if languages:
            notes.append(_("Following here shows posts in every language; the languages "
                           "chosen (%(languages)s) are not kept.") % {"languages": languages})
        return RowResult.IMPORTED, " ".join(notes)

    return Step(item=row.account(), apply=apply)


def _block_step(account: Account, row: Row) -> Step:
    def apply(_prepared) -> Outcome:
        target = _target(row.account())
        _not_yourself(account, target, _("This is your own account: you cannot block "
                                         "yourself."))
        if Block.objects.filter(account=account, target=target).exists():
            return RowResult.SKIPPED, _("Already blocked.")
        block_create(account=account, target=target)
        return RowResult.IMPORTED, ""

    return Step(item=row.account(), apply=apply)


def _mute_step(account: Account, row: Row) -> Step:
    def apply(_prepared) -> Outcome:
        target = _target(row.account())
        _not_yourself(account, target, _("This is your own account: you cannot mute "
                                         "yourself."))
        hide = row.flag("Hide notifications")
        hide = True if hide is None else hide
        existing = Mute.objects.filter(account=account, target=target).first()
        if (existing is not None and existing.expires_at is None
                and existing.hide_notifications == hide):
            return RowResult.SKIPPED, _("Already muted.")
        mute_create(account=account, target=target, notifications=hide)
        return RowResult.IMPORTED, ""

    return Step(item=row.account(), apply=apply)


def _bookmark_step(account: Account, uri: str) -> Step:
    def apply(_prepared) -> Outcome:
        status = status_for_uri(account=account, uri=uri)
        if status is None:
            raise NotFound(_("This post is not on this server (posts on other servers "
                             "cannot be fetched until this server federates)."))
        if Bookmark.objects.filter(account=account,
                                   status_id=status.reblog_of_id or status.pk).exists():
            return RowResult.SKIPPED, _("Already bookmarked.")
        bookmark_create(account=account, status=status)
        return RowResult.IMPORTED, ""

    return Step(item=uri, apply=apply)


def _list_step(account: Account, row: Row) -> Step:
    """A ``lists`` row as Mastodon's BulkImportRowService applies it: the list is
    found by its title, the account is followed unless it already is (or is the
    importer), then added to the list. A list is made only together with its
    first member, in the row's transaction: a row that fails leaves no list
    behind."""
    title = row.get("List name")

    def apply(_prepared) -> Outcome:
        if not title:
            raise ValidationFailed(_("The line has no list name."))
        target = _target(row.account())
        found = list_by_title(account=account, title=title)
        if found is not None and ListAccount.objects.filter(list=found,
                                                            account=target).exists():
            return RowResult.SKIPPED, _("Already in this list.")
        reason = ""
        if target.pk != account.pk and not Follow.objects.filter(account=account,
                                                                 target=target).exists():
            if is_blocked_either_way(account.pk, target.pk):
                raise Forbidden(_("You cannot follow %(acct)s: one of you blocks the "
                                  "other, and a list holds only accounts you follow.")
                                % {"acct": row.account()})
            if FollowRequest.objects.filter(account=account, target=target).exists():
                return RowResult.FAILED, _("A follow request is still waiting: a list holds "
                                           "only accounts you follow. Import the file again "
                                           "once it is accepted.")
            if isinstance(follow_create(account=account, target=target), FollowRequest):
                return RowResult.FAILED, _("Follow request sent: this account approves its "
                                           "followers, and a list holds only accounts you "
                                           "follow. Import the file again once it is "
                                           "accepted.")
            reason = _("Followed, then added to the list.")
        if found is None:
            found = list_create(account=account, title=title)
        list_accounts_add(account=account, list_id=found.pk, members=[target])
        return RowResult.IMPORTED, reason

    return Step(item=f"{title}: {row.account()}", apply=apply)


def bookmark_steps(account: Account, uris: list[str], *, first: int = 1
                   ) -> Iterator[tuple[int, Step]]:
    """Bookmark rows for ``uris`` numbered from ``first`` (archives reuse them)."""
    for offset, uri in enumerate(uris):
        yield first + offset, _bookmark_step(account, uri)


def _remove_others(batch: Import, rows: list[Row]) -> Callable[[], int]:
    """Overwrite: what to remove, found again from the file's rows (an interrupted
    run resumes without remembering what it found)."""
    account, kind = batch.account, batch.kind

    def named_accounts() -> set[int]:
        found = set()
        for row in rows:
            try:
                found.add(_target(row.account()).pk)
            except NotFound:
                continue
        return found

    def remove() -> int:
        removed = 0
        if kind == ImportKind.FOLLOWING:
            keep = named_accounts()
            targets = {*Follow.objects.filter(account=account).values_list("target_id", flat=True),
                       *FollowRequest.objects.filter(account=account)
                       .values_list("target_id", flat=True)}
            for target in Account.objects.filter(pk__in=targets - keep):
                follow_delete(account=account, target=target)
                removed += 1
        elif kind in (ImportKind.BLOCKS, ImportKind.MUTES):
            keep = named_accounts()
            model, delete = ((Block, block_delete) if kind == ImportKind.BLOCKS
                             else (Mute, mute_delete))
            targets = set(model.objects.filter(account=account)
                          .values_list("target_id", flat=True))
            for target in Account.objects.filter(pk__in=targets - keep):
                delete(account=account, target=target)
                removed += 1
        elif kind == ImportKind.LISTS:
            removed = _lists_overwrite(account, rows)
        elif kind == ImportKind.BOOKMARKS:
            keep = set()
            for row in rows:
                status = status_for_uri(account=account, uri=row.get("#uri"))
                if status is not None:
                    keep.add(status.reblog_of_id or status.pk)
            for bookmark in Bookmark.objects.filter(account=account).exclude(
                    status_id__in=keep).select_related("status"):
                bookmark_delete(account=account, status=bookmark.status)
                removed += 1
        return removed

    return remove


def _lists_overwrite(account: Account, rows: list[Row]) -> int:
    """Overwrite for lists, after the rows: what Mastodon's import_lists! leaves
    (it deletes the lists the file does not name and empties the others before
    adding the rows), reached without emptying anything first, so an interrupted
    run resumes. Lists the file does not name are deleted; from the others, members
    the file does not put there are removed (a second list of the same title,
    which imports never fill, is emptied). Returns lists and members removed."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        members = wanted.setdefault(row.get("List name"), set())
        try:
            members.add(_target(row.account()).pk)
        except NotFound:
            continue
    removed, seen = 0, set()
    for found in lists_of(account=account):
        if found.title not in wanted:
            list_delete(account=account, list_id=found.pk)
            removed += 1
            continue
        keep = wanted[found.title] if found.title not in seen else set()
        seen.add(found.title)
        stale = member_ids(list_=found) - keep
        if stale:
            removed += list_accounts_remove(account=account, list_id=found.pk,
                                            members=Account.objects.filter(pk__in=stale))
    return removed


def _row_key(kind: str, row: Row) -> tuple[str, ...]:
    """What a line means, for finding lines that repeat an earlier one: its
    columns, account addresses as ``_acct_key`` has them and flags as read."""
    if kind == ImportKind.BOOKMARKS:
        return (row.get("#uri"),)
    if kind == ImportKind.LISTS:
        return (row.get("List name"), _acct_key(row.account()))
    flags = {ImportKind.FOLLOWING: ("Show boosts", "Notify on new posts"),
             ImportKind.MUTES: ("Hide notifications",)}.get(kind, ())
    return (_acct_key(row.account()), *(str(row.flag(name)) for name in flags))


def csv_steps(account: Account, kind: str, rows: list[Row]) -> list[tuple[int, Step]]:
    """The steps of the data lines ``rows`` of a CSV file of ``kind``, numbered by
    their lines. A line that means the same as an earlier one (``bob`` after
    ``@bob@this.domain``) is skipped, saying which line it repeats, rather than
    applied twice or failed twice."""
    builders: dict[str, Callable[[Row], Step]] = {
        ImportKind.FOLLOWING: lambda row: _follow_step(account, row),
        ImportKind.BLOCKS: lambda row: _block_step(account, row),
        ImportKind.MUTES: lambda row: _mute_step(account, row),
        ImportKind.BOOKMARKS: lambda row: _bookmark_step(account, row.get("#uri")),
        ImportKind.LISTS: lambda row: _list_step(account, row),
    }
    build = builders[kind]
    seen: dict[tuple[str, ...], int] = {}
    steps = []
    for row in rows:
        step = build(row)
        first = seen.setdefault(_row_key(kind, row), row.number)
        if first != row.number:
            reason = _("The same as line %(line)d.") % {"line": first}
            step = Step(item=step.item, apply=lambda _prepared, r=reason: (RowResult.SKIPPED, r))
        steps.append((row.number, step))
    return steps


def _csv_plan(batch: Import, rows: list[Row]) -> Plan:
    return Plan(total=len(rows), steps=csv_steps(batch.account, batch.kind, rows),
                remove_others=_remove_others(batch, rows))


def _archive_reader(kind: str):
    """The module that reads archives of ``kind``: ``check(archive)`` and
    ``plan(batch, archive)``."""
    if kind == ImportKind.MASTODON_ARCHIVE:
        from tribune.portability import mastodon_archive

        return mastodon_archive
    from tribune.portability import x_archive

    return x_archive
