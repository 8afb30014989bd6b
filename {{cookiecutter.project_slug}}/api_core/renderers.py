"""DRF's browsable API, with the inline code of DRF's page made to pass SECURE_CSP."""

from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """The browsable API from api_core/templates/api_core/browsable_api.html: DRF's page
    with the nonce on its code-colouring styles and a "Log out" that needs no script."""

    template = "api_core/browsable_api.html"
