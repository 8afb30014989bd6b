"""gunicorn configuration, read from the environment (the Docker image's CMD uses it).

https://docs.gunicorn.org/en/stable/settings.html
"""

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Processes x threads = concurrent requests; the defaults suit a small container.
workers = int(os.environ.get("GUNICORN_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 4)))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# A request still running after this many seconds is killed and its worker restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Heartbeat files in memory, not on the container's overlay filesystem.
worker_tmp_dir = "/dev/shm"  # noqa: S108
# No access log here: Django's access logger (api_core/request_log.py) writes one
# JSON line per request with its id; gunicorn's format is text substitution,
# which cannot give valid JSON (a quote in a path breaks it).
accesslog = None
errorlog = "-"
# gunicorn's own lines (start-up, worker restarts and timeouts) as JSON too, so
# that everything the container prints parses the same way. gunicorn merges
# these keys over its defaults: its "generic" formatter becomes JSON, its
# error logger stops propagating (the root logger, Django's console once the
# app loads, would print each line again) and its access logger, which any
# logconfig_dict turns back on, has nowhere to write.
logconfig_dict = {
    "formatters": {
        "generic": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "{levelname}{name}{message}",
            "style": "{",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        },
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
# No control socket (gunicornc): the image's user has no home directory to
# put it in, and containers are managed by their orchestrator.
control_socket_disable = True
# Restart workers now and then so that a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = 100
