"""Validate the answers before anything is written.

Each rule is one small function that returns an error message, or None when
the answer is fine. ``main()`` runs them in order and stops at the first
failure, printing one line:

    ERROR: <answer>: <what is wrong>. <how to fix it>

Cookiecutter removes the output directory when this hook exits non-zero, so a
rejected bake leaves nothing behind.
"""

import json
import re
import sys
import zoneinfo
from collections.abc import Callable
from pathlib import Path
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

# cookiecutter names the template's folder in _repo_dir; cruft, which checks
# answers against cookiecutter.json's choices itself, does not.
CONTEXT: Final[dict[str, object]] = json.loads(r'''{{ cookiecutter | tojson }}''')


def offered_choices(context: dict[str, object]) -> dict[str, tuple[str, ...]]:
    """The choices cookiecutter.json offers, read from the template itself (its only list);
    none when the context names no template folder."""
    template_file = Path(str(context.get("_repo_dir", ""))) / "cookiecutter.json"
    if not context.get("_repo_dir") or not template_file.is_file():
        return {}
    template = json.loads(template_file.read_text(encoding="utf-8"))
    return {
        field: tuple(choices)
        for field, choices in template.items()
        if isinstance(choices, list) and not field.startswith("_")
    }


CHOICES: Final[dict[str, tuple[str, ...]]] = offered_choices(CONTEXT)

# The slug names the project's folder, its pyproject.toml project and (with
# "-" for "_") the Kubernetes resources of server bakes, which must be
# RFC 1123 labels: lowercase letters, digits and "-", starting and ending
# with a letter or digit, at most 63 characters, the longest being the
# migrate Job's "<slug>-migrate-<release tag>", with room for a tag of 20.
# Nothing imports the folder: it is not a package.
SLUG_PATTERN: Final = re.compile(r"[a-z0-9]([a-z0-9_-]*[a-z0-9])?")
RELEASE_TAG_ROOM: Final = 20
SLUG_MAX_LENGTH: Final = 63 - len("-migrate-") - RELEASE_TAG_ROOM

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


def slug_is_lowercase(answers: dict[str, str]) -> str | None:
    """The slug must be lowercase: Kubernetes names are made from it.

    Valid: ``library_api``. Invalid: ``LibraryApi``.
    """
    slug = answers["project_slug"]
    if slug == slug.lower():
        return None
    return (
        f'project_slug "{slug}": has uppercase letters, which the Kubernetes resource names '
        f'made from it cannot hold. Use "{slug.lower()}" instead.'
    )


def slug_is_a_name(answers: dict[str, str]) -> str | None:
    """The slug must work as a folder, a pyproject.toml project and a Kubernetes name.

    Valid: ``library_api``, ``library-api``, ``2024_books``. Invalid: ``library api``,
    ``_library``, ``bibliothèque``, ``books/api``.
    """
    slug = answers["project_slug"]
    if SLUG_PATTERN.fullmatch(slug):
        return None
    return (
        f'project_slug "{slug}": is not a name the project\'s folder, pyproject.toml and '
        "Kubernetes resources can all use. Use lowercase ASCII letters and digits, with "
        '"_" or "-" between them, e.g. "library_api".'
    )


def slug_fits_kubernetes(answers: dict[str, str]) -> str | None:
    """The slug must leave room for the longest Kubernetes name made from it.

    Valid: ``library_api``. Invalid: a slug of 35 characters or more.
    """
    slug = answers["project_slug"]
    if len(slug) <= SLUG_MAX_LENGTH:
        return None
    return (
        f'project_slug "{slug}": is {len(slug)} characters long; Kubernetes names such as '
        f'"<slug>-migrate-<release tag>" allow {SLUG_MAX_LENGTH} for it. Choose a shorter '
        "name."
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
    slug_is_lowercase,
    slug_is_a_name,
    slug_fits_kubernetes,
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
