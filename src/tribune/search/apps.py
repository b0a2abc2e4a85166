from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _index_repaired(sender, using="default", **kwargs) -> None:
    """After ``migrate``: make the status index again if a migration dropped its
    triggers (``schema.triggers_missing``), so that no post goes unindexed."""
    from django.db import connections, transaction

    from tribune.search.schema import rebuild_statements, triggers_missing

    connection = connections[using]
    if not triggers_missing(connection):
        return
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for statement in rebuild_statements(connection.vendor):
            cursor.execute(statement)


class SearchConfig(AppConfig):
    name = "tribune.search"
    label = "search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_index_repaired, sender=self,
                             dispatch_uid="tribune.search.index_repaired")
