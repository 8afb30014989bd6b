"""The API documentation pages, Swagger UI and ReDoc, each under the narrowest
Content-Security-Policy it works with (settings SWAGGER_UI_CSP and REDOC_CSP)."""

from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


# drf-spectacular's split view serves Swagger UI's start-up script from its own
# URL (?script), so the page has no inline script to allow.
@method_decorator(csp_override(settings.SWAGGER_UI_CSP), name="dispatch")
class SwaggerUIView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar's static files; its page styles in a static file too."""

    template_name = "api_core/swagger_ui.html"


@method_decorator(csp_override(settings.REDOC_CSP), name="dispatch")
class RedocView(SpectacularRedocView):
    """ReDoc from the sidecar's static files, started by a static script that hands it the
    request's CSP nonce for the styles it injects, and loading nothing from other hosts."""

    template_name = "api_core/redoc.html"
