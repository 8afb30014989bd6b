"""gunicorn's own limits answer in the API's JSON error body, and let through what Django takes.

A SQLite bake under gunicorn (production settings, config/gunicorn.py as
shipped) gets requests over the limits gunicorn checks before Django does:
a request line over 8190 bytes is a 414 ``uri_too_long``, a header over 8190
bytes or more than 100 headers a 431 ``headers_too_large``, a request line
that is not HTTP a 400 ``bad_request``, each with ``Content-Type:
application/json``. A URL of 6000 bytes (over gunicorn's default 4094)
reaches Django, and so does a JSON body over Django's own limit, which
answers its 413. The same cases through the replicas' nginx are in
tests/test_restarts.py.
"""

from pathlib import Path

import pytest
from pytest_cookies.plugin import Cookies

from tests.support import bake, record_stat, require_server
from tests.support.gunicorn import REDIS, REDIS_URL, gunicorn_served
from tests.support.limits import JSON_BODY_LIMIT, LINE_LIMIT, over_the_limits, summary
from tests.support.restarts import UNTHROTTLED

pytestmark = pytest.mark.slow


def test_gunicorn_answers_over_its_limits_in_the_api_json(
    cookies: Cookies, tools_venv: Path
) -> None:
    """414, 431 and 400 from gunicorn itself, in the API's shape; what is under its
    limits reaches Django."""
    require_server("Redis", REDIS["host"], REDIS["port"])
    with gunicorn_served(bake(cookies, database="sqlite"), workers=2) as serve:
        answers = over_the_limits(serve({"REDIS_URL": REDIS_URL, **UNTHROTTLED}))

    # Under gunicorn's limits, over its defaults: Django's page of books.
    long_url = answers["URL of 6000 bytes"]
    assert (long_url.status, long_url.content_type) == (200, "application/json")
    assert long_url.body["results"] == []
    # gunicorn's own refusals, each naming the limit it set.
    assert answers["URL of 9000 bytes"].is_api_error("uri_too_long")
    assert str(LINE_LIMIT) in answers["URL of 9000 bytes"].body["detail"]
    assert answers["header of 9000 bytes"].is_api_error("headers_too_large")
    assert answers["101 headers"].is_api_error("headers_too_large")
    assert answers["garbage request line"].is_api_error("bad_request")
    # No body limit in gunicorn: Django's own 413, and its 401 before it reads an upload.
    json_body = answers["JSON body of 3 MiB"]
    assert json_body.is_api_error("request_too_large")
    assert str(JSON_BODY_LIMIT) in json_body.body["detail"]
    assert answers["upload declared 12 MiB"].is_api_error("not_authenticated")
    record_stat(
        "limits", {f"gunicorn: {case}": answer for case, answer in summary(answers).items()}
    )
