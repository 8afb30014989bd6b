"""The API's front door at /api/: where each version and the documentation live."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse


@extend_schema(
    operation_id="api_index",
    summary="List the API versions and documentation pages",
    responses=inline_serializer(
        "ApiIndex",
        {
            "versions": serializers.DictField(child=serializers.URLField()),
            "schema": serializers.URLField(),
            "docs": serializers.URLField(),
            "redoc": serializers.URLField(),
        },
    ),
)
@api_view(["GET"])
@permission_classes([AllowAny])
def api_index(request: Request) -> Response:
    """The available API versions and documentation pages."""
    return Response(
        {
            "versions": {"v1": reverse("api:api-root", request=request)},
            "schema": reverse("schema", request=request),
            "docs": reverse("swagger-ui", request=request),
            "redoc": reverse("redoc", request=request),
        }
    )
