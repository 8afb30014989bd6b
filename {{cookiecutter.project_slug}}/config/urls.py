"""Root URLs: the website at /, the API under /api/, the admin at /admin/."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from api_core.docs import RedocView, SwaggerUIView
from api_core.views import api_index

urlpatterns = [
    path("", include("books.urls")),
    path("api/", api_index, name="api-index"),
{%- if cookiecutter.app_layout == "split" %}
    path("api/v1/", include("api.urls")),
{%- else %}
    path("api/v1/", include("books.api.urls")),
{%- endif %}
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerUIView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("api-auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
]

# Errors under /api/ are JSON of the shared shape; elsewhere Django's pages.
handler400 = "api_core.errors.bad_request"
handler403 = "api_core.errors.permission_denied"
handler404 = "api_core.errors.not_found"
handler500 = "api_core.errors.server_error"
