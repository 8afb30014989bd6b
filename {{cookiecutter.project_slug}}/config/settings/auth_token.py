"""Authentication settings for DRF's database tokens (`Authorization: Token ...`).

config.settings.base builds INSTALLED_APPS, REST_FRAMEWORK and the API
description from these; api_core.errors adds AUTH_ERROR_CODES to its list.
https://www.django-rest-framework.org/api-guide/authentication/#tokenauthentication
"""

# The app that stores one token per user.
AUTH_APPS = ["rest_framework.authtoken"]

# The scheme's authentication class; REST_FRAMEWORK tries it before sessions.
AUTH_CLASSES = ["rest_framework.authentication.TokenAuthentication"]

# The API description's paragraph on getting and sending credentials.
AUTH_DESCRIPTION = (
    "POST a username and password to `/api/v1/auth/token/` and send "
    "`Authorization: Token <token>`.\n\n"
)

# Error codes beyond DRF's own: token authentication raises only DRF's.
AUTH_ERROR_CODES: tuple[tuple[str, str], ...] = ()
