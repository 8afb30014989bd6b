"""Prometheus metrics, read in process: what each request, query, refusal and task adds."""

import logging
import socket
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.urls import reverse
from prometheus_client import REGISTRY
from rest_framework import status
from rest_framework.test import APIClient

from api_core import metrics
from api_core.throttling import AnonRateThrottle
from tests.factories import BookFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:book-list")


def sample(name: str, **labels: str) -> float:
    """The current value of one series (0 before its first observation)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def total(name: str) -> float:
    """The sum of a sample name's values over every series."""
    return sum(s.value for family in REGISTRY.collect() for s in family.samples if s.name == name)


def test_each_request_is_counted_and_timed_by_view_method_and_status(
    api_client: APIClient,
) -> None:
    """A request adds one to its view's counter and one observation to its histogram."""
    labels = {"view": "api:book-list", "method": "GET", "status": "200"}
    before = sample("django_http_requests_total", **labels)
    observed = sample("django_http_request_duration_seconds_count", **labels)

    assert api_client.get(LIST_URL).status_code == status.HTTP_200_OK

    assert sample("django_http_requests_total", **labels) == before + 1
    assert sample("django_http_request_duration_seconds_count", **labels) == observed + 1


def test_unmatched_paths_and_odd_methods_share_one_series(api_client: APIClient) -> None:
    """A client cannot add series: every unknown URL is one view, every odd method one method."""
    labels = {"view": metrics.UNMATCHED, "method": "other", "status": "404"}
    before = sample("django_http_requests_total", **labels)

    for path in ("/api/v1/no-such-thing/", "/api/v1/nor-this/"):
        assert api_client.generic("BREW", path).status_code == status.HTTP_404_NOT_FOUND

    assert sample("django_http_requests_total", **labels) == before + 2


def test_health_probes_are_not_counted(api_client: APIClient) -> None:
    """Probes are not traffic: /health/live adds to no series."""
    api_client.get(LIST_URL)  # at least one series exists
    before = total("django_http_requests_total")

    for path in ("/health/live", "/health/ready"):
        assert api_client.get(path).status_code == status.HTTP_200_OK

    assert total("django_http_requests_total") == before


def test_sql_statements_and_their_errors_are_counted() -> None:
    """Every statement adds one to its database's counter; one that raises adds an error."""
    BookFactory.create()
    before = sample("django_db_queries_total", alias="default")
    errors = total("django_db_query_errors_total")

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        with pytest.raises(DatabaseError):
            cursor.execute("SELECT * FROM no_such_table")

    assert sample("django_db_queries_total", alias="default") == before + 2
    assert total("django_db_query_errors_total") == errors + 1


def test_throttled_requests_are_counted_by_scope(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each 429 a throttle answers adds one to its scope's counter."""
    monkeypatch.setattr(AnonRateThrottle, "get_rate", lambda self: "2/minute")
    monkeypatch.setattr(AnonRateThrottle, "timer", lambda self: 1_000_000 * 60 + 30.0)
    before = sample("django_throttle_rejections_total", scope="anon")

    codes = [api_client.get(LIST_URL).status_code for _ in range(4)]

    assert codes.count(status.HTTP_429_TOO_MANY_REQUESTS) == 2
    assert sample("django_throttle_rejections_total", scope="anon") == before + 2


def queue_sample(status_name: str) -> float:
    families = {family.name: family for family in metrics.TaskQueueCollector().collect()}
    values = {
        (s.labels["queue"], s.labels["status"]): s.value for s in families["django_tasks"].samples
    }
    return values[("default", status_name)]


def test_the_task_queue_is_read_from_the_database_at_each_scrape(
    staff_client: APIClient, run_worker: Callable[[], None]
) -> None:
    """A queued import shows as one READY task until the worker runs it; the worker then
    counts it as finished SUCCESSFUL."""
    upload = SimpleUploadedFile("books.csv", b"title,author,isbn\nA,B,9780306406157\n", "text/csv")
    finished = {"task": "imports.tasks.import_books", "status": "SUCCESSFUL"}
    before = sample("django_tasks_finished_total", **finished)

    response = staff_client.post(reverse("api:import-list"), {"file": upload}, format="multipart")
    assert response.status_code == status.HTTP_202_ACCEPTED
    assert queue_sample("READY") == 1
    run_worker()

    assert queue_sample("READY") == 0
    assert queue_sample("RUNNING") == 0
    assert sample("django_tasks_finished_total", **finished) == before + 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_the_worker_serves_its_metrics_and_the_queue_on_a_port_of_its_own() -> None:
    """serve_worker_metrics answers scrapes on DJANGO_METRICS_PORT with this process's
    metrics and the queue read from the database."""
    port = free_port()

    metrics.serve_worker_metrics(port)

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    assert 'django_tasks{queue="default",status="READY"} 0.0' in text
    assert 'django_db_queries_total{alias="default"}' in text


def test_a_metrics_port_in_use_is_logged_and_the_worker_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A port that is taken is an error in the log naming the setting, not a crash."""
    with socket.socket() as taken, caplog.at_level(logging.ERROR):
        # Every address, as the metrics server binds.
        taken.bind(("0.0.0.0", 0))  # noqa: S104
        taken.listen()
        metrics.serve_worker_metrics(taken.getsockname()[1])

    assert "Set DJANGO_METRICS_PORT to a free port" in caplog.text


def test_with_a_multiprocess_directory_the_worker_serves_the_files_sums(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PROMETHEUS_MULTIPROC_DIR set, what is served is summed from the files there
    (none yet), not this process's memory; the queue is read from the database still."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    names = {family.name for family in metrics.registry().collect()}

    assert "django_tasks" in names
    assert "django_http_requests" not in names
