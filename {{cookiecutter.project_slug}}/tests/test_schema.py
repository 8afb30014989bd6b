"""The OpenAPI schema and its documentation pages."""

import re
import tomllib
from io import StringIO
from typing import Any
from unittest.mock import ANY

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from rest_framework import status

from api_core.errors import ERROR_CODES
from imports.serializers import ImportUploadSerializer

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


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation in the schema, with its path and method."""
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_token_endpoints_ask_for_no_credentials(schema: dict[str, Any]) -> None:
    """Getting a token needs no credentials: no security requirement, nor one for the schema."""
    auth = [op for path, _, op in operations(schema) if path.startswith("/api/v1/auth/")]

    assert auth
    assert "security" not in schema
    for operation in auth:
        assert operation["security"] == [], operation["operationId"]


def test_every_operation_has_a_summary_and_a_described_tag(schema: dict[str, Any]) -> None:
    """Docs and generated clients show a one-line summary of each operation, under a tag
    the schema describes."""
    tags = {tag["name"] for tag in schema["tags"] if tag["description"]}

    for _, _, operation in operations(schema):
        assert operation["summary"], operation["operationId"]
        assert set(operation["tags"]) <= tags, operation["operationId"]


def test_schema_names_its_server_contact_and_licence(schema: dict[str, Any]) -> None:
    """The server is the site serving the schema; contact and licence come from pyproject.toml."""
    project = tomllib.loads((settings.BASE_DIR / "pyproject.toml").read_text(encoding="utf-8"))
    author = project["project"]["authors"][0]

    assert schema["servers"] == [{"url": "/", "description": ANY}]
    assert schema["info"]["contact"] == {"name": author["name"], "email": author["email"]}
    if "license" in project["project"]:
        assert schema["info"]["license"]["name"] == project["project"]["license"]
    else:
        assert schema["info"]["license"]["name"].startswith("Proprietary")


def test_schema_bounds_what_the_api_refuses(schema: dict[str, Any]) -> None:
    """page and page_size are bounded as the API bounds them, the ISBN has its pattern."""
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/books/"]["get"]["parameters"]}
    isbn = schema["components"]["schemas"]["BookRequest"]["properties"]["isbn"]

    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert "allowEmptyValue" not in parameters["page_size"]
    assert parameters["author"]["allowEmptyValue"] is True
    assert isbn["maxLength"] == 17
    for shape in ("978-0-306-40615-7", "978 0 306 40615 7", "0-306-40615-2", "080442957x"):
        assert re.fullmatch(isbn["pattern"], shape), shape
    for shape in ("978--0-306-40615-7", "-0-306-40615-2", "97803064061X7", "12345"):
        assert not re.fullmatch(isbn["pattern"], shape), shape


def test_reads_take_credentials_optionally_and_writes_require_them(
    schema: dict[str, Any],
) -> None:
    """Reads list the schemes and `{}` (anonymous works too); writes list the schemes alone."""
    books = schema["paths"]["/api/v1/books/"]
    book = schema["paths"]["/api/v1/books/{id}/"]

    for read in (books["get"], book["get"], schema["paths"]["/api/"]["get"]):
        assert {} in read["security"]
        assert {"cookieAuth": []} in read["security"]
    for write in (books["post"], book["put"], book["patch"], book["delete"]):
        assert {} not in write["security"]
        assert {"cookieAuth": []} in write["security"]


def test_request_bodies_are_json_only_but_the_import_file(schema: dict[str, Any]) -> None:
    """Every request body has one type, as client generators need: JSON, but for the file of
    an import, a multipart form whose file part is binary."""
    bodies = {
        operation["operationId"]: set(operation["requestBody"]["content"])
        for _, _, operation in operations(schema)
        if "requestBody" in operation
    }
    upload = schema["paths"]["/api/v1/imports/"]["post"]["requestBody"]

    assert bodies.pop("imports_create") == {"multipart/form-data"}
    assert bodies
    assert bodies == {operation: {"application/json"} for operation in bodies}
    assert upload["required"] is True
    form = upload["content"]["multipart/form-data"]["schema"]["$ref"].rpartition("/")[2]
    assert schema["components"]["schemas"][form]["properties"]["file"] == {
        "type": "string",
        "format": "binary",
        "description": ImportUploadSerializer().fields["file"].help_text,
    }


def test_error_code_is_an_enum_of_every_code(schema: dict[str, Any]) -> None:
    """The error body's `code` is the ErrorCode enum, which lists ERROR_CODES in order."""
    schemas = schema["components"]["schemas"]

    assert schemas["Error"]["properties"]["code"]["allOf"] == [
        {"$ref": "#/components/schemas/ErrorCode"}
    ]
    assert schemas["ErrorCode"]["enum"] == [code for code, _ in ERROR_CODES]


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


def test_schema_documents_cursor_pages(schema: dict[str, Any]) -> None:
    """``cursor`` is a documented string that may be empty; the count is numbered pages'
    only, so it is not required, and says so."""
    operation = schema["paths"]["/api/v1/books/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    page_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    paginated = schema["components"]["schemas"][page_schema["$ref"].rpartition("/")[2]]

    assert parameters["cursor"]["schema"] == {"type": "string"}
    assert parameters["cursor"]["allowEmptyValue"] is True
    assert "empty for the first page" in parameters["cursor"]["description"]
    assert "count" not in paginated["required"]
    assert (
        "a cursor page (`?cursor=`) has no count" in paginated["properties"]["count"]["description"]
    )


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
