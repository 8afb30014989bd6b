"""Traces (OpenTelemetry) and error reports (Sentry): each off until its variables are set.

Traces start when an OTLP endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT``
or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), unless ``OTEL_SDK_DISABLED=true``
or ``OTEL_TRACES_EXPORTER=none``; the SDK reads every other ``OTEL_*``
variable itself (service name, sampler, headers). Django, SQL and Redis are
instrumented, an incoming W3C ``traceparent`` is continued, and each log line
of a traced request carries ``trace_id`` and ``span_id`` (request_log.py).

Error reports start when ``SENTRY_DSN`` is set: an unhandled error becomes one
event tagged with the request's id and trace id. Headers that carry
credentials, cookies and the values of the secret settings are scrubbed
before it leaves the process.

Both start in each process that serves or works (``ApiCoreConfig.ready``),
after gunicorn has forked it: the exporters' threads do not survive a fork.
"""

import os
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.text import slugify

from api_core import request_log
from api_core.request_log import current_request_id, current_trace

if TYPE_CHECKING:
    from sentry_sdk._types import Event

# Probes are not traffic (nor are they in the metrics).
UNTRACED_URLS = "health/live,health/ready"
SCRUBBED = "[Filtered]"
# Request keys Sentry does not filter by default, where a frame holds the WSGI environ.
CREDENTIAL_KEYS = ["http_authorization", "http_cookie", "http_x_api_key", "remote_user"]


def tracing_wanted() -> bool:
    """Whether the standard OTEL_* variables ask for traces."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    return bool((endpoint or "").strip())


def start_tracing() -> None:
    """Export spans over OTLP/HTTP, and instrument Django, the database and Redis."""
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", ""
    )
    if protocol.strip() not in ("", "http/protobuf"):
        raise ImproperlyConfigured(
            f"OTEL_EXPORTER_OTLP_PROTOCOL (or its _TRACES_ form) is {protocol!r}; this "
            "project sends traces over OTLP/HTTP only. Set it to http/protobuf (and the "
            "endpoint to the collector's port 4318)."
        )
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from api_core.database_tracing import DatabaseInstrumentor

    # The project's slug names the service, unless the environment names it.
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    resource = Resource.create({} if named else {SERVICE_NAME: slugify(settings.PROJECT_NAME)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(
        excluded_urls=os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS", UNTRACED_URLS)
    )
    DatabaseInstrumentor().instrument()
    RedisInstrumentor().instrument()
    request_log.current_span_ids = span_ids


def span_ids() -> tuple[str, str] | None:
    """The current span's trace id (32 hex digits) and span id (16), as W3C writes them."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def secret_values() -> list[str]:
    """Values that must never leave the process: the key and every password in the settings."""
    values = [settings.SECRET_KEY, *(db.get("PASSWORD") for db in settings.DATABASES.values())]
    redis_url = getattr(settings, "REDIS_URL", "")
    if "@" in redis_url:
        values.append(redis_url.split("://", 1)[-1].rsplit("@", 1)[0].rpartition(":")[2])
    return [value for value in values if value and len(value) >= 4]


def scrub(value: Any, secrets: list[str]) -> Any:
    """``value`` with every secret replaced, in strings at any depth."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, SCRUBBED)
        return value
    if isinstance(value, dict):
        return {key: scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item, secrets) for item in value]
    return value


def before_send(event: "Event", hint: dict[str, Any]) -> "Event":
    """Tag the event with the request id and trace id; take every secret value out of it."""
    tags = event.setdefault("tags", {})
    tags["request_id"] = current_request_id.get()
    trace_ids = current_trace.get()
    if trace_ids:
        tags["trace_id"], tags["span_id"] = trace_ids
    return scrub(event, secret_values())


def start_error_reports() -> None:
    """Send unhandled errors to Sentry (SENTRY_DSN; SENTRY_ENVIRONMENT, SENTRY_RELEASE)."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        integrations=[DjangoIntegration()],
        # No user, IP address, cookies or credential headers in events.
        send_default_pii=False,
        event_scrubber=EventScrubber(
            denylist=[*DEFAULT_DENYLIST, *CREDENTIAL_KEYS], recursive=True
        ),
        before_send=before_send,
    )


def start() -> None:
    """Start what the environment asks for; nothing when it asks for nothing."""
    if tracing_wanted():
        start_tracing()
    if os.environ.get("SENTRY_DSN", "").strip():
        start_error_reports()
