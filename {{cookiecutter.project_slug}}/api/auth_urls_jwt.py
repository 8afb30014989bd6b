"""The JWT URLs, under the API's namespace (api:token, api:token-refresh): obtain and refresh."""

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

ObtainView = extend_schema_view(post=extend_schema(summary="Get an access and a refresh token"))(
    TokenObtainPairView
)
RefreshView = extend_schema_view(post=extend_schema(summary="Refresh an access token"))(
    TokenRefreshView
)

urlpatterns = [
    path("auth/token/", ObtainView.as_view(), name="token"),
    path("auth/token/refresh/", RefreshView.as_view(), name="token-refresh"),
]
