"""Whether this worker was asked to stop: a long task checks between steps and hands over.

On SIGTERM or SIGINT (``docker compose stop``, a rollout) the worker lets
its running task finish before it exits, and the container runtime kills it
after its grace period. A long task need not make the stop wait for it:
between two checkpoints it asks ``requested()`` and, if so, queues its own
continuation and returns (imports/tasks.py does), so the next worker resumes.
"""

import threading

_requested = threading.Event()


def requested() -> bool:
    """Whether the worker running this task is stopping."""
    return _requested.is_set()


def request() -> None:
    """Record that the worker is stopping (its signal handler calls this)."""
    _requested.set()
