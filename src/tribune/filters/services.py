"""Writes to filters, with Mastodon's rules (app/models/custom_filter.rb,
custom_filter_keyword.rb, custom_filter_status.rb and Api::V2::FiltersController):
a title and at least one known context, an action of ``warn``, ``hide`` or
``blur``, an optional end ``expires_in`` seconds from now, and keywords given
nested (``keywords_attributes``, Rails' ``accepts_nested_attributes_for``: an
``id`` changes or, with ``_destroy``, removes that keyword; no ``id`` adds one).

Every service takes the owner and answers NotFound for a filter, keyword or
filtered status that is not the owner's. Each write publishes ``FiltersChanged``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import NotFound, ValidationFailed
from tribune.core.events import FiltersChanged, publish
from tribune.core.ids import parse_id
from tribune.filters.models import (
    FILTERS_PER_ACCOUNT,
    KEYWORD_MAX_LENGTH,
    KEYWORDS_PER_FILTER,
    STATUSES_PER_FILTER,
    TITLE_MAX_LENGTH,
    Filter,
    FilterAction,
    FilterContext,
    FilterKeyword,
    FilterStatus,
)
from tribune.statuses.selectors import status_get_visible

UNSET: Any = object()
MAX_EXPIRES_IN = 10 * 365 * 24 * 3600  # seconds; keeps the end a valid datetime


def _pk(value: Any) -> int:
    try:
        return parse_id(value)
    except (ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None


def _clean_title(title: str | None) -> str:
    if title is None or not title.strip():
        raise ValidationFailed(_("Validation failed: Title can't be blank"))
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationFailed(
            _("Validation failed: Title is too long (maximum is %(count)d characters)")
            % {"count": TITLE_MAX_LENGTH}
        )
    return title.strip()


def _clean_context(context: Iterable[str] | str | None) -> list[str]:
    values = [context] if isinstance(context, str) else list(context or [])
    if not values:
        raise ValidationFailed(_("Validation failed: Context can't be blank"))
    if any(value not in FilterContext.values for value in values):
        raise ValidationFailed(_("Validation failed: Context contains invalid values"))
    return [value for value in FilterContext.values if value in values]


def _clean_action(filter_action: str | None) -> str:
    if filter_action not in FilterAction.values:
        raise ValidationFailed(
            _("Validation failed: Filter action is not included in the list")
        )
    return filter_action


def _expires_at(expires_in: int | str | None):
    """The end ``expires_in`` seconds from now; None (never) for None or ""."""
    if expires_in is None or expires_in == "":
        return None
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("Validation failed: Expires in is not a number")
        ) from None
    if not 0 < seconds <= MAX_EXPIRES_IN:
        raise ValidationFailed(_("Validation failed: Expires in is out of range"))
    return timezone.now() + timedelta(seconds=seconds)


def _clean_keyword(keyword: str | None) -> str:
    if keyword is None or not keyword.strip():
        raise ValidationFailed(_("Validation failed: Keyword can't be blank"))
    if len(keyword) > KEYWORD_MAX_LENGTH:
        raise ValidationFailed(
            _(
                "Validation failed: Keyword is too long (maximum is %(count)d characters)"
            )
            % {"count": KEYWORD_MAX_LENGTH}
        )
    return keyword.strip()


def _owned_for_update(account: Account, filter_id: int | str) -> Filter:
    found = (
        Filter.objects.select_for_update()
        .filter(pk=_pk(filter_id), account=account)
        .first()
    )
    if found is None:
        raise NotFound(_("Record not found"))
    return found


def _check_keyword_count(found: Filter) -> None:
    if FilterKeyword.objects.filter(filter=found).count() > KEYWORDS_PER_FILTER:
        raise ValidationFailed(
            _("Validation failed: A filter holds at most %(count)d keywords")
            % {"count": KEYWORDS_PER_FILTER}
        )


def _apply_keywords(
    found: Filter, attributes: Iterable[Mapping[str, Any]], *, creating: bool
) -> None:
    """Rails' nested attributes on ``found``'s keywords. On creation an ``id``
    is NotFound (no keyword belongs to a new filter) and ``_destroy`` entries are
    skipped."""
    for entry in attributes:
        destroy = bool(entry.get("_destroy"))
        keyword_id = entry.get("id")
        if keyword_id not in (None, ""):
            if creating:
                raise NotFound(_("Record not found"))
            row = FilterKeyword.objects.filter(pk=_pk(keyword_id), filter=found).first()
            if row is None:
                raise NotFound(_("Record not found"))
            if destroy:
                row.delete()
                continue
            if entry.get("keyword") is not None:
                row.keyword = _clean_keyword(entry["keyword"])
            if entry.get("whole_word") is not None:
                row.whole_word = bool(entry["whole_word"])
            row.save()
        elif not destroy:
            FilterKeyword.objects.create(
                filter=found,
                keyword=_clean_keyword(entry.get("keyword")),
                # Absent or None: true, Mastodon's column default.
                whole_word=entry.get("whole_word") is None or bool(entry["whole_word"]),
            )
    _check_keyword_count(found)


@transaction.atomic
def filter_create(
    *,
    account: Account,
    title: str | None,
    context: Iterable[str] | str | None,
    filter_action: str | None = None,
    expires_in: int | str | None = None,
    keywords_attributes: Iterable[Mapping[str, Any]] = (),
) -> Filter:
    """Create a filter for ``account`` and return it. ``filter_action`` defaults
    to ``warn``; ``expires_in`` is in seconds (None: never); each of
    ``keywords_attributes`` is ``{"keyword": str, "whole_word": bool}``
    (``whole_word`` defaults to true, as Mastodon's column).

    Raises ValidationFailed for a blank or over-long title, no context or an
    unknown one, an unknown action, a bad ``expires_in``, a blank keyword, and
    past 100 filters per account or 200 keywords per filter; NotFound for a
    keyword ``id``. All or nothing.
    """
    title = _clean_title(title)
    context = _clean_context(context)
    action = _clean_action(filter_action or FilterAction.WARN)
    expires_at = _expires_at(expires_in)
    Account.objects.select_for_update().filter(pk=account.pk).first()
    if Filter.objects.filter(account=account).count() >= FILTERS_PER_ACCOUNT:
        raise ValidationFailed(
            _("Validation failed: You have reached the maximum number of filters")
        )
    found = Filter.objects.create(
        account=account,
        title=title,
        context=context,
        filter_action=action,
        expires_at=expires_at,
    )
    _apply_keywords(found, keywords_attributes, creating=True)
    publish(FiltersChanged(account_id=account.pk))
    return found


@transaction.atomic
def filter_update(
    *,
    account: Account,
    filter_id: int | str,
    title: str | None = None,
    context: Iterable[str] | str | None = None,
    filter_action: str | None = None,
    expires_in: Any = UNSET,
    keywords_attributes: Iterable[Mapping[str, Any]] = (),
) -> Filter:
    """Change what is given of one of ``account``'s filters and return it; None
    (or UNSET for ``expires_in``, where None or "" means never) leaves a field
    as it is. ``keywords_attributes`` add, change and (``_destroy``) remove
    keywords. Raises NotFound for a filter or keyword id not ``account``'s, and
    ValidationFailed as :func:`filter_create`."""
    found = _owned_for_update(account, filter_id)
    if title is not None:
        found.title = _clean_title(title)
    if context is not None:
        found.context = _clean_context(context)
    if filter_action is not None:
        found.filter_action = _clean_action(filter_action)
    if expires_in is not UNSET:
        found.expires_at = _expires_at(expires_in)
    found.save()
    _apply_keywords(found, keywords_attributes, creating=False)
    publish(FiltersChanged(account_id=account.pk))
    return found


@transaction.atomic
def filter_delete(*, account: Account, filter_id: int | str) -> None:
    """Delete one of ``account``'s filters with its keywords and statuses;
    NotFound if it is not ``account``'s."""
    _owned_for_update(account, filter_id).delete()
    publish(FiltersChanged(account_id=account.pk))


@transaction.atomic
def filter_keyword_create(
    *,
    account: Account,
    filter_id: int | str,
    keyword: str | None,
    whole_word: bool | None = None,
) -> FilterKeyword:
    """Add a keyword to one of ``account``'s filters (``whole_word`` defaults to
    true); NotFound for a filter not ``account``'s, ValidationFailed for a blank
    keyword or past 200 keywords."""
    found = _owned_for_update(account, filter_id)
    row = FilterKeyword.objects.create(
        filter=found,
        keyword=_clean_keyword(keyword),
        whole_word=True if whole_word is None else whole_word,
    )
    _check_keyword_count(found)
    publish(FiltersChanged(account_id=account.pk))
    return row


@transaction.atomic
def filter_keyword_update(
    *,
    account: Account,
    keyword_id: int | str,
    keyword: str | None = None,
    whole_word: bool | None = None,
) -> FilterKeyword:
    """Change a keyword of one of ``account``'s filters; None leaves a field as
    it is. NotFound otherwise; ValidationFailed for a blank keyword."""
    row = (
        FilterKeyword.objects.select_for_update()
        .filter(pk=_pk(keyword_id), filter__account=account)
        .first()
    )
    if row is None:
        raise NotFound(_("Record not found"))
    if keyword is not None:
        row.keyword = _clean_keyword(keyword)
    if whole_word is not None:
        row.whole_word = whole_word
    row.save()
    publish(FiltersChanged(account_id=account.pk))
    return row


@transaction.atomic
def filter_keyword_delete(*, account: Account, keyword_id: int | str) -> None:
    """Remove a keyword of one of ``account``'s filters; NotFound otherwise."""
    deleted, _by_model = FilterKeyword.objects.filter(
        pk=_pk(keyword_id), filter__account=account
    ).delete()
    if not deleted:
        raise NotFound(_("Record not found"))
    publish(FiltersChanged(account_id=account.pk))


@transaction.atomic
def filter_status_create(
    *, account: Account, filter_id: int | str, status_id: int | str | None
) -> FilterStatus:
    """Add a status ``account`` can see to one of ``account``'s filters.

    NotFound for a filter not ``account``'s or a status they cannot see;
    ValidationFailed when it is already in the filter ("Status has already been
    taken", Mastodon's message) or past 200 statuses.
    """
    found = _owned_for_update(account, filter_id)
    if status_id in (None, ""):
        raise ValidationFailed(_("Validation failed: Status can't be blank"))
    status = status_get_visible(status_id=status_id, viewer=account)
    if FilterStatus.objects.filter(filter=found).count() >= STATUSES_PER_FILTER:
        raise ValidationFailed(
            _("Validation failed: A filter holds at most %(count)d statuses")
            % {"count": STATUSES_PER_FILTER}
        )
    try:
        with transaction.atomic():
            row = FilterStatus.objects.create(filter=found, status=status)
    except IntegrityError:
        raise ValidationFailed(
            _("Validation failed: Status has already been taken")
        ) from None
    publish(FiltersChanged(account_id=account.pk))
    return row


@transaction.atomic
def filter_status_delete(*, account: Account, filter_status_id: int | str) -> None:
    """Remove a status from one of ``account``'s filters; NotFound otherwise."""
    deleted, _by_model = FilterStatus.objects.filter(
        pk=_pk(filter_status_id), filter__account=account
    ).delete()
    if not deleted:
        raise NotFound(_("Record not found"))
    publish(FiltersChanged(account_id=account.pk))


def muted_word_create(
    *, account: Account, word: str | None, whole_word: bool = True
) -> Filter:
    """Mute a word: a ``hide`` filter titled by the word, in every context, with
    the word as its one keyword (the web interface's "Muted words")."""
    word = _clean_keyword(word)
    return filter_create(
        account=account,
        title=word[:TITLE_MAX_LENGTH],
        context=FilterContext.values,
        filter_action=FilterAction.HIDE,
        keywords_attributes=[{"keyword": word, "whole_word": whole_word}],
    )
