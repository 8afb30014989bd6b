"""gunicorn settings for the image's CMD, which listens on 0.0.0.0:$PORT.

GUNICORN_CMD_ARGS overrides them, e.g. "--workers 8 --timeout 60"; gunicorn checks it.
"""

import multiprocessing

# Processes x threads = concurrent requests; the defaults suit a small container.
workers = min(multiprocessing.cpu_count() * 2 + 1, 4)
threads = 2
timeout = 30  # seconds before a stuck request's worker is restarted
graceful_timeout = 20
keepalive = 5
max_requests = 1000  # then a worker restarts, so that a slow leak cannot grow unbounded
max_requests_jitter = 100
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
