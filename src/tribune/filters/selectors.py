"""Reads of filters: a person's filters with their keywords and statuses, one
filter, keyword or filtered status of theirs, and the compiled active filters
that timelines apply (:func:`viewer_filters`), each in a fixed number of queries."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tribune.accounts.models import Account
from tribune.core.errors import NotFound
from tribune.core.ids import parse_id
from tribune.filters.matching import CompiledFilter, ViewerFilters, keyword_pattern
from tribune.filters.models import Filter, FilterKeyword, FilterStatus

NO_FILTERS = ViewerFilters(())


def _with_rules(qs):
    return qs.prefetch_related(
        Prefetch("keywords", queryset=FilterKeyword.objects.order_by("id")),
        Prefetch("statuses", queryset=FilterStatus.objects.order_by("id")),
    )


def filters_of(*, account: Account) -> list[Filter]:
    """``account``'s filters, oldest first, with keywords and statuses (three
    queries), expired ones included (Mastodon lists them too)."""
    return list(_with_rules(Filter.objects.filter(account=account).order_by("id")))


def _pk(value: int | str) -> int:
    try:
        return parse_id(value)
    except (ValueError, TypeError, OverflowError):
        raise NotFound(_("Record not found")) from None


def filter_get(*, account: Account, filter_id: int | str) -> Filter:
    """One of ``account``'s filters with its keywords and statuses; NotFound for
    anyone else's, an unknown id or a malformed one."""
    found = _with_rules(
        Filter.objects.filter(pk=_pk(filter_id), account=account)
    ).first()
    if found is None:
        raise NotFound(_("Record not found"))
    return found


def filter_keyword_get(*, account: Account, keyword_id: int | str) -> FilterKeyword:
    """One keyword of one of ``account``'s filters; NotFound otherwise."""
    found = FilterKeyword.objects.filter(
        pk=_pk(keyword_id), filter__account=account
    ).first()
    if found is None:
        raise NotFound(_("Record not found"))
    return found


def filter_status_get(*, account: Account, filter_status_id: int | str) -> FilterStatus:
    """One filtered status of one of ``account``'s filters; NotFound otherwise."""
    found = FilterStatus.objects.filter(
        pk=_pk(filter_status_id), filter__account=account
    ).first()
    if found is None:
        raise NotFound(_("Record not found"))
    return found


def compile_filter(row: Filter) -> CompiledFilter:
    """A filter loaded with its keywords and statuses, ready to apply."""
    return CompiledFilter(
        id=row.pk,
        title=row.title,
        context=frozenset(row.context or ()),
        filter_action=row.filter_action,
        expires_at=row.expires_at,
        keywords=tuple(
            (k.keyword, keyword_pattern(k.keyword, whole_word=k.whole_word))
            for k in row.keywords.all()
        ),
        status_ids=frozenset(s.status_id for s in row.statuses.all()),
    )


def viewer_filters(
    viewer: Account | int | None, *, now: datetime | None = None
) -> ViewerFilters:
    """The filters in force for ``viewer`` (an account or its id) at ``now``
    (expired ones are ignored), compiled: one query for a person without
    filters, three otherwise; none for a visitor (None)."""
    if viewer is None:
        return NO_FILTERS
    account_id = viewer if isinstance(viewer, int) else viewer.pk
    now = now or timezone.now()
    rows = _with_rules(
        Filter.objects.filter(account_id=account_id)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("id")
    )
    return ViewerFilters(tuple(compile_filter(row) for row in rows))
