from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "tribune.links"
    label = "links"
    default_auto_field = "django.db.models.BigAutoField"
