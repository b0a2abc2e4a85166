"""Home feed entries keep one index for reading a feed: the unique (account,
status) one. The index on (account, -status) and the foreign key's own index on
account are dropped. The foreign key's index is dropped by what the database says
it is called (its name is generated), so that SQLite need not copy the table, as
an AlterField would make it do."""

import django.db.models.deletion
from django.db import migrations, models


def drop_account_index(apps, schema_editor):
    table = "timelines_feedentry"
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    for name, details in constraints.items():
        if (details["index"] and not details["unique"] and not details["primary_key"]
                and details["columns"] == ["account_id"]):
            schema_editor.execute(schema_editor._delete_index_sql(
                apps.get_model("timelines", "FeedEntry"), name))


def create_account_index(apps, schema_editor):
    model = apps.get_model("timelines", "FeedEntry")
    schema_editor.execute(schema_editor._create_index_sql(
        model, fields=[model._meta.get_field("account")]))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0008_account_moving'),
        ('timelines', '0002_marker'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='feedentry',
            name='timelines_f_account_5f8d4f_idx',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='feedentry',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account'),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_account_index, create_account_index),
            ],
        ),
    ]
