"""The token URL, under the API's namespace (api:token): a username and password buy a token."""

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.settings import api_settings

# DRF's view has no docstring to describe it.
TokenView = extend_schema_view(
    post=extend_schema(
        summary="Get a token",
        description="Takes a username and password and returns the user's token, "
        "the same one on every call until it is deleted.",
    )
)(ObtainAuthToken)

urlpatterns = [
    # The project's parsers (JSON only, nesting bounded), not the view's own
    # list; no authentication, as simplejwt's views: a stale Authorization
    # header cannot block getting a new token, and the schema asks for none.
    # The project's throttles too: DRF's view has none, which would leave
    # password guessing unlimited here.
    path(
        "auth/token/",
        TokenView.as_view(
            parser_classes=api_settings.DEFAULT_PARSER_CLASSES,
            authentication_classes=[],
            throttle_classes=api_settings.DEFAULT_THROTTLE_CLASSES,
        ),
        name="token",
    ),
]
