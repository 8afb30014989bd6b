"""The OpenAPI schema generator: DRF-spectacular, plus the error responses of every operation."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from config.errors import ErrorSerializer

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
INPUT_ERRORS = {
    "400": "Invalid input: see `errors` for the messages per field.",
    "415": "The request body's Content-Type is not one the operation accepts.",
}
BODY_ERRORS = {
    "413": "The request body is larger than the server accepts.",
}


class ApiAutoSchema(AutoSchema):
    """Documents the shared error shape under every status code an operation may return."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        errors = dict(COMMON_ERRORS)
        if self.method in {"POST", "PUT", "PATCH"} or self._is_list_view():
            errors.update(INPUT_ERRORS)
        if self.method in {"POST", "PUT", "PATCH"}:
            errors.update(BODY_ERRORS)
        for code, description in sorted(errors.items()):
            responses.setdefault(
                code,
                self._get_response_for_code(
                    OpenApiResponse(response=ErrorSerializer, description=description), code
                ),
            )
        return responses
