"""Prometheus metrics: requests, database queries, throttling and background tasks.

Every process records into prometheus-client's registry; none serves metrics
on the API's port. Under gunicorn, each worker writes its counts to files in
PROMETHEUS_MULTIPROC_DIR and the master serves their sum on
DJANGO_METRICS_PORT (config/gunicorn.py): a worker that is restarted leaves
its counts behind, so totals neither drop nor double. The task worker serves
its own on the same port, with the task queue read from the database at each
scrape (``serve_worker_metrics``). README.md, "Metrics", lists them.
"""

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse
from django.tasks import TaskResultStatus
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "django_http_requests",
    "Requests answered, by view (URL name), method and status code.",
    ["view", "method", "status"],
)
DURATION = Histogram(
    "django_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by view, method and status.",
    ["view", "method", "status"],
)
QUERIES = Counter("django_db_queries", "SQL statements run, by database alias.", ["alias"])
QUERY_ERRORS = Counter(
    "django_db_query_errors",
    "SQL statements that raised, by database alias and exception class.",
    ["alias", "error"],
)
THROTTLED = Counter(
    "django_throttle_rejections",
    "Requests refused with 429 by a throttle, by its scope (anon, user).",
    ["scope"],
)
CACHE_ERRORS = Counter(
    "django_cache_errors",
    "Cache calls that failed (the server down or too slow), by what made them; the request "
    "went on without the cache.",
    ["use"],
)
TASKS_FINISHED = Counter(
    "django_tasks_finished",
    "Background tasks that ended, by task (module path) and final status (SUCCESSFUL, FAILED).",
    ["task", "status"],
)

# Methods outside this set share one label, so that a client cannot add series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Requests that matched no URL (404s) share one view label, for the same reason.
UNMATCHED = "<unmatched>"


class MetricsMiddleware:
    """Count every request and time it, labelled by the URL pattern's name.

    Placed after the health middleware: probes are not traffic, and would
    otherwise outnumber it on a quiet service.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        labels = (
            match.view_name if match else UNMATCHED,
            request.method if request.method in METHODS else "other",
            str(response.status_code),
        )
        REQUESTS.labels(*labels).inc()
        DURATION.labels(*labels).observe(elapsed)
        return response


class QueryCounter:
    """An execute wrapper (Django's hook around every SQL statement) counting them."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.queries = QUERIES.labels(alias)

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.queries.inc()
        try:
            return execute(sql, params, many, context)
        except Exception as error:
            QUERY_ERRORS.labels(self.alias, type(error).__name__).inc()
            raise


def count_queries(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: wrap the connection's statements, once per connection object."""
    if not any(isinstance(wrapper, QueryCounter) for wrapper in connection.execute_wrappers):
        connection.execute_wrappers.insert(0, QueryCounter(connection.alias))


def count_finished_task(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """task_finished receiver (in the worker)."""
    TASKS_FINISHED.labels(task_result.task.module_path, task_result.status.value).inc()


class TaskQueueCollector(Collector):
    """The task queue as the database holds it, read at each scrape.

    Every worker reports the same figures: take ``max`` over them in queries.
    """

    STATUSES = (TaskResultStatus.READY, TaskResultStatus.RUNNING, TaskResultStatus.FAILED)

    def families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "django_tasks",
                "Background tasks waiting (READY), running (RUNNING) or given up (FAILED), "
                "by queue.",
                labels=["queue", "status"],
            ),
            GaugeMetricFamily(
                "django_tasks_oldest_ready_age_seconds",
                "How long the oldest task ready to run has waited, by queue (0: none waits).",
                labels=["queue"],
            ),
        )

    def describe(self) -> Iterator[Metric]:
        """The metrics' names, without a query (the registry asks on registration)."""
        yield from self.families()

    def collect(self) -> Iterator[Metric]:
        from django.db.models import Count, Min
        from django_tasks_db.models import DBTaskResult

        tasks, oldest = self.families()
        try:
            counts = {
                (row["queue_name"], row["status"]): row["n"]
                for row in DBTaskResult.objects.filter(status__in=self.STATUSES)
                .values("queue_name", "status")
                .annotate(n=Count("pk"))
            }
            waiting = dict(
                DBTaskResult.objects.ready()
                .values("queue_name")
                .annotate(first=Min("enqueued_at"))
                .values_list("queue_name", "first")
            )
        finally:
            # Each scrape is served on a thread of its own: leave no connection
            # behind (but never close one a transaction is using: a test's).
            if not default_connection.in_atomic_block:
                default_connection.close()
        now = time.time()
        for queue in sorted({"default", *(queue for queue, _ in counts)}):
            for status in self.STATUSES:
                tasks.add_metric([queue, status], counts.get((queue, status), 0))
            first = waiting.get(queue)
            oldest.add_metric([queue], max(now - first.timestamp(), 0) if first else 0)
        yield tasks
        yield oldest


def registry() -> CollectorRegistry:
    """A registry of this process's metrics (of every process writing to
    PROMETHEUS_MULTIPROC_DIR, when it is set) and the task queue's."""
    served = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(served)
    else:
        served.register(REGISTRY)
    served.register(TaskQueueCollector())
    return served


def serve_worker_metrics(port: int) -> None:
    """Serve the task worker's metrics and the queue's on ``port`` (0: not at all)."""
    if not port:
        return
    try:
        start_http_server(port, registry=registry())
    except OSError as error:
        logger.error(
            "Metrics are not served on port %s (%s). Set DJANGO_METRICS_PORT to a free "
            "port, or to 0 for none.",
            port,
            error,
        )
        return
    logger.info("Metrics served on port %s", port)
