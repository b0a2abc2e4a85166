"""Routes of the server-rendered interface. Public URLs keep Mastodon's shapes
(``/@username``, ``/@username/<id>``, ``/tags/<name>``) so links from elsewhere work."""

from django.urls import include, path

from tribune.web import actions, images, moderation_views, pages
from tribune.web.transparency_views import transparency, transparency_json

app_name = "web"

urlpatterns = [
    path("", pages.home, name="home"),
    path("about", pages.about, name="about"),
    path("about/transparency", transparency, name="transparency"),
    path("about/transparency.json", transparency_json, name="transparency_json"),
    path("public/local", pages.local, name="local"),
    path("users/<str:username>", pages.actor_redirect, name="actor"),
    path("users/<str:username>/statuses/<str:status_id>", pages.actor_redirect,
         name="actor_status"),
    path("tags/<str:name>", pages.tag, name="tag"),
    path("notifications", pages.notifications, name="notifications"),
    path("bookmarks", pages.bookmarks, name="bookmarks"),
    path("favourites", pages.favourites, name="favourites"),
    path("follow_requests", pages.follow_requests, name="follow_requests"),
    path("follow_requests/<str:account_id>/<str:answer>", actions.follow_request_answer,
         name="follow_request_answer"),
    path("statuses", actions.compose, name="compose"),
    path("statuses/<str:status_id>/delete", actions.delete, name="delete"),
    path("statuses/<str:status_id>/<str:action>", actions.status_action, name="status_action"),
    path("accounts/<str:account_id>/<str:action>", actions.account_action,
         name="account_action"),
    path("@<str:username>/<str:status_id>/report", moderation_views.report,
         name="report_status"),
    path("@<str:username>/report", moderation_views.report, name="report_account"),
    path("@<str:username>", pages.profile, name="profile"),
    path("@<str:username>/with_replies", pages.profile, {"tab": "with_replies"},
         name="profile_with_replies"),
    path("@<str:username>/followers", pages.profile, {"tab": "followers"},
         name="profile_followers"),
    path("@<str:username>/following", pages.profile, {"tab": "following"},
         name="profile_following"),
    path("@<str:username>/<str:status_id>", pages.thread, name="thread"),
    path("@<str:username>/<str:status_id>/history", pages.history, name="history"),
    path("@<str:username>/<str:status_id>/edit", actions.edit, name="edit"),
    path("@<str:username>/<str:status_id>/favourites", pages.interactions,
         {"kind": "favourites"}, name="favourited_by"),
    path("@<str:username>/<str:status_id>/reblogs", pages.interactions,
         {"kind": "reblogs"}, name="reblogged_by"),
    path("moderation", moderation_views.queue, name="moderation_queue"),
    path("moderation/cases/<str:case_id>", moderation_views.case, name="moderation_case"),
    path("moderation/notices", moderation_views.notices, name="moderation_notices"),
    path("moderation/decisions/<str:decision_id>", moderation_views.decision,
         name="moderation_decision"),
    path("moderation/appeals/<str:appeal_id>", moderation_views.appeal,
         name="moderation_appeal"),
    path("blocks", pages.blocks, name="blocks"),
    path("mutes", pages.mutes, name="mutes"),
    path("avatars/original/missing.png", images.default_avatar, name="default_avatar"),
    path("headers/original/missing.png", images.default_header, name="default_header"),
    path("", include("tribune.web.account_urls")),
]
