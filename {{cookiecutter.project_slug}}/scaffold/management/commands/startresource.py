"""Add an API resource in this project's layout: ``python manage.py startresource loans``.

It writes an app (a model with timestamps, its admin, an example
background task), the app's API (a serializer, filters, a viewset with the
project's search, ordering and pagination, registered under
/api/v1/<name>/), a factory and tests in the style of the book tests; then
ruff sorts the imports it added. ``make app
name=loans`` runs it and then ``makemigrations``. A name that cannot be used
stops it before anything is written.
"""

import json
import keyword
import re
import subprocess
import sys
from argparse import ArgumentParser
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from string import Template
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "resource"
APP_NAME = re.compile(r"[a-z][a-z0-9_]*")
MODEL_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
# Django's limit on an index name.
INDEX_NAME_LENGTH = 30
# Where each layout keeps the API: the api app (split) or the books app's api package (single).
API_PACKAGES = ("api", "books.api")


def camel_case(name: str) -> str:
    """``book_loans`` -> ``BookLoans``."""
    return "".join(part.capitalize() for part in name.split("_"))


def singular_model(name: str) -> str:
    """The model's default name: ``loans`` -> ``Loan``, ``categories`` -> ``Category``."""
    if name.endswith("ies"):
        name = name[:-3] + "y"
    elif name.endswith("s") and not name.endswith(("ss", "us", "is")):
        name = name[:-1]
    return camel_case(name)


def words(model: str) -> str:
    """``BookLoan`` -> ``book loan``."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", model).lower()


def index_name(app: str, suffix: str) -> str:
    """``<app>_<suffix>``, cut to Django's 30 characters."""
    return f"{app[: INDEX_NAME_LENGTH - len(suffix) - 1]}_{suffix}"


@dataclass(frozen=True)
class Resource:
    """What to write for one new resource, and where."""

    app: str
    model: str
    root: Path
    api_base: str

    @property
    def api_module(self) -> str:
        """The new API package: api.<app> (split layout) or <app>.api (single layout)."""
        return f"api.{self.app}" if self.api_base == "api" else f"{self.app}.api"

    @property
    def basename(self) -> str:
        return words(self.model).replace(" ", "_")

    def substitutions(self) -> dict[str, str]:
        singular = words(self.model)
        return {
            "app": self.app,
            "App": camel_case(self.app),
            "Title": self.app.replace("_", " ").title(),
            "Model": self.model,
            "Singular": singular.capitalize(),
            "singular": singular,
            # The router's basename (``book_loan``): route names and test names.
            "singular_id": self.basename,
            "plural": self.app.replace("_", " "),
            "api_base": self.api_base,
            "api_module": self.api_module,
            "name_index": index_name(self.app, "name_order"),
            "created_index": index_name(self.app, "created_order"),
        }

    def new_files(self) -> dict[Path, str]:
        """Each file to create, from the templates: the app, its API package, its tests."""
        targets = {
            "app": self.root / self.app,
            "api": self.root.joinpath(*self.api_module.split(".")),
            "tests": self.root / "tests",
        }
        files = {}
        for template in sorted(TEMPLATES.rglob("*.py-tpl")):
            part, *rest = template.relative_to(TEMPLATES).parts
            if part not in targets:
                continue
            name = rest[-1].removesuffix("-tpl")
            if part == "tests":
                # tests/test_api.py-tpl -> tests/test_loans_api.py, beside the others' tests.
                name = f"test_{self.app}_{name.removeprefix('test_')}"
            target = targets[part].joinpath(*rest[:-1], name)
            files[target] = render(template, self.substitutions())
        return files


def render(template: Path, substitutions: dict[str, str]) -> str:
    return Template(template.read_text()).substitute(substitutions)


def validate_app(app: str, root: Path) -> None:
    """Refuse a name that is not a lowercase identifier or that something already uses."""
    fix = f'Choose another name, e.g. "{app}_items".'
    if not APP_NAME.fullmatch(app):
        raise CommandError(
            f'"{app}" is not a valid app name: use lowercase letters, digits and underscores, '
            'starting with a letter, e.g. "loans".'
        )
    if keyword.iskeyword(app) or keyword.issoftkeyword(app):
        raise CommandError(f'"{app}" is a Python keyword. {fix}')
    if any(config.label == app for config in apps.get_app_configs()):
        raise CommandError(f'"{app}" is already the label of an installed app. {fix}')
    if (root / app).exists():
        raise CommandError(f'"{app}" already exists in {root}. {fix}')
    if find_spec(app) is not None:
        raise CommandError(
            f'"{app}" is the name of an importable Python module, which the app would shadow '
            f"or be shadowed by. {fix}"
        )


def validate_model(model: str) -> None:
    if not MODEL_NAME.fullmatch(model) or keyword.iskeyword(model):
        raise CommandError(
            f'"{model}" is not a valid model name: use a CamelCase class name, e.g. "Loan" '
            "(--model Loan)."
        )


