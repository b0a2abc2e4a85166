"""What a person brought in and took away: imports with their per-row results,
the source ids of imported posts (so an import can run again without
duplicates), and account archives."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tribune.core.fields import IdField


class ImportKind(models.TextChoices):
    """What an import file holds; the CSV kinds are Mastodon's (Form::Import)."""

    FOLLOWING = "following", _("Following list")
    BLOCKS = "blocks", _("Blocked accounts")
    MUTES = "mutes", _("Muted accounts")
    BOOKMARKS = "bookmarks", _("Bookmarks")
    LISTS = "lists", _("Lists")
    MASTODON_ARCHIVE = "mastodon-archive", _("Mastodon archive")
    X_ARCHIVE = "x-archive", _("X/Twitter archive")


class ImportMode(models.TextChoices):
    """``merge`` adds to what is there; ``overwrite`` also removes what the file
    does not name (Mastodon's modes)."""

    MERGE = "merge", _("merge")
    OVERWRITE = "overwrite", _("overwrite")


class JobState(models.TextChoices):
    QUEUED = "queued", _("waiting")
    RUNNING = "running", _("in progress")
    FINISHED = "finished", _("finished")
    FAILED = "failed", _("failed")  # the whole file was refused; ``error`` says why


class RowResult(models.TextChoices):
    IMPORTED = "imported", _("imported")
    # Nothing to do: already there, or not meant to be imported.
    SKIPPED = "skipped", _("skipped")
    FAILED = "failed", _("failed")


class Import(models.Model):
    """One file ``account`` uploaded, and what became of it.

    The file waits in Django's default storage (``imports/``, never public) until
    the import has run. The counters are recomputed from ``rows`` when it ends;
    while it runs, the rows written so far are its progress.
    """

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                related_name="imports")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    mode = models.CharField(max_length=10, choices=ImportMode.choices,
                            default=ImportMode.MERGE)
    state = models.CharField(max_length=10, choices=JobState.choices,
                             default=JobState.QUEUED)
    file = models.FileField(upload_to="imports/", max_length=300, blank=True, default="")
    filename = models.CharField(max_length=255, blank=True, default="")
    file_size = models.PositiveBigIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)  # overwrite: entries taken away
    error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-id"])]

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk}"


class ImportRow(models.Model):
    """The result of one row (a CSV line, an archive's post or bookmark), written
    in the same transaction as what the row did: a row is applied with its result,
    or not at all, and an interrupted import resumes after its last row."""

    batch = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField()  # 1-based position in the file
    item = models.CharField(max_length=500, blank=True, default="")
    result = models.CharField(max_length=10, choices=RowResult.choices)
    reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "number"],
                                               name="import_row_once")]

    def __str__(self) -> str:
        return f"row {self.number}: {self.result}"


class ImportedItem(models.Model):
    """A post ``account`` imported, by where it came from: ``source`` ("mastodon",
    "x") and its id there (the post's ActivityPub id, the tweet's id). Running an
    import again finds the post here and skips it; deleting the post forgets it."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                related_name="+")
    source = models.CharField(max_length=20)
    source_id = models.CharField(max_length=500)
    status = models.ForeignKey("statuses.Status", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "source", "source_id"],
                                               name="imported_item_once")]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id}"


class Export(models.Model):
    """An archive of ``account``'s data, made by a task (``exports.export_run``)
    and kept in Django's default storage (``exports/``, never public) until the
    next one replaces it."""

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                related_name="exports")
    state = models.CharField(max_length=10, choices=JobState.choices,
                             default=JobState.QUEUED)
    file = models.FileField(upload_to="exports/", max_length=300, blank=True, default="")
    file_size = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-id"])]

    def __str__(self) -> str:
        return f"export {self.pk}"
