"""Content-Security-Policy and Permissions-Policy (README.md, "Security headers").

Django's ContentSecurityPolicyMiddleware sends SECURE_CSP on the HTML pages;
api_core/security_headers.py sends API_CSP on every other response and
PERMISSIONS_POLICY on all; the documentation pages (api_core/docs.py) send
SWAGGER_UI_CSP and REDOC_CSP. Widen a policy here, one directive at a time.
"""

from django.utils.csp import CSP

# What base.py takes (not CSP itself, which is no setting).
__all__ = ["API_CSP", "PERMISSIONS_POLICY", "REDOC_CSP", "SECURE_CSP", "SWAGGER_UI_CSP"]

# Every HTML page (admin, website, browsable API) loads scripts, styles,
# images and fonts from this site only, inline ones only with the request's
# nonce (the csp_nonce_attr tag), and no other site may frame it.
# https://docs.djangoproject.com/en/6.1/ref/csp/
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
# Every response that is not HTML (the API's JSON, static files): nothing to
# load, never framed (api_core/security_headers.py).
API_CSP: dict[str, list[str]] = {"default-src": [CSP.NONE], "frame-ancestors": [CSP.NONE]}
# The documentation pages (api_core/docs.py), each with what it needs and no
# more. Swagger UI: its icons are data: images; "Try it out" calls this site.
SWAGGER_UI_CSP: dict[str, list[str]] = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
# ReDoc: it adds <style> elements, with the nonce once started; the two
# hashes are its scrollbar stylesheet, which its bundle adds as it loads
# (before the nonce can reach it), empty and then filled. Its search runs in
# a worker that it makes from a blob: URL.
REDOC_CSP: dict[str, list[str]] = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [
        CSP.NONCE,
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    ],
    "img-src": ["data:"],
    "connect-src": [CSP.SELF],
    "worker-src": ["blob:"],
    "form-action": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
# Permissions-Policy on every response: browser features that no page here
# uses, refused to it and to anything it frames (feature: allowlist, as sent).
PERMISSIONS_POLICY = {
    feature: "()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