def find_api_base(root: Path) -> str:
    for package in API_PACKAGES:
        if root.joinpath(*package.split("."), "urls.py").is_file():
            return package
    raise CommandError(
        f"No API URLs found in {root} (looked for api/urls.py and books/api/urls.py); "
        "add the resource by hand (see README.md, Adding an app)."
    )


def check_router(resource: Resource) -> None:
    """Refuse a URL prefix or route name the API's router already has."""
    router = import_module(f"{resource.api_base}.urls").router
    for prefix, _viewset, basename in router.registry:
        if resource.app == prefix or resource.basename == basename:
            raise CommandError(
                f'The API already has "{prefix}" (route name "{basename}"). '
                f'Choose another name, e.g. "{resource.app}_items", or another --model.'
            )


def insert_before_closing(
    text: str, opening: str, line: str, path: Path, closing: str = "]"
) -> str:
    """``text`` with ``line`` added as the last item of the list that ``opening`` starts
    and the first ``closing`` line after it ends."""
    lines = text.splitlines(keepends=True)
    try:
        start = lines.index(opening + "\n")
        end = lines.index(closing + "\n", start)
    except ValueError:
        raise CommandError(
            f'{path}: no "{opening.strip()}" list ending in a "{closing.strip()}" line; '
            f"add {line.strip()} by hand."
        ) from None
    return "".join([*lines[:end], line + "\n", *lines[end:]])


def insert_after_last(text: str, prefix: str, line: str, path: Path) -> str:
    """``text`` with ``line`` after the last line that starts with ``prefix``."""
    lines = text.splitlines(keepends=True)
    found = [index for index, current in enumerate(lines) if current.startswith(prefix)]
    if not found:
        raise CommandError(f'{path}: no line starts with "{prefix}"; add {line.strip()} by hand.')
    return "".join([*lines[: found[-1] + 1], line + "\n", *lines[found[-1] + 1 :]])


def changed_files(resource: Resource) -> dict[Path, str]:
    """The settings (app and schema tag), the API's URLs and the factories, each with the new
    resource added."""
    root, app, model = resource.root, resource.app, resource.model
    installed = root / "config" / "settings" / "base.py"
    urls = root.joinpath(*resource.api_base.split("."), "urls.py")
    factories = root / "tests" / "factories.py"
    viewset = f"{model}ViewSet"
    substitutions = resource.substitutions()
    factory = render(TEMPLATES / "factory.py-tpl", substitutions)
    settings_text = insert_before_closing(
        installed.read_text(),
        "INSTALLED_APPS = [",
        f'    "{app}.apps.{camel_case(app)}Config",',
        installed,
    )
    # The schema describes each tag; the resource's operations are tagged with its URL prefix.
    description = f"{substitutions['Title']}: list, search, add, change, delete."
    # JSON of two strings is the same dict written in Python.
    tag = json.dumps({"name": app, "description": description})
    settings_text = insert_before_closing(
        settings_text, '    "TAGS": [', f"        {tag},", installed, closing="    ],"
    )
    return {
        installed: settings_text,
        urls: insert_after_last(
            insert_after_last(
                urls.read_text(),
                "router.register(",
                f'router.register("{app}", {viewset}, basename="{resource.basename}")',
                urls,
            ),
            "from ",
            f"from {resource.api_module}.views import {viewset}",
            urls,
        ),
        factories: insert_after_last(
            factories.read_text(), "from ", f"from {app}.models import {model}", factories
        )
        + factory,
    }


def tidy(paths: list[Path]) -> bool:
    """Sort the imports and format the files with ruff; False when ruff is not installed."""
    if find_spec("ruff") is None:
        return False
    ruff = [sys.executable, "-m", "ruff"]
    files = [str(path) for path in paths]
    # Fixed arguments and this project's own file names: nothing from outside.
    subprocess.run([*ruff, "check", "--fix", "--select", "I", "--quiet", *files], check=False)  # noqa: S603
    subprocess.run([*ruff, "format", "--quiet", *files], check=True)  # noqa: S603
    return True


class Command(BaseCommand):
    help = "Add an API resource: an app with a model, its API under /api/v1/<name>/, tests."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="the app's name, lowercase and plural, e.g. loans")
        parser.add_argument(
            "--model", help="the model's class name; by default the singular of the name"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(settings.BASE_DIR)
        app: str = options["name"]
        validate_app(app, root)
        model: str = options["model"] or singular_model(app)
        validate_model(model)
        resource = Resource(app, model, root, find_api_base(root))
        check_router(resource)
        created = resource.new_files()
        existing = [path for path in created if path.exists()]
        if existing:
            raise CommandError(f"{existing[0]} already exists; nothing was written.")
        changed = changed_files(resource)
        for path, text in {**created, **changed}.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        tidied = tidy([*created, *changed])
        for path in [*created, *changed]:
            verb = "created" if path in created else "changed"
            self.stdout.write(f"{verb} {path.relative_to(root)}")
        if not tidied:
            self.stdout.write("ruff is not installed: run `make format` to sort the imports.")
        self.stdout.write(
            self.style.SUCCESS(
                f"{model} is served at /api/v1/{app}/. Next: python manage.py makemigrations "
                f"{app}, then make migrate test (make app does the first for you)."
            )
        )
