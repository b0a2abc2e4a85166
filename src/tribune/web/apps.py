from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "tribune.web"
    label = "web"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tribune.web import sessions

        sessions.connect()
