"""Authentication by DRF's database tokens (`Authorization: Token ...`), used by base.py."""

# The app that stores one token per user, and the scheme's authentication class.
AUTH_APPS = ["rest_framework.authtoken"]
AUTH_CLASSES = ["rest_framework.authentication.TokenAuthentication"]
# The API description's paragraph on getting and sending credentials.
AUTH_DESCRIPTION = (
    "POST a username and password to `/api/v1/auth/token/` and send `Authorization: Token <token>`."
)
# Error codes beyond DRF's own: token authentication raises only DRF's.
AUTH_ERROR_CODES: tuple[tuple[str, str], ...] = ()
