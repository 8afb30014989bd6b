"""The OpenAPI schema generator: drf-spectacular, plus the error responses of every operation."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from api_core.errors import ErrorSerializer
from api_core.pagination import PageNumberPagination

PAGINATION_PARAMETERS = {
    PageNumberPagination.page_query_param,
    PageNumberPagination.page_size_query_param,
}

# Status codes any operation can answer with, and when.
COMMON_ERRORS = {
    "401": "The credentials sent are invalid, or the operation needs some and none were sent.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such object, or no such page of a list.",
    "405": "The path does not take this method.",
    "406": "The Accept header asks for a format the API does not produce.",
    "429": "Too many requests; try again after the Retry-After header's seconds.",
    "503": "The database is unavailable; try again after the Retry-After header's seconds.",
}
# Operations that take input, in the query string or the body, can refuse it.
INVALID_INPUT = {"400": "Invalid input: see `errors` for the messages per field."}
# Operations that take a body can be sent one that is not JSON.
BODY_ERRORS = {
    "413": "The request body is larger than the server accepts.",
    "415": "The request body's Content-Type is not application/json.",
}


class ApiAutoSchema(AutoSchema):
    """Documents the shared error shape under every status code an operation may return,
    and an empty security requirement where an operation takes no credentials.

    The operation that ``get_operation`` builds gets the error responses it
    lacks, each a reference to the component that ``resolve_serializer``
    registers; ``_map_serializer_field``, the method drf-spectacular's docs
    name for extending a field's schema, adds what DRF's fields check but the
    default schema leaves out.
    """

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        # drf-spectacular's documented point for extending a field's default schema.
        schema: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and field.trim_whitespace
            and not field.allow_blank
            and schema.get("type") == "string"
            and "pattern" not in schema
        ):
            # DRF strips the value before checking it is not blank, so "  " is refused:
            # the schema says a character other than whitespace is needed.
            schema["pattern"] = r"\S"
        return schema

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:  # excluded from the schema
            return None
        # No scheme (the token endpoints): say so, `security: []`, rather than say nothing.
        operation.setdefault("security", [])
        for parameter in operation.get("parameters", []):
            # An empty filter, search or ordering (`?author=`, as a form sends) is no
            # filter; an empty page or page size is refused.
            if parameter["in"] == "query" and parameter["name"] not in PAGINATION_PARAMETERS:
                parameter["allowEmptyValue"] = True
        takes_body = "requestBody" in operation
        takes_query = any(p["in"] == "query" for p in operation.get("parameters", []))
        errors = dict(COMMON_ERRORS)
        if takes_body or takes_query:
            errors.update(INVALID_INPUT)
        if takes_body:
            errors.update(BODY_ERRORS)
        error = self.resolve_serializer(ErrorSerializer, "response")
        responses = operation["responses"]
        for code, description in sorted(errors.items()):
            content = {"application/json": {"schema": error.ref}}
            responses.setdefault(code, {"content": content, "description": description})
        return operation
