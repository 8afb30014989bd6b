"""Validate the answers before anything is written.

Each rule is one small function that returns an error message, or None when
the answer is fine. ``main()`` runs them in order and stops at the first
failure, printing one line:

    ERROR: <answer>: <what is wrong>. <how to fix it>

Cookiecutter removes the output directory when this hook exits non-zero, so a
rejected bake leaves nothing behind.
"""

import json
import keyword
import re
import sys
import zoneinfo
from collections.abc import Callable
from typing import Final

# Every answer is read once, here, through JSON so that quotes, backslashes
# and newlines in free text cannot break this file.
ANSWERS: Final[dict[str, str]] = {
    "project_name": json.loads(r'''{{ cookiecutter.project_name | tojson }}'''),
    "project_slug": json.loads(r'''{{ cookiecutter.project_slug | tojson }}'''),
    "description": json.loads(r'''{{ cookiecutter.description | tojson }}'''),
    "author_name": json.loads(r'''{{ cookiecutter.author_name | tojson }}'''),
    "email": json.loads(r'''{{ cookiecutter.email | tojson }}'''),
    "version": json.loads(r'''{{ cookiecutter.version | tojson }}'''),
    "python_version": json.loads(r'''{{ cookiecutter.python_version | tojson }}'''),
    "database": json.loads(r'''{{ cookiecutter.database | tojson }}'''),
    "app_layout": json.loads(r'''{{ cookiecutter.app_layout | tojson }}'''),
    "api_auth": json.loads(r'''{{ cookiecutter.api_auth | tojson }}'''),
    "open_source_license": json.loads(r'''{{ cookiecutter.open_source_license | tojson }}'''),
    "timezone": json.loads(r'''{{ cookiecutter.timezone | tojson }}'''),
}

CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "python_version": ("3.13", "3.12", "3.14"),
    "database": ("postgresql", "sqlite", "mysql"),
    "app_layout": ("split", "single"),
    "api_auth": ("token", "jwt"),
    "open_source_license": (
        "MIT",
        "BSD-3-Clause",
        "Apache-2.0",
        "GPL-3.0",
        "Not open source",
    ),
}

# Top-level names the baked project imports or defines: a slug equal to one
# of them would shadow it on sys.path.
RESERVED_SLUGS: Final[frozenset[str]] = frozenset(
    {
        "api",
        "api_core",
        "books",
        "config",
        "tests",
        "test",
        "django",
        "rest_framework",
        "dj_database_url",
        "dotenv",
        "environs",
        "marshmallow",
        "django_filters",
        "drf_spectacular",
        "drf_spectacular_sidecar",
        "corsheaders",
        "rest_framework_simplejwt",
        "schemathesis",
        "hypothesis",
        "factory",
        "pytest",
        "pytest_django",
        "gunicorn",
        "whitenoise",
        "psycopg",
        "MySQLdb",
        "site",
        "manage",
        *sys.stdlib_module_names,
    }
)

# PEP 440, from the specification's appendix (public versions, no local part).
VERSION_PATTERN: Final = re.compile(
    r"""
    v?
    (?:(?:[0-9]+)!)?
    (?:[0-9]+(?:\.[0-9]+)*)
    (?:[-_\.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_\.]?(?:[0-9]+)?)?
    (?:(?:-(?:[0-9]+))|(?:[-_\.]?(?:post|rev|r)[-_\.]?(?:[0-9]+)?))?
    (?:[-_\.]?(?:dev)[-_\.]?(?:[0-9]+)?)?
    """,
    re.VERBOSE | re.IGNORECASE,
)
EMAIL_PATTERN: Final = re.compile(r"[^@\s\"'<>,;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")

Validator = Callable[[dict[str, str]], str | None]


def slug_is_identifier(answers: dict[str, str]) -> str | None:
    """The slug must be an ASCII Python identifier.

    Valid: ``library_api``. Invalid: ``library-api``, ``2books``, ``bibliothèque``.
    """
    slug = answers["project_slug"]
    if slug.isascii() and slug.isidentifier():
        return None
    return (
        f'project_slug "{slug}": is not a valid Python package name. '
        "Use lowercase ASCII letters, digits and underscores, starting with a letter, "
        'e.g. "library_api".'
    )


