"""Traces and error reports: off unless asked for, and what leaves the process."""

import gzip
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sentry_sdk
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from opentelemetry import trace

from api_core import request_log, telemetry


@pytest.fixture
def no_telemetry_variables(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "SENTRY_DSN",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_nothing_starts_without_the_variables(no_telemetry_variables: pytest.MonkeyPatch) -> None:
    """With no OTEL_* endpoint and no SENTRY_DSN, no tracer and no Sentry client run, and
    log records get no trace id."""
    assert telemetry.tracing_wanted() is False
    assert not isinstance(trace.get_tracer_provider(), _sdk_provider_class())
    assert sentry_sdk.get_client().is_active() is False
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "message", None, None)
    request_log.RequestIdFilter().filter(record)
    assert not hasattr(record, "trace_id")


def _sdk_provider_class() -> type:
    from opentelemetry.sdk.trace import TracerProvider

    return TracerProvider


@pytest.mark.parametrize(
    ("variables", "wanted"),
    [
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_SERVICE_NAME": "library"}, False),
    ],
)
def test_traces_are_wanted_only_with_an_endpoint(
    no_telemetry_variables: pytest.MonkeyPatch, variables: dict[str, str], wanted: bool
) -> None:
    """An OTLP endpoint turns traces on; the standard switches turn them off again."""
    for name, value in variables.items():
        no_telemetry_variables.setenv(name, value)

    assert telemetry.tracing_wanted() is wanted


def test_a_protocol_other_than_http_is_refused_by_name(
    no_telemetry_variables: pytest.MonkeyPatch,
) -> None:
    """OTLP over gRPC is not installed: start-up stops, naming the variable and the fix."""
    no_telemetry_variables.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")

    with pytest.raises(ImproperlyConfigured, match=r"OTEL_EXPORTER_OTLP_PROTOCOL .*http/protobuf"):
        telemetry.start_tracing()


@override_settings(SECRET_KEY="k" * 50, REDIS_URL="redis://:cache-password@cache:6379/0")
def test_an_event_is_tagged_and_every_secret_value_taken_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """before_send tags the event with the request's ids and replaces the secret key and
    every password wherever they appear, at any depth."""
    monkeypatch.setitem(settings.DATABASES["default"], "PASSWORD", "database-password")
    token = request_log.current_request_id.set("0123456789abcdef0123456789abcdef")
    trace_token = request_log.current_trace.set(("a" * 32, "b" * 16))
    frame_vars: dict[str, Any] = {
        "url": "dbms://app:database-password@db/app",
        "cache": ["redis://:cache-password@cache:6379/0"],
    }
    exception: Any = {"values": [{"stacktrace": {"frames": [{"vars": frame_vars}]}}]}
    try:
        event = telemetry.before_send(
            {"message": f"failed with {'k' * 50}", "exception": exception}, {}
        )
    finally:
        request_log.current_request_id.reset(token)
        request_log.current_trace.reset(trace_token)

    text = repr(event)
    assert "k" * 50 not in text
    assert "database-password" not in text
    assert "cache-password" not in text
    assert event["tags"] == {
        "request_id": "0123456789abcdef0123456789abcdef",
        "trace_id": "a" * 32,
        "span_id": "b" * 16,
    }


@contextmanager
def receiver() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """A local HTTP server keeping each POST (path, body), as a collector or Sentry would."""
    received: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def start_django(script: str, **variables: str) -> subprocess.Popen[str]:
    """Start ``script`` in a new process with the test settings and ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SENTRY_"))}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.test", **variables}
    prelude = "import django\ndjango.setup()\n"
    # This interpreter, and a script of the test's own.
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", prelude + script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


TRACED_REQUEST = """
import json, logging
from django.test import Client
from django.test.utils import setup_test_environment
from opentelemetry import trace
from api_core.request_log import RequestIdFilter

setup_test_environment()  # the test client's host name is allowed
records = []
keep = logging.Handler()
keep.emit = records.append
keep.addFilter(RequestIdFilter())
logging.getLogger("access").addHandler(keep)
header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
assert Client().get("/api/", HTTP_TRACEPARENT=header).status_code == 200
trace.get_tracer_provider().force_flush()
print(json.dumps([[r.trace_id, r.span_id] for r in records]))
"""


ERROR_REPORT = """
import sentry_sdk
from django.conf import settings
try:
    raise RuntimeError("failed with the key " + settings.SECRET_KEY)
except RuntimeError:
    sentry_sdk.capture_exception()
sentry_sdk.flush()
"""


# By script: how its process ended, and the (path, body) of each POST its receiver got.
Exported = dict[str, tuple[subprocess.CompletedProcess[str], list[tuple[str, bytes]]]]


@pytest.fixture(scope="module")
def exported() -> Exported:
    """The two scripts above, each in a process of its own with its own receiver, run side by
    side (each spends a second or two starting Django and the SDKs): their results and what
    their receivers got, by name."""
    with receiver() as (traces_url, traces), receiver() as (sentry_url, events):
        dsn = sentry_url.replace("http://", "http://public@") + "/1"
        started = {
            "trace": (start_django(TRACED_REQUEST, OTEL_EXPORTER_OTLP_ENDPOINT=traces_url), traces),
            "error": (start_django(ERROR_REPORT, SENTRY_DSN=dsn), events),
        }
        results: Exported = {}
        try:
            for name, (process, received) in started.items():
                stdout, stderr = process.communicate(timeout=120)
                done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
                results[name] = (done, received)
        finally:
            for process, _ in started.values():
                process.kill()
    return results


def finished(exported: Exported, name: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The output of the script ``name`` (which must have succeeded) and what its receiver got."""
    done, received = exported[name]
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, received


def test_a_traced_request_is_exported_and_its_log_lines_carry_the_trace(
    exported: Exported,
) -> None:
    """With an OTLP endpoint, a request carrying a traceparent is exported as a server span of
    that trace, a child of the caller's span; its access line has the trace and span ids."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    output, received = finished(exported, "trace")

    spans = []
    for path, body in received:
        assert path == "/v1/traces"
        export = ExportTraceServiceRequest.FromString(body)
        spans += [span for rs in export.resource_spans for s in rs.scope_spans for span in s.spans]
    server = [span for span in spans if span.kind == span.SPAN_KIND_SERVER]
    assert len(server) == 1, spans
    assert server[0].trace_id.hex() == "0af7651916cd43dd8448eb211c80319c"
    assert server[0].parent_span_id.hex() == "b7ad6b7169203331"
    assert json.loads(output) == [[server[0].trace_id.hex(), server[0].span_id.hex()]]


def test_an_error_report_is_sent_without_the_secret_key(
    exported: Exported,
) -> None:
    """With SENTRY_DSN, a captured error is one event, tagged with the request id, and the
    secret key in its message is replaced."""
    _, received = finished(exported, "error")

    bodies = b"".join(body for _, body in received)
    lines = [line for line in bodies.splitlines() if line.startswith(b"{")]
    events = [json.loads(line) for line in lines if b'"exception"' in line]
    assert len(events) == 1, bodies[:2000]
    assert events[0]["tags"]["request_id"] == "-"
    assert settings.SECRET_KEY.encode() not in bodies
    assert b"failed with the key [Filtered]" in bodies
