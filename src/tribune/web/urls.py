"""Routes of the server-rendered interface. For now: signing in and out (which the
OAuth consent page needs) and the default avatar and header images."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path

from tribune.web import images, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("avatars/original/missing.png", images.default_avatar, name="default_avatar"),
    path("headers/original/missing.png", images.default_header, name="default_header"),
    path(
        "auth/sign_in",
        auth_views.LoginView.as_view(template_name="web/sign_in.html"),
        name="sign_in",
    ),
    # POST only (Django's LogoutView); ``next`` may name a page on this site.
    path(
        "auth/sign_out",
        auth_views.LogoutView.as_view(next_page=settings.LOGIN_URL),
        name="sign_out",
    ),
]
