"""Routes for joining and for one's own settings: sign-up, sign-in (with its
second step), sign-out, e-mail confirmation, password reset, invite links,
two-factor authentication, sessions and authorised apps, profile, preferences, email and password, invites, import and
export, moving."""

from django.contrib.auth import views as django_auth_views
from django.urls import path
from django.views.generic import RedirectView

from tribune.web import (
    auth_views,
    join,
    portability_views,
    security_views,
    settings_views,
)
from tribune.web.viewer import account_required

urlpatterns = [
    path("auth/sign_in", join.SignInView.as_view(), name="sign_in"),
    # POST only (Django's LogoutView); ``next`` may name a page on this site.
    path("auth/sign_out", django_auth_views.LogoutView.as_view(next_page="/"), name="sign_out"),
    path("auth/sign_in/two_factor", auth_views.sign_in_two_factor,
         name="sign_in_two_factor"),
    path("auth/sign_up", join.sign_up, name="sign_up"),
    path("auth/sign_up/confirm", join.sign_up_confirm, name="sign_up_confirm"),
    path("auth/confirmation", auth_views.confirmation, name="confirmation"),
    path("auth/confirmation/new", auth_views.confirmation_new, name="confirmation_new"),
    path("auth/password/reset", auth_views.password_reset, name="password_reset"),
    path("auth/password/reset/<uidb64>/<token>", auth_views.PasswordResetConfirm.as_view(),
         name="password_reset_confirm"),
    path("auth/sign_up/pending", join.sign_up_pending, name="sign_up_pending"),
    path("invite/<str:code>", join.invite, name="invite"),
    path("settings", account_required(RedirectView.as_view(pattern_name="web:settings_profile")),
         name="settings"),
    path("settings/profile", settings_views.profile, name="settings_profile"),
    path("settings/preferences", settings_views.preferences, name="settings_preferences"),
    path("settings/account", settings_views.account_settings, name="settings_account"),
    path("settings/two_factor", security_views.two_factor, name="settings_two_factor"),
    path("settings/sessions", security_views.sessions, name="settings_sessions"),
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
