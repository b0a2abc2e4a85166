from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tribune.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from tribune.core import sqlite

        connection_created.connect(sqlite.install, dispatch_uid="tribune.core.sqlite.install")
