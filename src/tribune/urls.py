"""URL routes: the client API, OAuth, federation's read side, and the web interface."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from tribune.core.conf import env_bool
from tribune.web.media_files import media_file

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("tribune.oauth.urls")),
    path("", include("tribune.api.urls")),
    path("", include("tribune.federation.urls")),
    path("", include("tribune.web.urls")),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media_file, name="media_file"),
]

# The scale benchmarks' floor (bench/scale, BENCHMARKS.md); off unless asked for.
if env_bool("TRIBUNE_BENCHMARK_FLOOR", False):
    from tribune.api.floor import floor

    urlpatterns.append(path("_bench/floor", floor))

handler403 = "tribune.web.errors.forbidden"
handler404 = "tribune.web.errors.not_found"
handler500 = "tribune.web.errors.server_error"
