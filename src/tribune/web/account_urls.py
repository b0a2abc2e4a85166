"""Routes for joining and for one's own settings: sign-up, sign-in, password,
profile, preferences."""

from django.contrib.auth import views as auth_views
from django.urls import path

urlpatterns = [
    path(
        "auth/sign_in",
        auth_views.LoginView.as_view(template_name="web/sign_in.html"),
        name="sign_in",
    ),
    # POST only (Django's LogoutView); ``next`` may name a page on this site.
    path("auth/sign_out", auth_views.LogoutView.as_view(next_page="/"), name="sign_out"),
]
