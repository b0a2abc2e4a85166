"""Media attachments: pictures, video and audio attached to statuses (Mastodon's
MediaAttachment, docs: entities/MediaAttachment.md).

An upload is stored as it came (``upload``) until the processing task has turned
it into the files served (``file`` and ``thumbnail``), with metadata and
location data stripped; the upload is then deleted. Files live in Django's
default storage (the data dir, or S3-compatible storage)."""

from __future__ import annotations

from django.db import models

from tribune.core.fields import IdField


class MediaType(models.TextChoices):
    """Mastodon's attachment types."""

    UNKNOWN = "unknown"
    IMAGE = "image"
    GIFV = "gifv"
    VIDEO = "video"
    AUDIO = "audio"


class ProcessingState(models.TextChoices):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class MediaAttachment(models.Model):
    """One uploaded file of ``account``'s, attached to at most one status.

    ``meta`` is Mastodon's ``meta`` object (``original``/``small`` with width,
    height, size, aspect; ``duration`` for time-based media; ``focus``);
    ``blurhash`` the BlurHash of the preview. Never attached nor reserved for a
    scheduled post within a day of upload, it is deleted with its files
    (``services.media_cleanup_orphans``).
    """

    id = IdField()
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE,
                                related_name="media_attachments")
    status = models.ForeignKey("statuses.Status", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="media_attachments")
    # Reserved for a scheduled post until it is published (Mastodon's
    # ``scheduled_status_id``): not an unused upload, not attachable elsewhere.
    scheduled_status = models.ForeignKey("scheduling.ScheduledStatus", null=True, blank=True,
                                         on_delete=models.SET_NULL,
                                         related_name="media_attachments")
    position = models.PositiveSmallIntegerField(default=0)  # order within the status
    type = models.CharField(max_length=10, choices=MediaType.choices, default=MediaType.UNKNOWN)
    state = models.CharField(max_length=10, choices=ProcessingState.choices,
                             default=ProcessingState.PENDING)
    error = models.CharField(max_length=300, blank=True, default="")
    upload = models.FileField(upload_to="uploads/", max_length=300, blank=True)
    file = models.FileField(upload_to="media_attachments/", max_length=300, blank=True)
    thumbnail = models.FileField(upload_to="media_attachments/", max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    description = models.TextField(blank=True, default="")  # alt text, ≤ 1,500 characters
    focus_x = models.FloatField(default=0.0)
    focus_y = models.FloatField(default=0.0)
    meta = models.JSONField(default=dict, blank=True)
    blurhash = models.CharField(max_length=100, blank=True, default="")
    # Remote attachments (federation) are referenced by their URL.
    remote_url = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["status", "position"]),
            models.Index(fields=["status", "created_at"], name="media_orphans"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.pk}"
