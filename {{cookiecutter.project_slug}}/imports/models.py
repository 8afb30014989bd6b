"""An import of a file of books: what was sent, its state and what it did."""

from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """A CSV or JSON Lines file of books, imported by the ``import_books`` task."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSON_LINES = "jsonl", "JSON Lines"

    status = models.CharField(max_length=9, choices=Status, default=Status.QUEUED)
    format = models.CharField(max_length=5, choices=Format)
    file_name = models.CharField(max_length=255)
    # The file itself, checked and decoded when it was sent: the worker reads
    # it from here, so web and worker need no shared disk.
    content = models.TextField()
    rows_total = models.PositiveIntegerField()
    # Rows handled so far, committed with the books they created: a task run
    # again after its worker died resumes here.
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    present_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    # The first invalid rows: [{"row": line number, "errors": {field: [message]}}].
    invalid_rows = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["created", "id"], name="imports_job_created_order")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"
