"""The OpenAPI schema and its documentation pages."""

from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from rest_framework import status

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def test_schema_is_valid_and_warning_free(schema: dict[str, Any]) -> None:
    """`spectacular --validate --fail-on-warn` passes and yields OpenAPI 3."""
    assert schema["openapi"].startswith("3.")


def test_schema_documents_every_book_operation(schema: dict[str, Any]) -> None:
    """Every book operation is in the schema."""
    assert set(schema["paths"]["/api/v1/books/"]) >= {"get", "post"}
    assert set(schema["paths"]["/api/v1/books/{id}/"]) >= {"get", "put", "patch", "delete"}


def test_schema_documents_authentication(schema: dict[str, Any]) -> None:
    """The security schemes are declared, and writes require one."""
    schemes = schema["components"]["securitySchemes"]
    assert "cookieAuth" in schemes
    assert len(schemes) == 2
    post = schema["paths"]["/api/v1/books/"]["post"]
    assert {"cookieAuth": []} in post["security"]


def test_schema_documents_pagination_and_filters(schema: dict[str, Any]) -> None:
    """The list takes page, page_size, the filters, search and ordering."""
    names = {p["name"] for p in schema["paths"]["/api/v1/books/"]["get"]["parameters"]}
    assert names >= {
        "page",
        "page_size",
        "author",
        "isbn",
        "created_after",
        "created_before",
        "search",
        "ordering",
    }


def test_schema_documents_error_responses(schema: dict[str, Any]) -> None:
    """Errors are documented with the shared Error shape."""
    responses = schema["paths"]["/api/v1/books/"]["post"]["responses"]
    for code in ("400", "401", "403", "413", "429"):
        ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/Error"
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {
        "status",
        "code",
        "detail",
    }


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_are_served_from_the_project(client: Client, path: str) -> None:
    """The docs pages load their scripts from this site's static files, not a CDN."""
    response = client.get(path)

    assert response.status_code == status.HTTP_200_OK
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn." not in page
    assert "unpkg.com" not in page


def test_api_index_lists_versions_and_docs(client: Client) -> None:
    """/api/ says where each version and the documentation are."""
    response = client.get("/api/")

    assert response.status_code == status.HTTP_200_OK
    body = response.json()
    assert body["versions"] == {"v1": "http://testserver/api/v1/"}
    assert body["docs"] == "http://testserver/api/docs/"
