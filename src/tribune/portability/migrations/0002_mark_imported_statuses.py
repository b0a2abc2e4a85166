"""Statuses imported before ``Status.imported`` existed are marked from the import's
own record of them (``ImportedItem``), which is how the feed rules told them apart
until then."""

from django.db import migrations


def mark(apps, schema_editor):
    status = apps.get_model("statuses", "Status")
    item = apps.get_model("portability", "ImportedItem")
    status.objects.filter(pk__in=item.objects.values("status_id")).update(imported=True)


class Migration(migrations.Migration):
    dependencies = [
        ("portability", "0001_initial"),
        ("statuses", "0004_status_imported"),
    ]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop, elidable=True)]
