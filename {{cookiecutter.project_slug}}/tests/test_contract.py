"""Contract tests: the API keeps the promises of its own OpenAPI schema.

schemathesis reads /api/schema/, generates requests for every operation
(valid input, and input the schema forbids), sends them to the application in process,
and checks each response: never a server error, and status code, headers
and body exactly as the schema documents them. Every operation runs twice:
anonymously and as a staff user. The Hypothesis profile sets how many
requests (tests/conftest.py): a few by default, the full budget in CI and
with `make test-full`; SCHEMATHESIS_MAX_EXAMPLES overrides the number of
generated requests per operation.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from tests.credentials import authorization_for
from tests.factories import BookFactory, UserFactory

# Generated requests per operation: the loaded Hypothesis profile's budget
# (tests/conftest.py), unless SCHEMATHESIS_MAX_EXAMPLES says otherwise.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES") or settings().max_examples)
# What the schema promises, for the valid and the invalid requests generated
# alike: invalid input (a type, pattern or bound the schema forbids) is refused.
# Not positive_data_acceptance: the API rightly refuses some schema-valid input
# (an ISBN's check digit, an ISBN already in the catalogue, wrong credentials).
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.ignored_auth,
    schemathesis.checks.negative_data_rejection,
]


# Generating the schema touches no database, so it can load at collection.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


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
    """Without credentials: no 5xx, and every response conforms to the schema."""
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@CONTRACT_SETTINGS
def test_api_conforms_to_its_schema_as_staff(case: Any) -> None:
    """As a staff user, who may do everything: no 5xx, every response conforms."""
    case.call_and_validate(
        headers={"Authorization": authorization_for(staff_user())}, checks=CHECKS
    )


def staff_user() -> Any:
    return UserFactory.create(username="contract-staff", is_staff=True)
