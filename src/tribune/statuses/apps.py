from django.apps import AppConfig


class StatusesConfig(AppConfig):
    name = "tribune.statuses"
    label = "statuses"
    default_auto_field = "django.db.models.BigAutoField"
