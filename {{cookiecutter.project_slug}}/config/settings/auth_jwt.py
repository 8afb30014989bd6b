"""Authentication by JSON Web Tokens (simplejwt), used by base.py: short-lived access
tokens, and refresh tokens that rotate and cannot be used twice.
https://django-rest-framework-simplejwt.readthedocs.io/en/latest/settings.html
"""

from datetime import timedelta

from environs import validate

from config.env import env

# The blacklist that refuses a refresh token used once already, and the
# scheme's authentication class.
AUTH_APPS = ["rest_framework_simplejwt.token_blacklist"]
AUTH_CLASSES = ["rest_framework_simplejwt.authentication.JWTAuthentication"]
# The API description's paragraph on getting and sending credentials.
AUTH_DESCRIPTION = (
    "POST a username and password to `/api/v1/auth/token/` for an access and a "
    "refresh token; send `Authorization: Bearer <access>`; POST the refresh "
    "token to `/api/v1/auth/token/refresh/` for new ones (each refresh token "
    "works once)."
)
# The codes simplejwt's views and authentication class put in their errors.
AUTH_ERROR_CODES: tuple[tuple[str, str], ...] = (
    ("no_active_account", "No active account has the username and password sent."),
    ("token_not_valid", "The token is invalid or expired, or a refresh token was used already."),
    ("bad_authorization_header", "The Authorization header is not `Bearer <token>`."),
    ("user_not_found", "The token's user no longer exists."),
    ("user_inactive", "The token's user is inactive."),
    ("password_changed", "The user's password changed after the token was issued."),
)

# Lifetimes of at least 1: a token that expires as it is issued is no token.
access_minutes = env.int("DJANGO_JWT_ACCESS_MINUTES", 5, validate=validate.Range(min=1))
refresh_days = env.int("DJANGO_JWT_REFRESH_DAYS", 1, validate=validate.Range(min=1))
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=access_minutes),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=refresh_days),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}
