"""Registers every router on the API instance."""

from tribune.api.base import api
from tribune.api.routers import instance, statuses, timelines

for module in (instance, statuses, timelines):
    api.add_router("/", module.router)
