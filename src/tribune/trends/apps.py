from django.apps import AppConfig


class TrendsConfig(AppConfig):
    name = "tribune.trends"
    label = "trends"
    default_auto_field = "django.db.models.BigAutoField"
