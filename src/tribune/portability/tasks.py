"""Background tasks of a person's imports and archives (the ``portability`` queue).
Both may run twice (a retried job) and pick up where an interrupted run stopped."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="portability")
def run_import(import_id: str) -> None:
    """Apply an uploaded import file, row by row."""
    from tribune.portability.imports import import_run

    import_run(import_id=import_id)


@task(queue_name="portability")
def run_export(export_id: str) -> None:
    """Make a requested archive of a person's data."""
    from tribune.portability.exports import export_run

    export_run(export_id=export_id)
