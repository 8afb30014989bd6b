"""The security headers Django does not choose by itself: the Content-Security-Policy
of responses that are not HTML, and Permissions-Policy on every response."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.csp import CSP, build_policy


class SecurityHeadersMiddleware:
    """Send API_CSP on every response that is not HTML and PERMISSIONS_POLICY on all.

    It sits inside Django's ContentSecurityPolicyMiddleware, which then sends
    SECURE_CSP (or a view's @csp_override) on the HTML pages and leaves the
    policy set here alone: it never replaces a Content-Security-Policy header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.api_policy = build_policy(settings.API_CSP)
        self.permissions_policy = ", ".join(
            f"{feature}={allowlist}" for feature, allowlist in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault(str(CSP.HEADER_ENFORCE), self.api_policy)
        if self.permissions_policy:
            response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        return response
