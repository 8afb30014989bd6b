"""Worker heartbeats: which task workers are alive, so that a dead one's task runs again."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """A running `manage.py worker` process; it renews ``seen_at`` every few seconds."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    # The host (container, pod) and process: a worker on the same host can
    # tell at once that a process which no longer exists is dead.
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["seen_at"], name="background_heartbeat_seen")]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.host}, pid {self.pid})"
