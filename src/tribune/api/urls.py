"""Client API routes, mounted at /api/. Unknown API paths answer JSON 404."""

from django.http import JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from tribune.api import routers  # noqa: F401  (registers the routers on the API)
from tribune.api.base import api


@csrf_exempt  # an unknown path is a 404 whatever the method, never a CSRF 403
def not_found(request, rest=""):
    return JsonResponse({"error": "Record not found"}, status=404)


urlpatterns = [
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", not_found),
]
