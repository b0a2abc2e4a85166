"""Routes of federation's read side: discovery under ``/.well-known/``, NodeInfo,
and the actors' documents under ``/users/NAME`` (Mastodon's layout, so the ids
the API reports as ``uri`` resolve; docs/adr/0022)."""

from django.urls import path

from tribune.federation import views

app_name = "federation"

urlpatterns = [
    path(".well-known/webfinger", views.webfinger, name="webfinger"),
    path(".well-known/host-meta", views.host_meta, name="host_meta"),
    path(".well-known/nodeinfo", views.nodeinfo_links, name="nodeinfo_links"),
    path("nodeinfo/<str:version>", views.nodeinfo, name="nodeinfo"),
    path("inbox", views.inbox, name="shared_inbox"),
    path("actor", views.instance_actor, name="instance_actor"),
    path("actor/inbox", views.inbox, name="instance_actor_inbox"),
    path("users/<str:username>", views.actor, name="actor"),
    path("users/<str:username>/inbox", views.inbox, name="inbox"),
    path("users/<str:username>/outbox", views.outbox, name="outbox"),
    path("users/<str:username>/followers", views.followers, name="followers"),
    path("users/<str:username>/following", views.following, name="following"),
    path("users/<str:username>/collections/featured", views.featured, name="featured"),
    path("users/<str:username>/statuses/<str:status_id>", views.status, name="status"),
    path("users/<str:username>/statuses/<str:status_id>/activity", views.status_activity,
         name="status_activity"),
]