def slug_is_lowercase(answers: dict[str, str]) -> str | None:
    """The slug must be lowercase, as PEP 8 asks of package names.

    Valid: ``library_api``. Invalid: ``LibraryApi``.
    """
    slug = answers["project_slug"]
    if slug == slug.lower():
        return None
    return f'project_slug "{slug}": has uppercase letters. Use "{slug.lower()}" instead.'


def slug_is_not_keyword(answers: dict[str, str]) -> str | None:
    """The slug must not be a Python keyword.

    Valid: ``class_api``. Invalid: ``class``, ``match``.
    """
    slug = answers["project_slug"]
    if not (keyword.iskeyword(slug) or keyword.issoftkeyword(slug)):
        return None
    return f'project_slug "{slug}": is a Python keyword. Choose another name, e.g. "{slug}_api".'


def slug_does_not_shadow(answers: dict[str, str]) -> str | None:
    """The slug must not shadow a module the project imports or the standard library.

    Valid: ``library_api``. Invalid: ``django``, ``books``, ``json``.
    """
    slug = answers["project_slug"]
    if slug not in RESERVED_SLUGS:
        return None
    return (
        f'project_slug "{slug}": would shadow the module "{slug}" that the project imports. '
        f'Choose another name, e.g. "{slug}_service".'
    )


def project_name_is_present(answers: dict[str, str]) -> str | None:
    """The project name must have visible text.

    Valid: ``Library API``. Invalid: an empty or all-blank name.
    """
    name = answers["project_name"]
    if name.strip():
        return None
    return f'project_name "{name}": is empty. Give the project a name, e.g. "Library API".'


def email_is_valid(answers: dict[str, str]) -> str | None:
    """The email must look like an address.

    Valid: ``team@example.com``. Invalid: ``team``, ``team@localhost``, ``a b@example.com``.
    """
    email = answers["email"]
    if EMAIL_PATTERN.fullmatch(email):
        return None
    return f'email "{email}": is not a valid email address. Use one like "team@example.com".'


def version_is_pep440(answers: dict[str, str]) -> str | None:
    """The version must be a PEP 440 version.

    Valid: ``0.1.0``, ``1.0rc1``. Invalid: ``one``, ``1.0-final``, ``1..0``.
    """
    version = answers["version"]
    if VERSION_PATTERN.fullmatch(version):
        return None
    return f'version "{version}": is not a PEP 440 version. Use one like "0.1.0".'


def timezone_is_known(answers: dict[str, str]) -> str | None:
    """The time zone must be an IANA name that zoneinfo knows.

    Valid: ``UTC``, ``Europe/Paris``. Invalid: ``Paris``, ``GMT+2``.
    """
    name = answers["timezone"]
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return (
            f'timezone "{name}": is not an IANA time zone name. '
            'Use one like "UTC" or "Europe/Paris".'
        )
    return None


def choice_validator(field: str) -> Validator:
    """Build the rule that ``field`` is one of its offered choices.

    A command-line override (``database=oracle``) skips the prompt's list, so
    the list is checked again here. Valid: ``database=mysql``. Invalid:
    ``database=oracle``.
    """

    def validate(answers: dict[str, str]) -> str | None:
        value = answers[field]
        if value in CHOICES[field]:
            return None
        offered = ", ".join(f'"{choice}"' for choice in CHOICES[field])
        return f'{field} "{value}": is not one of the offered choices. Choose one of {offered}.'

    validate.__name__ = f"{field}_is_offered"
    validate.__doc__ = (
        f"{field} must be one of its offered choices.\n\n"
        f"Valid: ``{field}={CHOICES[field][0]}``. Invalid: ``{field}=other``."
    )
    return validate


VALIDATORS: Final[tuple[Validator, ...]] = (
    project_name_is_present,
    slug_is_identifier,
    slug_is_lowercase,
    slug_is_not_keyword,
    slug_does_not_shadow,
    email_is_valid,
    version_is_pep440,
    timezone_is_known,
    *(choice_validator(field) for field in CHOICES),
)


def first_error(answers: dict[str, str]) -> str | None:
    """Return the first rule's complaint about ``answers``, or None."""
    for validate in VALIDATORS:
        error = validate(answers)
        if error is not None:
            return error
    return None


def main() -> int:
    """Print the first error and return 1, or return 0 when every answer is valid."""
    error = first_error(ANSWERS)
    if error is None:
        return 0
    print(f"ERROR: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
