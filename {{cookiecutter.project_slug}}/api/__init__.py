"""The REST API over the catalogue: serializers, views and URLs, no models of its own."""
