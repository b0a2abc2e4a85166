from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "tribune.federation"
    label = "federation"
    default_auto_field = "django.db.models.BigAutoField"
