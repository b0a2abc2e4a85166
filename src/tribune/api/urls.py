"""Client API routes, mounted at /api/. Unknown API paths answer JSON 404."""

from django.http import JsonResponse
from django.urls import path, re_path

from tribune.api import routers  # noqa: F401  (registers the routers on the API)
from tribune.api.base import api


def not_found(request, rest=""):
    return JsonResponse({"error": "Record not found"}, status=404)


urlpatterns = [
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", not_found),
]
