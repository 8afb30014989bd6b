"""Metrics, traces and error reports of a bake served by gunicorn, checked with the real tools.

A SQLite bake runs under gunicorn with 4 workers and production settings. A
real Prometheus server (Debian's package) scrapes the master's metrics port;
stand-ins for an OpenTelemetry collector and a Sentry server keep what the
real SDKs send and decode it (tests/support/telemetry.py). A URL that raises
is added to the bake for these tests only, to have unhandled errors to count
and report.
"""

import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support import bake, free_port, record_stat, require_server, require_tool, wait_for
from tests.support.gunicorn import REDIS, Gunicorn, gunicorn_served
from tests.support.telemetry import decoded_body, envelope_items, receiving, spans

pytestmark = pytest.mark.slow

WORKERS = 4
BOOKS = "/api/v1/books/"
FAILING = "/api/v1/failing/"
# A database index of its own on the machine's Redis (throttle counts).
REDIS_URL = f"redis://{REDIS['host']}:{REDIS['port']}/13"
# Added to the bake by the fixture: the project's URLs plus one that raises.
FAILING_URLS = '''
"""The project's URLs and one that raises, for the observability tests only."""

from django.urls import path

from config.urls import *  # noqa: F403
from config.urls import urlpatterns as project_urlpatterns


def failing(request):
    secret_key = __import__("django.conf").conf.settings.SECRET_KEY  # a local Sentry must not send
    raise RuntimeError(f"failing on purpose ({len(secret_key)})")


urlpatterns = [path("api/v1/failing/", failing, name="failing"), *project_urlpatterns]
'''
FAILING_SETTINGS = '''
"""Production settings, with the URLs of failing_urls.py."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "failing_urls"
'''


@pytest.fixture(scope="module")
def gunicorn(cookies_session: Any, tools_venv: object) -> Iterator[Gunicorn]:
    require_server("Redis", REDIS["host"], REDIS["port"])
    project = bake(cookies_session, database="sqlite")
    (project / "failing_urls.py").write_text(FAILING_URLS)
    (project / "failing_settings.py").write_text(FAILING_SETTINGS)
    with gunicorn_served(project, workers=WORKERS) as serve:
        yield serve


def observed(**extra: str) -> dict[str, str]:
    """The environment of a served bake under test: the failing URL, no throttling in the way."""
    return {
        "DJANGO_SETTINGS_MODULE": "failing_settings",
        "REDIS_URL": REDIS_URL,
        "DJANGO_THROTTLE_ANON": "100000/minute",
        **extra,
    }


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A request on a connection of its own (so that requests spread over the workers)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def send(base: str, path: str, count: int) -> list[int]:
    """``count`` requests from 8 clients at once; their status codes."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return [status for status, _, _ in pool.map(get, [f"{base}{path}"] * count)]


def require_prometheus() -> str:
    """Debian's Prometheus server; skip without it, with the reason, but fail under CI."""
    return require_tool(
        ("prometheus",),
        "Prometheus is not installed (Debian: apt-get install prometheus)",
        "run this test, and .ci/run installs it",
    )


