from django.apps import AppConfig


class OauthConfig(AppConfig):
    name = "tribune.oauth"
    label = "oauth"
    default_auto_field = "django.db.models.BigAutoField"
