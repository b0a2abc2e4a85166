"""OAuth 2 routes, at Mastodon's addresses (included at the site root)."""

from django.urls import path

from tribune.oauth import views

app_name = "oauth"

urlpatterns = [
    path("oauth/authorize", views.AuthorizeView.as_view(), name="authorize"),
    path(
        "oauth/authorize/native",
        views.AuthorizeNativeView.as_view(),
        name="authorize_native",
    ),
    path("oauth/token", views.MastodonTokenView.as_view(), name="token"),
    path("oauth/revoke", views.MastodonRevokeView.as_view(), name="revoke"),
    path(
        ".well-known/oauth-authorization-server",
        views.authorization_server_metadata,
        name="metadata",
    ),
]
