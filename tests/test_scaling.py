"""More than one process: throttle counts shared through Redis hold across gunicorn workers.

A default bake is served by gunicorn with 5 workers (asked for through
gunicorn's own GUNICORN_CMD_ARGS, and counted), and 200 anonymous
requests arrive within one throttle window. With production settings and
REDIS_URL pointing at the machine's Redis (a database index of its own),
exactly the configured 60 get through; with development settings and no
REDIS_URL (each worker counting alone, which production refuses), more do,
which shows the requests really were spread over the workers.
"""

from collections.abc import Callable, Iterator

import pytest

from tests.support import bake, record_stat, require_server
from tests.support.gunicorn import RATE, REDIS, REDIS_URL, WORKERS, gunicorn_served, let_through

pytestmark = pytest.mark.slow


@pytest.fixture
def gunicorn(cookies: object, tools_venv: object) -> Iterator[Callable[[dict[str, str]], str]]:
    with gunicorn_served(bake(cookies, database="sqlite")) as serve:
        yield serve


def test_throttle_is_exact_across_workers_with_a_shared_cache(
    gunicorn: Callable[[dict[str, str]], str],
) -> None:
    """REDIS_URL: 60/minute lets exactly 60 of 200 requests through 5 workers; each worker
    counting alone lets more through."""
    require_server("Redis", REDIS["host"], REDIS["port"])

    shared = let_through(gunicorn({"REDIS_URL": REDIS_URL}))
    alone = let_through(gunicorn({"DJANGO_SETTINGS_MODULE": "config.settings.local"}))

    assert shared == RATE
    assert alone > RATE
    record_stat(
        "throttle",
        {f"{WORKERS} workers, shared cache": shared, f"{WORKERS} workers, per process": alone},
    )
