"""Routes for joining and for one's own settings: sign-up, sign-in, sign-out,
invite links, profile, preferences, email and password, invites, import and
export, moving."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from tribune.web import join, portability_views, settings_views
from tribune.web.viewer import account_required

urlpatterns = [
    path("auth/sign_in", join.SignInView.as_view(), name="sign_in"),
    # POST only (Django's LogoutView); ``next`` may name a page on this site.
    path("auth/sign_out", auth_views.LogoutView.as_view(next_page="/"), name="sign_out"),
    path("auth/sign_up", join.sign_up, name="sign_up"),
    path("auth/sign_up/pending", join.sign_up_pending, name="sign_up_pending"),
    path("invite/<str:code>", join.invite, name="invite"),
    path("settings", account_required(RedirectView.as_view(pattern_name="web:settings_profile")),
         name="settings"),
    path("settings/profile", settings_views.profile, name="settings_profile"),
    path("settings/preferences", settings_views.preferences, name="settings_preferences"),
    path("settings/account", settings_views.account_settings, name="settings_account"),
    path("settings/invites", settings_views.invites, name="settings_invites"),
    path("settings/import_export", portability_views.import_export,
         name="settings_import_export"),
    path("settings/exports/<str:export_id>/download", portability_views.export_download,
         name="export_download"),
    path("settings/exports/<str:name>", portability_views.csv_download, name="csv_download"),
    path("settings/imports/<str:import_id>", portability_views.import_detail,
         name="import_detail"),
    path("settings/moving", portability_views.moving, name="settings_moving"),
    path("move-statements/verify", portability_views.move_statement_verify,
         name="move_statement_verify"),
]
