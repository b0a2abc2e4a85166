"""URL routes: the client API, OAuth, and the web interface."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("tribune.oauth.urls")),
    path("", include("tribune.api.urls")),
    path("", include("tribune.web.urls")),
]
