"""CORS: no browser origin may call the API unless configured."""

from django.test import Client, override_settings


def test_no_origin_is_allowed_by_default(client: Client) -> None:
    """Without DJANGO_CORS_ALLOWED_ORIGINS, a cross-origin browser gets no CORS header."""
    response = client.get("/api/", HTTP_ORIGIN="https://evil.example")

    assert "Access-Control-Allow-Origin" not in response


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"])
def test_configured_origin_is_allowed(client: Client) -> None:
    """A listed origin gets the CORS header on API responses."""
    response = client.get("/api/", HTTP_ORIGIN="https://app.example")

    assert response["Access-Control-Allow-Origin"] == "https://app.example"
