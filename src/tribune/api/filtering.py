"""Filters in the API: the Filter, FilterKeyword, FilterStatus and FilterResult
entities (docs.joinmastodon.org/entities/Filter/ and siblings, V1_Filter for the
old endpoints), and the viewer's filters applied to finished Status entities.

``filtered`` depends on the viewer, so it is added after the entity cache's shared
part (docs/adr/0013): :func:`apply_to_statuses` fills it on a page of entities
with the viewer's filters compiled once, and leaves out the statuses a ``hide``
filter of the context matches, as Mastodon does for its timelines.
"""

from __future__ import annotations

from typing import Any

from tribune.api.presenters import iso
from tribune.filters.matching import (
    CompiledFilter,
    FilterMatch,
    ViewerFilters,
    hides,
    searchable_text,
)
from tribune.filters.models import (
    Filter,
    FilterAction,
    FilterContext,
    FilterKeyword,
    FilterStatus,
)
from tribune.filters.selectors import viewer_filters


def _contexts(values) -> list[str]:
    return [value for value in FilterContext.values if value in values]


def keyword_out(row: FilterKeyword) -> dict[str, Any]:
    """The FilterKeyword entity."""
    return {"id": str(row.pk), "keyword": row.keyword, "whole_word": row.whole_word}


def filter_status_out(row: FilterStatus) -> dict[str, Any]:
    """The FilterStatus entity."""
    return {"id": str(row.pk), "status_id": str(row.status_id)}


def filter_out(row: Filter) -> dict[str, Any]:
    """The Filter entity with its keywords and statuses (loaded by the selectors)."""
    return {
        "id": str(row.pk),
        "title": row.title,
        "context": _contexts(row.context or ()),
        "expires_at": iso(row.expires_at),
        "filter_action": row.filter_action,
        "keywords": [keyword_out(k) for k in row.keywords.all()],
        "statuses": [filter_status_out(s) for s in row.statuses.all()],
    }


def v1_filter_out(row: FilterKeyword, owner: Filter) -> dict[str, Any]:
    """The V1_Filter entity of one keyword (Mastodon's V1 filters are keywords:
    ``irreversible`` is a ``hide`` filter)."""
    return {
        "id": str(row.pk),
        "phrase": row.keyword,
        "context": _contexts(owner.context or ()),
        "whole_word": row.whole_word,
        "expires_at": iso(owner.expires_at),
        "irreversible": owner.filter_action == FilterAction.HIDE,
    }


def _compiled_out(compiled: CompiledFilter) -> dict[str, Any]:
    # Within a FilterResult the Filter leaves out its keywords and statuses.
    return {
        "id": str(compiled.id),
        "title": compiled.title,
        "context": _contexts(compiled.context),
        "expires_at": iso(compiled.expires_at),
        "filter_action": compiled.filter_action,
    }


def result_out(match: FilterMatch) -> dict[str, Any]:
    """The FilterResult entity."""
    return {
        "filter": _compiled_out(match.filter),
        "keyword_matches": list(match.keyword_matches) or None,
        "status_matches": [str(pk) for pk in match.status_matches] or None,
    }


def _matches(
    entity: dict[str, Any], filters: ViewerFilters, context: str | None
) -> list[FilterMatch]:
    """What ``filters`` say of one Status entity (a reblog by its original)."""
    shown = entity["reblog"] or entity
    poll = shown.get("poll")
    text = searchable_text(
        spoiler_text=shown["spoiler_text"] or "",
        content_html=shown["content"] or "",
        poll_options=[o["title"] for o in poll["options"]] if poll else (),
        media_descriptions=[m["description"] for m in shown["media_attachments"]],
    )
    return filters.match(
        text=text, status_ids={int(entity["id"]), int(shown["id"])}, context=context
    )


def apply_to_status(
    entity: dict[str, Any], filters: ViewerFilters, context: str | None
) -> bool:
    """Fill ``filtered`` of one Status entity (and of its reblogged original);
    True when a ``hide`` filter of ``context`` matches it (never for context
    None, where every active filter is reported and nothing is left out)."""
    if not filters:
        return False
    matches = _matches(entity, filters, context)
    results = [result_out(m) for m in matches]
    entity["filtered"] = results
    if entity["reblog"] is not None:
        entity["reblog"]["filtered"] = results
    return context is not None and hides(matches)


def apply_to_statuses(
    entities: list[dict[str, Any]], filters: ViewerFilters, context: str | None
) -> list[dict[str, Any]]:
    """``entities`` with ``filtered`` filled in, without those a ``hide`` filter
    of ``context`` matches."""
    if not filters:
        return entities
    return [e for e in entities if not apply_to_status(e, filters, context)]


def filtered(
    entities: list[dict[str, Any]], viewer, context: str | None
) -> list[dict[str, Any]]:
    """:func:`apply_to_statuses` with ``viewer``'s filters in force, loaded and
    compiled here (one query without filters, three with; none for a visitor)."""
    return apply_to_statuses(entities, viewer_filters(viewer), context)


def filtered_notifications(
    entities: list[dict[str, Any]], viewer
) -> list[dict[str, Any]]:
    """Notification entities with their statuses' ``filtered`` filled in, without
    those whose status a ``hide`` filter of ``notifications`` matches."""
    filters = viewer_filters(viewer)
    if not filters:
        return entities
    return [
        n
        for n in entities
        if n["status"] is None
        or not apply_to_status(n["status"], filters, "notifications")
    ]
