"""API URLs, mounted under /api/v1/ by config.urls."""

from django.urls import path
{%- if cookiecutter.api_auth == "token" %}
from rest_framework.authtoken.views import ObtainAuthToken
{%- endif %}
from rest_framework.routers import DefaultRouter
{%- if cookiecutter.api_auth == "token" %}
from rest_framework.settings import api_settings
{%- else %}
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView
{%- endif %}

from .views import BookViewSet

app_name = "api"

router = DefaultRouter()
router.register("books", BookViewSet, basename="book")

urlpatterns = [
{%- if cookiecutter.api_auth == "token" %}
    # The project's parsers (JSON only, nesting bounded), not the view's own
    # list; no authentication, as simplejwt's views: a stale Authorization
    # header cannot block getting a new token, and the schema asks for none.
    path(
        "auth/token/",
        ObtainAuthToken.as_view(
            parser_classes=api_settings.DEFAULT_PARSER_CLASSES, authentication_classes=[]
        ),
        name="token",
    ),
{%- else %}
    path("auth/token/", TokenObtainPairView.as_view(), name="token"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
{%- endif %}
    *router.urls,
]