class Prometheus:
    """A Prometheus server's HTTP API: instant queries, and waiting for scrapes."""

    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, promql: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{query}", timeout=10) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return answer["data"]["result"]  # type: ignore[no-any-return]

    def value(self, promql: str) -> float | None:
        """The query's single value, or None when it has none (no series yet)."""
        result = self.query(promql)
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else None

    def scraped_twice_more(self, job: str, timeout: float = 30) -> None:
        """Wait until two more scrapes of ``job`` have ended since the call."""
        first = self.value(f'timestamp(up{{job="{job}"}})') or 0.0
        deadline = time.monotonic() + timeout
        seen = {first}
        while len(seen) < 3:
            assert time.monotonic() < deadline, f"Prometheus did not scrape {job} twice more"
            time.sleep(0.3)
            seen.add(self.value(f'timestamp(up{{job="{job}"}})') or 0.0)

    def settled(self, promql: str, expected: float, timeout: float = 60) -> float | None:
        """The query's value once it is ``expected``, or the last one seen at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.value(promql)
            if found == expected or time.monotonic() > deadline:
                return found
            time.sleep(0.3)


@contextmanager
def prometheus_scraping(targets: dict[str, int], tmp: Path) -> Iterator[Prometheus]:
    """A real Prometheus server scraping each job's 127.0.0.1 port every second."""
    binary = require_prometheus()
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
            for job, port in targets.items()
        ],
    }
    (tmp / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = free_port()
    log = (tmp / "prometheus.log").open("w")
    server = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(f"{url}/-/ready", 60, server), (tmp / "prometheus.log").read_text()[-2000:]
        yield Prometheus(url)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def test_prometheus_counts_every_request_exactly_across_workers(
    gunicorn: Gunicorn, tmp_path: Path
) -> None:
    """Prometheus scraping gunicorn's master sees exactly the requests sent to its 4
    workers, and their 5xx: in the counter, in the latency histogram, and still after a
    worker is killed and replaced."""
    metrics_port = free_port()
    files = tmp_path / "multiproc"
    files.mkdir()
    base = gunicorn(
        observed(DJANGO_METRICS_PORT=str(metrics_port), PROMETHEUS_MULTIPROC_DIR=str(files))
    )
    books, failing, more = 300, 7, 50

    with prometheus_scraping({"web": metrics_port}, tmp_path) as prometheus:
        assert set(send(base, BOOKS, books)) == {200}
        assert set(send(base, FAILING, failing)) == {500}
        # Each worker that answered keeps its counts in a file of its own.
        answered = len(list(files.glob("counter_*.db")))
        assert answered >= 2, f"the requests reached {answered} of {WORKERS} workers"
        sent = books + failing

        assert prometheus.settled("sum(django_http_requests_total)", sent) == sent
        prometheus.scraped_twice_more("web")
        assert prometheus.value("sum(django_http_requests_total)") == sent
        assert prometheus.value("sum(django_http_request_duration_seconds_count)") == sent
        assert prometheus.value('sum(django_http_requests_total{status=~"5.."})') == failing
        error_rate = prometheus.value(
            'sum(django_http_requests_total{status=~"5.."}) / sum(django_http_requests_total)'
        )
        assert error_rate == pytest.approx(failing / sent)

        master = gunicorn.masters[base]
        victim = worker_pids(master)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while victim in worker_pids(master) or len(worker_pids(master)) < WORKERS:
            assert time.monotonic() < deadline, "gunicorn did not replace the killed worker"
            time.sleep(0.2)
        prometheus.scraped_twice_more("web")
        after_kill = prometheus.value("sum(django_http_requests_total)")
        assert after_kill == sent

        assert set(send(base, BOOKS, more)) == {200}
        total = prometheus.settled("sum(django_http_requests_total)", sent + more)
        assert total == sent + more
        assert prometheus.value("sum(django_http_request_duration_seconds_count)") == sent + more

    record_stat(
        "metrics",
        {
            f"requests sent to {WORKERS} workers": sent + more,
            "Prometheus counted": total,
            "after a worker was killed": after_kill,
            "5xx counted": failing,
            "workers with counts": answered,
        },
    )


def traceparent() -> tuple[str, str, str]:
    """A caller's W3C traceparent header, with its trace id and span id."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def log_lines(log: Path, request_id: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("request_id") == request_id]


def test_a_request_continues_the_callers_trace_through_sql_and_redis(
    gunicorn: Gunicorn, tmp_path: Path
) -> None:
    """With OTEL_EXPORTER_OTLP_ENDPOINT set, a request carrying a traceparent gives spans of
    that trace: Django's (a child of the caller's span), the SQL queries' and Redis's (its
    children), exported over OTLP/HTTP; each log line of the request has the trace id."""
    header, trace_id, parent_id = traceparent()
    request_id = uuid.uuid4().hex
    log = tmp_path / "gunicorn.log"

    with receiving() as collector:
        base = gunicorn(
            observed(
                OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
                OTEL_SERVICE_NAME="library-under-test",
                OTEL_BSP_SCHEDULE_DELAY="100",
            ),
            log=log,
        )
        status, _, _ = get(
            f"{base}{BOOKS}?search=zola", {"traceparent": header, "X-Request-ID": request_id}
        )
        assert status == 200
        python = Path(gunicorn.python)

        def trace() -> list[dict[str, Any]]:
            posts = collector.posts("/v1/traces")
            found = spans(python, posts, tmp_path) if posts else []
            return [span for span in found if span["traceId"] == trace_id]

        deadline = time.monotonic() + 30
        while not {"SPAN_KIND_SERVER", "SPAN_KIND_CLIENT"} <= {s.get("kind") for s in trace()}:
            assert time.monotonic() < deadline, f"no server and client spans: {trace()}"
            time.sleep(0.3)
        # Let the exporter send the rest of the request's spans.
        time.sleep(1)
        found = trace()

    servers = [span for span in found if span.get("kind") == "SPAN_KIND_SERVER"]
    assert len(servers) == 1, found
    server = servers[0]
    assert server["parentSpanId"] == parent_id
    assert server["name"].startswith("GET"), server["name"]
    children = [span for span in found if span.get("parentSpanId") == server["spanId"]]
    systems = {
        attribute["value"].get("stringValue")
        for span in children
        for attribute in span.get("attributes", [])
        if attribute["key"] == "db.system"
    }
    assert {"sqlite", "redis"} <= systems, children
    service = {
        attribute["key"]: attribute["value"].get("stringValue")
        for attribute in server["resource"].get("attributes", [])
    }
    assert service["service.name"] == "library-under-test"

    lines = log_lines(log, request_id)
    assert lines, log.read_text()[-3000:]
    assert {line.get("trace_id") for line in lines} == {trace_id}
    access = [line for line in lines if line["logger"] == "access"]
    assert [line["span_id"] for line in access] == [server["spanId"]]
    record_stat("traces", {"spans of one request": len(found), "db.system": sorted(systems)})


def test_an_unhandled_error_is_one_sentry_event_without_secrets(
    gunicorn: Gunicorn, tmp_path: Path
) -> None:
    """With SENTRY_DSN set, an error in a view is one event carrying the request id and the
    trace id; the Authorization header, the cookies and the secret key are nowhere in what
    was sent."""
    header, trace_id, _ = traceparent()
    request_id = uuid.uuid4().hex
    secret_key = secrets.token_urlsafe(50)
    token = secrets.token_hex(20)
    session, csrf = secrets.token_hex(16), secrets.token_hex(16)

    with receiving() as sentry, receiving() as collector:
        base = gunicorn(
            observed(
                SENTRY_DSN=f"http://public@127.0.0.1:{sentry.port}/42",
                DJANGO_SECRET_KEY=secret_key,
                OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
            )
        )
        status, _, body = get(
            f"{base}{FAILING}",
            {
                "traceparent": header,
                "X-Request-ID": request_id,
                "Authorization": f"Token {token}",
                "Cookie": f"sessionid={session}; csrftoken={csrf}",
            },
        )
        assert status == 500
        assert json.loads(body)["code"] == "server_error"
        sentry.wait_for("/api/42/envelope/", 1)
        time.sleep(2)  # time for a second event, were there one
        posts = sentry.posts("/api/42/")

    events = [
        json.loads(payload)
        for post in posts
        for item, payload in envelope_items(post)
        if item.get("type") == "event"
    ]
    assert len(events) == 1, events
    event = events[0]
    assert event["tags"]["request_id"] == request_id
    assert event["tags"]["trace_id"] == trace_id
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    sent = b"".join(decoded_body(post) for post in posts).decode()
    leaked = [name for name, value in [("token", token), ("sessionid", session),
              ("csrftoken", csrf), ("SECRET_KEY", secret_key)] if value in sent]  # fmt: skip
    assert leaked == []
    record_stat("error reports", {"events for one error": len(events), "secrets sent": 0})


def test_a_bake_without_the_variables_sends_nothing(gunicorn: Gunicorn, tmp_path: Path) -> None:
    """No OTEL_* or SENTRY_DSN: requests and errors send nothing to the OTLP default endpoint
    (localhost:4318), and log lines carry no trace id."""
    log = tmp_path / "gunicorn.log"
    with receiving(4318) as collector:
        base = gunicorn(observed(), log=log)
        request_id = uuid.uuid4().hex
        assert get(f"{base}{BOOKS}", {"X-Request-ID": request_id})[0] == 200
        assert set(send(base, FAILING, 3)) == {500}
        time.sleep(2)  # longer than the exporter's delay in the test above
        assert collector.received == []

    lines = log_lines(log, request_id)
    assert lines
    assert [line for line in lines if "trace_id" in line] == []
