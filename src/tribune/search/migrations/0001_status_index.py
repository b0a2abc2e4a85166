"""The status index (docs/adr/0020): an FTS5 table on SQLite, a tsvector table
with a GIN index on PostgreSQL, triggers that keep it in step, filled from the
statuses already there. ``StatusDocument`` is how the ORM sees it (unmanaged)."""

import django.db.models.deletion
from django.db import migrations, models

import tribune.search.models
from tribune.search.schema import drop_statements, rebuild_statements


def create(apps, schema_editor):
    for statement in rebuild_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def drop(apps, schema_editor):
    for statement in drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    initial = True

    dependencies = [("statuses", "0004_status_imported")]

    operations = [
        migrations.RunPython(create, drop),
        migrations.CreateModel(
            name="StatusDocument",
            fields=[
                ("status", models.OneToOneField(
                    db_column="rowid", db_constraint=False,
                    on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True,
                    related_name="search_document", serialize=False, to="statuses.status")),
                ("document", tribune.search.models.DocumentField(db_column="search_status")),
            ],
            options={"db_table": "search_status", "managed": False},
        ),
    ]
