"""Content-Security-Policy and Permissions-Policy: the header each kind of page sends."""

import re

import pytest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from api_core.security_headers import SecurityHeadersMiddleware

pytestmark = pytest.mark.django_db

CSP = "Content-Security-Policy"
NONCE = re.compile(r"'nonce-([\w-]+)'")

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
HTML_POLICY = (
    "default-src 'none'; script-src 'self' 'nonce-…'; style-src 'self' 'nonce-…'; "
    "img-src 'self'; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SWAGGER_UI_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
REDOC_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'nonce-…' "
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='; img-src data:; "
    "connect-src 'self'; worker-src blob:; form-action 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "geolocation=(), gyroscope=(), hid=(), idle-detection=(), magnetometer=(), "
    "microphone=(), midi=(), payment=(), publickey-credentials-get=(), "
    "screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()"
)


def policy_and_nonce(header: str) -> tuple[str, str | None]:
    """The policy with its nonce shown as …, and the nonce (None without one)."""
    nonces = set(NONCE.findall(header))
    assert len(nonces) <= 1, f"more than one nonce in {header!r}"
    return NONCE.sub("'nonce-…'", header), next(iter(nonces), None)


@pytest.mark.parametrize(
    "path",
    ["/api/", "/api/v1/books/", "/api/v1/no-such-thing/", "/api/schema/", "/api/docs/?script"],
)
def test_responses_that_are_not_html_allow_nothing(client: Client, path: str) -> None:
    """The API's JSON (its errors too), the schema and Swagger UI's start-up script load
    nothing and are never framed."""
    response = client.get(path)

    assert not response["Content-Type"].startswith("text/html")
    assert response[CSP] == API_POLICY


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/admin/login/", "client"),
        ("/admin/", "admin_client"),
        ("/admin/books/book/add/", "admin_client"),
        ("/", "client"),
    ],
)
def test_html_pages_allow_this_site_and_their_own_nonce(
    request: pytest.FixtureRequest, path: str, who: str
) -> None:
    """The admin and the website load only this site's files, and inline code only with
    the nonce that the header names."""
    response = request.getfixturevalue(who).get(path)

    policy, nonce = policy_and_nonce(response[CSP])
    assert policy == HTML_POLICY
    assert f'nonce="{nonce}"' in response.content.decode()


def test_the_browsable_api_passes_the_html_policy(admin_client: Client) -> None:
    """DRF's page: the HTML policy, the nonce on its code colouring, and "Log out" as a
    form's button rather than an inline onclick, which the policy refuses."""
    response = admin_client.get(reverse("api:book-list"), HTTP_ACCEPT="text/html")

    policy, nonce = policy_and_nonce(response[CSP])
    assert policy == HTML_POLICY
    page = response.content.decode()
    assert f'<style nonce="{nonce}">' in page
    assert "onclick" not in page
    assert '<button type="submit" class="btn btn-link">Log out</button>' in page


def test_swagger_ui_gets_its_own_policy_and_no_inline_code(client: Client) -> None:
    """Swagger UI's page runs only this site's scripts and styles, its start-up script
    included, and shows data: icons."""
    response = client.get(reverse("swagger-ui"))

    assert response[CSP] == SWAGGER_UI_POLICY
    page = response.content.decode()
    assert "<script>" not in page
    assert "<style>" not in page
    assert 'src="/api/docs/?script="' in page


def test_redoc_gets_its_own_policy_and_the_nonce_for_its_styles(client: Client) -> None:
    """ReDoc's page: this site's scripts, styles only with the nonce (which the page hands
    to ReDoc) or the two known hashes, search in a blob: worker, no fonts from elsewhere."""
    response = client.get(reverse("redoc"))

    policy, nonce = policy_and_nonce(response[CSP])
    assert policy == REDOC_POLICY
    page = response.content.decode()
    assert f'<style nonce="{nonce}">' in page
    assert re.search(rf'<script src="/static/api_core/redoc.js" nonce="{nonce}"', page)
    assert "<script>" not in page
    assert "https://" not in page


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/api/v1/books/", "application/json"),
        ("/api/v1/books/", "text/html"),
        ("/admin/login/", "text/html"),
        ("/api/docs/", "text/html"),
        ("/api/redoc/", "text/html"),
        ("/", "text/html"),
    ],
)
def test_every_response_turns_off_browser_features(client: Client, path: str, accept: str) -> None:
    """Camera, microphone, geolocation, payment and the other features no page uses are
    refused to every page and to anything it frames."""
    response = client.get(path, HTTP_ACCEPT=accept)

    assert response["Permissions-Policy"] == PERMISSIONS_POLICY


def test_a_policy_that_a_response_has_is_kept() -> None:
    """A view that sends its own Content-Security-Policy on JSON keeps it."""

    def view(request: HttpRequest) -> HttpResponse:
        response = JsonResponse({})
        response[CSP] = "default-src 'self'"
        return response

    response = SecurityHeadersMiddleware(view)(RequestFactory().get("/api/"))

    assert response[CSP] == "default-src 'self'"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
