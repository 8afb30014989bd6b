"""gunicorn settings for the image's CMD, which listens on 0.0.0.0:$PORT.

GUNICORN_CMD_ARGS overrides them, e.g. "--workers 8 --timeout 60"; gunicorn checks it.
The master also serves the workers' metrics, added up, on DJANGO_METRICS_PORT
(api_core/metrics.py), apart from the API's port.
"""

import multiprocessing
import os
import select
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

from config.env import metrics_port

# The threaded worker (gthread), whose own refusals below are JSON like the API's errors.
worker_class = "config.gunicorn_workers.JsonErrorWorker"
# Processes x threads = concurrent requests; the defaults suit a small container.
workers = min(multiprocessing.cpu_count() * 2 + 1, 4)
threads = 2
timeout = 30  # seconds before a stuck request's worker is restarted
# After SIGTERM, requests in flight get this long to finish; docker-compose.yml's
# stop_grace_period and Kubernetes' terminationGracePeriodSeconds are longer.
graceful_timeout = 20
keepalive = 5
# What gunicorn reads before Django: over these it answers 414 (request line)
# or 431 (headers) itself. The same as deploy/nginx.conf's
# large_client_header_buffers (8k a line), so that a request nginx passes on
# is not refused here; 8190 is the most gunicorn allows for a line.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Workers are not recycled: a recycled worker comes back cold (its first
# requests import and compile again) while kept-alive clients pile onto the
# other, which cost a third of the throughput under load, and 60,000 requests
# showed no memory growth to recycle for. If your code leaks, recycle with
# GUNICORN_CMD_ARGS="--max-requests 1000 --max-requests-jitter 100".
max_requests = 0
# Heartbeat files in memory, not on the container's overlay filesystem.
worker_tmp_dir = "/dev/shm"  # noqa: S108
# No control socket: the image's user has no home directory to put it in.
control_socket_disable = True
# No access log: Django's (api_core/request_log.py) writes one JSON line per
# request with its id. gunicorn's own lines are JSON too, and its error
# logger stops propagating so that Django's root logger does not repeat them.
accesslog = None
errorlog = "-"
logconfig_dict = {
    "formatters": {"generic": {"()": "api_core.request_log.JsonFormatter"}},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}

# Metrics: each worker writes its counts to files in this directory, and the
# master sums them at each scrape, so a restarted worker's counts stay counted.
# Set before any worker imports prometheus-client; kept across a reload (HUP).
_metrics_port = metrics_port()
_made_metrics_dir = ""
if _metrics_port and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # In memory, like the heartbeat files, under a name no other user can guess.
    shm = "/dev/shm"  # noqa: S108
    _made_metrics_dir = tempfile.mkdtemp(prefix="metrics-", dir=shm if os.path.isdir(shm) else None)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made_metrics_dir


def on_starting(server: Any) -> None:
    """Start from no counts: files left by an earlier run would be added in."""
    if _metrics_port:
        for path in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
            path.unlink()


def when_ready(server: Any) -> None:
    """Serve the sum of every worker's metrics, from the master (which handles no request)."""
    if not _metrics_port:
        return
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    try:
        start_http_server(_metrics_port, registry=registry)
    except OSError as error:
        server.log.error(
            "Metrics are not served on port %s (%s). Set DJANGO_METRICS_PORT to a free "
            "port, or to 0 for none.",
            _metrics_port,
            error,
        )
        return
    server.log.info("Metrics served on port %s", _metrics_port)


def child_exit(server: Any, worker: Any) -> None:
    """Let prometheus-client drop a dead worker's live gauges (its counters stay)."""
    if _metrics_port:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """Remove the metrics directory this file made."""
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)


def post_worker_init(worker: Any) -> None:
    """On SIGTERM, stop listening at once, then finish what was accepted.

    gunicorn's threaded worker stops accepting on SIGTERM but closes its
    listening socket only once its last request is done: connections made
    meanwhile (a client reconnecting after "Connection: close", a proxy
    trying this replica) wait in the kernel's queue and are reset when the
    worker exits. Closing it first makes them refused instead, which a client
    or nginx retries elsewhere; those already queued are accepted and served.
    """
    method_queue = getattr(worker, "method_queue", None)
    if method_queue is None or not hasattr(worker, "set_accept_enabled"):
        # Not the threaded worker (another --worker-class): gunicorn's own behaviour.
        worker.log.info("%s: the listening socket closes only as it exits", type(worker))
        return
    stop = signal.getsignal(signal.SIGTERM)
    deferred = False

    def handle_term(signum: int, frame: Any) -> None:
        nonlocal deferred
        if callable(stop):
            stop(signum, frame)
        if not deferred:
            deferred = True
            # Done by the worker's main loop, which owns the sockets.
            method_queue.defer(_stop_listening, worker)

    signal.signal(signal.SIGTERM, handle_term)
    # As gunicorn sets it: SIGTERM does not interrupt a request's system calls.
    signal.siginterrupt(signal.SIGTERM, False)


def _stop_listening(worker: Any) -> None:
    """Accept the connections already queued on the worker's sockets, then close them."""
    worker.set_accept_enabled(False)
    for listener in worker.sockets:
        try:
            while select.select([listener], [], [], 0)[0]:
                # Served like any other, with "Connection: close" since the worker stops.
                worker.accept(listener)
        except OSError as error:
            worker.log.warning("Accepting before closing %s: %s", listener, error)
        listener.close()
