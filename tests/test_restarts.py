"""Restarts fail no request: gunicorn drains on SIGTERM, and replicas restart in turn.

16 keep-alive clients (tests/support/load.py) load a bake while it stops:

- one gunicorn (a SQLite bake, production settings, 2 workers) gets
  SIGTERM: every request sent is answered, each connection ends with a
  "Connection: close" response and then finds the port refused, never
  reset; gunicorn exits 0 within its graceful timeout;
- a PostgreSQL bake with compose.replicas.yml (three replicas behind nginx):
  reads and writes through nginx while each replica in turn is restarted
  with `docker restart` (its own 30 s stop timeout) and serves again: no
  request fails, no connection to nginx is refused, and every book created
  is in the database once. The same stack then gets the requests over
  the front servers' limits (tests/support/limits.py): nginx refuses in
  the API's JSON body, and lets Django answer whatever Django takes.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_cookies.plugin import Cookies

from tests.support import Combination, bake, record_stat, require_server
from tests.support.docker import Compose, replicas_stack, require_docker
from tests.support.gunicorn import REDIS, gunicorn_served
from tests.support.limits import JSON_BODY_LIMIT, over_the_limits, summary
from tests.support.restarts import (
    CONNECTIONS,
    GRACEFUL_TIMEOUT,
    REDIS_URL,
    UNTHROTTLED,
    rolling_restart_under_load,
    sigterm_under_load,
)

pytestmark = pytest.mark.slow

# Clear of the other docker tests' ports (test_docker.py's replicas use 60).
OFFSET = 83


def test_gunicorn_answers_every_request_it_accepted_after_sigterm(
    cookies: Cookies, tools_venv: Path
) -> None:
    """SIGTERM under load: no request fails; connections end with "Connection: close",
    then refused; exit status 0 before the graceful timeout."""
    require_server("Redis", REDIS["host"], REDIS["port"])
    with gunicorn_served(bake(cookies, database="sqlite"), workers=2) as serve:
        base = serve({"REDIS_URL": REDIS_URL, **UNTHROTTLED})
        figures = sigterm_under_load(base, serve.processes[base])

    tally = figures.tally
    assert (tally.failed, tally.failures) == (0, [])
    assert tally.sent > 300
    assert set(tally.statuses) == {200}
    # Every client was told, then found the port closed: none waited in a queue.
    assert tally.closed_by_server >= CONNECTIONS
    assert tally.refused == CONNECTIONS
    assert figures.exit_code == 0
    assert figures.seconds < GRACEFUL_TIMEOUT
    record_stat(
        "restarts",
        {
            "gunicorn SIGTERM: sent": tally.sent,
            "gunicorn SIGTERM: failed": tally.failed,
            "s": figures.seconds,
            "slowest s": round(tally.slowest, 2),
        },
    )


@pytest.fixture
def replicas(cookies: Cookies, tools_venv: Path) -> Iterator[Compose]:
    """Three replicas of 2 workers behind nginx, nothing throttled."""
    require_docker()
    project = bake(cookies, **Combination("postgresql", "split").context)
    with replicas_stack(
        project, OFFSET, {"GUNICORN_CMD_ARGS": "--workers 2", **UNTHROTTLED}
    ) as stack:
        yield stack


def test_rolling_restart_behind_the_proxy_fails_no_request(replicas: Compose) -> None:
    """Each replica restarted in turn under reads and writes: none fails, none refused,
    every book created stored once."""
    figures = rolling_restart_under_load(replicas)

    tally = figures.tally
    assert (tally.failed, tally.failures) == (0, [])
    assert tally.refused == 0
    assert figures.replicas == 3
    assert set(tally.statuses) == {200, 201}
    assert figures.books_in_database == figures.books_created > 0
    record_stat(
        "restarts",
        {"rolling restart: sent": tally.sent, "rolling restart: failed": tally.failed,
         "restart s": figures.restart_seconds, "slowest answer s": round(tally.slowest, 2)},
    )  # fmt: skip
    # The stack is up: its proxy's limits next, rather than a stack of their own.
    proxy_answers_over_the_limits(replicas.url(""))


def proxy_answers_over_the_limits(base: str) -> None:
    """Through nginx: its own refusals in the API's JSON, Django's answers passed on."""
    answers = over_the_limits(base)
    long_url = answers["URL of 6000 bytes"]
    assert (long_url.status, long_url.content_type) == (200, "application/json")
    # nginx's refusals (deploy/nginx.conf's error_page), in 8 KiB buffers.
    for case, code in (
        ("URL of 9000 bytes", "uri_too_long"),
        ("header of 9000 bytes", "headers_too_large"),
        ("garbage request line", "bad_request"),
        ("upload declared 12 MiB", "request_too_large"),
    ):
        assert answers[case].is_api_error(code), (case, answers[case])
    assert "8 KiB" in answers["URL of 9000 bytes"].body["detail"]
    assert "11 MiB" in answers["upload declared 12 MiB"].body["detail"]
    # Passed on: gunicorn's count of headers, and Django's body limit under nginx's.
    assert answers["101 headers"].is_api_error("headers_too_large")
    assert "100 headers" in answers["101 headers"].body["detail"]
    json_body = answers["JSON body of 3 MiB"]
    assert json_body.is_api_error("request_too_large")
    assert str(JSON_BODY_LIMIT) in json_body.body["detail"]
    record_stat("limits", {f"nginx: {case}": answer for case, answer in summary(answers).items()})
