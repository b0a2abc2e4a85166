"""Registers every router on the API instance.

Order matters where paths overlap: ``graph`` (``/v1/accounts/relationships``) comes
before ``accounts`` (``/v1/accounts/{account_id}``).
"""

from tribune.api.base import api
from tribune.api.routers import (
    accounts,
    admin_accounts,
    admin_reports,
    admin_trends,
    apps,
    conversations,
    filters,
    graph,
    instance,
    lists,
    media,
    misc,
    notifications,
    polls,
    push,
    registrations,
    reports,
    scheduled_statuses,
    statuses,
    tags,
    timelines,
)

for module in (instance, media, statuses, polls, timelines, graph, accounts, lists,
               registrations, notifications, reports, admin_reports, admin_accounts, apps,
               conversations, scheduled_statuses, push, filters, tags, admin_trends, misc):
    api.add_router("/", module.router)
