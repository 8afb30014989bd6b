"""Traces and error reports: off unless asked for, and what leaves the process."""

import logging
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
