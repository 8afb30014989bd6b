"""Contract tests: the API keeps the promises of its own OpenAPI schema.

schemathesis reads /api/schema/, generates requests for every operation
(valid input, and input the schema forbids), sends them to the application in process,
and checks each response: never a server error, status code, headers and
body exactly as the schema documents them, valid input accepted and invalid
input refused. Each request sees the same three books (its changes are rolled
back after it). Every operation runs twice:
anonymously and as a staff user. The Hypothesis profile sets how many
requests (tests/conftest.py): a few by default, the full budget in CI and
with `make test-full`; SCHEMATHESIS_MAX_EXAMPLES overrides the number of
generated requests per operation.
"""

import os
from collections.abc import Iterator
from typing import Any, cast

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

from books.isbn import isbn13_check_digit
from books.models import Book
from tests.credentials import authorization_for
from tests.factories import BookFactory, UserFactory

# Generated requests per operation: the loaded Hypothesis profile's budget
# (tests/conftest.py), unless SCHEMATHESIS_MAX_EXAMPLES says otherwise.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES") or settings().max_examples)
# What the schema promises, for the valid and the invalid requests generated
# alike: input the schema allows is accepted (a 2xx, or a 401, 403, 404, 409
# or 429: credentials, permissions and existence are not the input's fault),
# and input it forbids (a type, pattern or bound) is refused.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.ignored_auth,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.positive_data_acceptance,
]
# The one exemption: an import's file is CSV or JSON Lines of books, which a
# schema's `format: binary` cannot describe, so a generated file is rightly
# refused (tests/test_imports.py sends the files that are accepted).
NOT_DESCRIBED_BY_A_SCHEMA = {("POST", "/api/v1/imports/")}
# Longer usernames cannot be stored (the generated one is given to a user).
USERNAME_MAX_LENGTH = cast(int, User._meta.get_field("username").max_length)


@st.composite
def isbns(draw: st.DrawFn) -> str:
    """Valid ISBNs as people type them: an ISBN-10 or ISBN-13 (978 or 979), with or
    without a hyphen or space between digits, 17 characters at most."""
    if draw(st.booleans()):
        nine = draw(st.text("0123456789", min_size=9, max_size=9))
        check = -sum(w * int(d) for w, d in zip(range(10, 1, -1), nine, strict=True)) % 11
        digits = nine + ("X" if check == 10 else str(check))
    else:
        twelve = draw(st.sampled_from(["978", "979"])) + draw(
            st.text("0123456789", min_size=9, max_size=9)
        )
        digits = twelve + isbn13_check_digit(twelve)
    gaps = draw(st.sets(st.integers(1, len(digits) - 1), max_size=17 - len(digits)).map(sorted))
    separator = draw(st.sampled_from("- "))
    for position in reversed(gaps):
        digits = digits[:position] + separator + digits[position:]
    return digits


# `format: isbn` (the schema's name for what its pattern cannot say: the check digit).
schemathesis.openapi.format("isbn", isbns())
# Generating the schema touches no database, so it can load at collection.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# No U+0000 in generated text: every text field and filter refuses it with a 400
# ("Null characters are not allowed", DRF's rule: no database stores it in text),
# which the README states; a schema has no word for it short of a pattern on
# every string.
schema.config.generation.update(allow_x00=False)


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Iterator[None]:
    """Stop Django closing the database connection after each request, as its test client does.

    Requests go through the real WSGI handler, whose request_finished signal
    would close the connection that holds the test's transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def some_books(db: None) -> None:
    """A few books for the generated requests to find, change and delete."""
    BookFactory.create_batch(3)


# The rest (phases, randomness, example database) comes from the profile.
CONTRACT_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@schema.parametrize()
@CONTRACT_SETTINGS
def test_api_conforms_to_its_schema_anonymously(case: Any) -> None:
    """Without credentials: no 5xx, every response conforms to the schema, valid input
    is accepted and invalid input refused."""
    send(case, headers={})


@schema.parametrize()
@CONTRACT_SETTINGS
def test_api_conforms_to_its_schema_as_staff(case: Any) -> None:
    """As a staff user, who may do everything: no 5xx, every response conforms, valid
    input is accepted and invalid input refused."""
    send(case, headers={"Authorization": authorization_for(staff_user())})


def send(case: Any, headers: dict[str, str]) -> None:
    """Send ``case`` and check its response, then roll back what it changed."""
    checks = CHECKS
    if (case.method, case.path) in NOT_DESCRIBED_BY_A_SCHEMA:
        checks = [c for c in CHECKS if c is not schemathesis.checks.positive_data_acceptance]
    with transaction.atomic():
        if case.meta is not None and case.meta.generation.mode.is_positive:
            make_room_for(case)
        case.call_and_validate(headers=headers, checks=checks)
        transaction.set_rollback(True)


def make_room_for(case: Any) -> None:
    """Make the stored data fit valid input: what a schema cannot say is which ISBNs are
    free, which username and password belong to a user, and which cursors the API made."""
    body = case.body if isinstance(case.body, dict) else {}
    if case.path == "/api/v1/auth/token/" and {"username", "password"} <= body.keys():
        # As the API reads it: DRF strips the username, not the password.
        username = body["username"].strip()
        assume(len(username) <= USERNAME_MAX_LENGTH)
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(body["password"])
        user.is_active = True
        user.save()
    query = case.query if isinstance(case.query, dict) else {}
    if "cursor" in query:
        # A generated cursor is garbage, rightly refused: an empty one (the first page) is
        # a valid one, and a cursor goes without a page number.
        query["cursor"] = ""
        query.pop("page", None)
    if case.path.startswith("/api/v1/books/") and isinstance(body.get("isbn"), str):
        # A book already holding the ISBN is another book: it leaves the catalogue.
        others = Book.objects.filter(isbn=body["isbn"])
        target = (case.path_parameters or {}).get("id")
        if target is not None:
            others = others.exclude(pk=target)
        others.delete()


def staff_user() -> Any:
    return UserFactory.create(username="contract-staff", is_staff=True)
