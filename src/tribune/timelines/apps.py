from django.apps import AppConfig


class TimelinesConfig(AppConfig):
    name = "tribune.timelines"
    label = "timelines"
    default_auto_field = "django.db.models.BigAutoField"
