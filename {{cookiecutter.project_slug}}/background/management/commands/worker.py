"""Run background tasks: ``python manage.py worker`` (``make worker``, Compose, Kubernetes).

django-tasks-db's ``db_worker`` with a heartbeat beside it: a thread renews
this worker's WorkerHeartbeat and requeues the tasks of workers that died
(background/recovery.py). Options are db_worker's (``--help``). SIGTERM and
SIGINT stop it gracefully: the running task finishes first, and may hand
over to the next worker at its next checkpoint (background/stopping.py).
"""

import logging
import os
import signal
import socket
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, close_old_connections, connections
from django.tasks.signals import task_finished, task_started
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands import db_worker

from api_core import metrics
from background import recovery, stopping

logger = logging.getLogger("background.worker")
# The process exits with this when it finds that it was declared dead.
EXIT_DECLARED_DEAD = 75


def default_worker_id() -> str:
    """Unique across the pool, and readable in logs: host, pid and a random suffix."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}"


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def tell_tasks_on_stop() -> None:
    """Have the stop signals also set stopping.requested(), then do what db_worker does.

    db_worker installs its handlers just before its loop; this runs (in the
    main thread) when the first task starts, after them, and wraps them once.
    """
    for signum in STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if not callable(handler) or getattr(handler, "tells_tasks", False):
            continue

        def telling(number: int, frame: FrameType | None, handler: Any = handler) -> None:
            stopping.request()
            handler(number, frame)

        telling.tells_tasks = True  # type: ignore[attr-defined]
        signal.signal(signum, telling)


class Heartbeat(threading.Thread):
    """Renews the worker's heartbeat and runs recovery passes until the process ends."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(name="worker-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.interval = max(settings.WORKER_LOST_AFTER / 5, 0.5)
        self.running_task: str | None = None
        self.stopped = threading.Event()
        task_started.connect(self.started, weak=False)
        task_finished.connect(self.finished, weak=False)

    def started(self, sender: Any, task_result: Any, **kwargs: Any) -> None:
        self.running_task = task_result.id
        tell_tasks_on_stop()

    def finished(self, sender: Any, task_result: Any, **kwargs: Any) -> None:
        # Recovery sends this too, for other workers' tasks it gives up.
        if task_result.id == self.running_task:
            self.running_task = None

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.pulse()
            except DatabaseError as error:
                # The database is away: keep trying; the task's own queries fail too.
                logger.warning("Heartbeat failed: %s", error)
                close_old_connections()
        connections.close_all()  # this thread's own

    def pulse(self) -> None:
        if not recovery.beat(self.worker_id):
            if self.running_task is not None:
                logger.critical(
                    "Worker %s was declared dead while running task %s, which is queued "
                    "again; exiting so that it never runs twice at a time.",
                    self.worker_id,
                    self.running_task,
                )
                os._exit(EXIT_DECLARED_DEAD)
            recovery.register(self.worker_id)
        recovered = recovery.recover(self.worker_id)
        if recovered.requeued or recovered.failed:
            logger.info("Recovery: %s", recovered)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=self.interval * 2)


class Command(db_worker.Command):
    help = "Run background tasks, and recover those of workers that died (see --help)."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=default_worker_id())
        parser.add_argument(
            "--alive",
            action="store_true",
            help="Only check that a worker runs on this host (container, pod) and beats: "
            "exit 0 if so, else 1. For health checks and liveness probes.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["alive"]:
            problem = recovery.local_worker_problem()
            if problem:
                raise CommandError(problem)
            return
        # With --reload, the parent only restarts the child that does the work.
        reloading = options["reload"] and not options["batch"]  # db_worker's rule
        if reloading and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            super().handle(*args, **options)
            return
        worker_id = options["worker_id"]
        metrics.serve_worker_metrics(settings.METRICS_PORT)
        task_finished.connect(metrics.count_finished_task, dispatch_uid="api_core.metrics")
        recovery.register(worker_id)
        recovered = recovery.recover(worker_id)
        if recovered.requeued or recovered.failed:
            logger.info("Recovery at start-up: %s", recovered)
        heartbeat = Heartbeat(worker_id)
        heartbeat.start()
        try:
            super().handle(*args, **options)
        finally:
            heartbeat.stop()
            recovery.unregister(worker_id)
