"""Clients generated from a bake's schema work as generated, with no patch.

For each authentication choice a SQLite bake is migrated, given a staff
user and served by runserver; openapi-python-client, a mainstream Python
generator, writes a client from the live /api/schema/ (failing on any
warning), and the test imports that client and drives it: a token obtained
anonymously, the book list, a book created, invalid input parsed into the
generated error model, a 401 without credentials, and a CSV file uploaded
as multipart to the imports, which the bake's worker then imports. The
client is generated under pytest's temporary directory.
"""

import importlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pytest_cookies.plugin import Cookies

import tasks
from tests.support import bake, served

pytestmark = pytest.mark.slow

USERNAME = "librarian"
PASSWORD = "a long passphrase for the generated client"
DUNE = {"title": "Dune", "author": "Frank Herbert", "isbn": "978-0-441-17271-9"}
# Dune again (already in the catalogue by then) and one book that is not.
BOOKS_CSV = (
    b"title,subtitle,author,isbn\n"
    b"Dune,,Frank Herbert,978-0-441-17271-9\n"
    b"Hyperion,,Dan Simmons,978-0-553-28368-6\n"
)


@dataclass(frozen=True)
class Auth:
    """How one authentication choice's token endpoint and header look to a client."""

    name: str
    request_model: str  # the token endpoint's request body
    response_model: str  # and its answer
    token_field: str  # the answer's field to send back
    prefix: str  # in `Authorization: <prefix> <token>`


AUTHS = (
    Auth("token", "AuthTokenRequest", "AuthToken", "token", "Token"),
    Auth("jwt", "TokenObtainPairRequest", "TokenObtainPair", "access", "Bearer"),
)


@pytest.fixture(params=AUTHS, ids=[auth.name for auth in AUTHS])
def auth(request: pytest.FixtureRequest) -> Auth:
    return request.param


@dataclass(frozen=True)
class Bake:
    """A bake, the python of its installed environment, and the environment to run it in."""

    project: Path
    python: Path
    env: dict[str, str]

    def manage(self, *args: str, **extra: str) -> None:
        """Run ``manage.py args``; fail the test with its output if it fails."""
        result = subprocess.run(
            [str(self.python), "manage.py", *args],
            cwd=self.project,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"manage.py {args}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture
def baked(auth: Auth, cookies: Cookies, tools_venv: Path) -> Bake:
    """A SQLite bake with this authentication, migrated, with one staff user."""
    project = bake(cookies, database="sqlite", api_auth=auth.name)
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    # Nothing from this process may point the bake at another database or settings.
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    baked = Bake(project, python, env)
    baked.manage("migrate", "--verbosity", "0")
    baked.manage(
        "createsuperuser",
        "--noinput",
        f"--username={USERNAME}",
        "--email=librarian@example.com",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
    )
    return baked


@pytest.fixture
def api_url(baked: Bake) -> Iterator[str]:
    """The bake served by runserver: its base URL."""
    with served(baked.project, baked.python, baked.env) as base:
        yield base


@pytest.fixture
def client_package(auth: Auth, api_url: str, tmp_path: Path) -> Iterator[ModuleType]:
    """The client openapi-python-client generates from the live schema, imported as generated."""
    name = f"library_client_{auth.name}"
    tools = tasks.bin_path(tasks.TOOLS_VENV, "")
    generated = subprocess.run(
        [
            str(tools / "openapi-python-client"),
            "generate",
            "--url",
            f"{api_url}/api/schema/",
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "client" / name),
            "--fail-on-warning",
        ],
        # The generator formats its output with ruff, from the same environment.
        env={**os.environ, "PATH": os.pathsep.join((str(tools), os.environ["PATH"]))},
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]


def generated(package: ModuleType, module: str) -> Any:
    """A module of the generated client, e.g. ``api.books.books_list``."""
    return importlib.import_module(f"{package.__name__}.{module}")


def test_generated_client_drives_the_api_unpatched(
    auth: Auth, baked: Bake, api_url: str, client_package: ModuleType
) -> None:
    """Token anonymously, list, create, a parsed validation error, a 401, and a file imported
    (uploaded as multipart, refused when it is no CSV), all as generated."""
    models = generated(client_package, "models")
    types = generated(client_package, "types")
    token_create = generated(client_package, "api.auth.auth_token_create")
    books_list = generated(client_package, "api.books.books_list")
    books_create = generated(client_package, "api.books.books_create")
    imports_create = generated(client_package, "api.imports.imports_create")
    imports_retrieve = generated(client_package, "api.imports.imports_retrieve")
    anonymous = client_package.Client(base_url=api_url, raise_on_unexpected_status=True)

    tokens = token_create.sync(
        client=anonymous,
        body=getattr(models, auth.request_model)(username=USERNAME, password=PASSWORD),
    )
    assert isinstance(tokens, getattr(models, auth.response_model)), tokens
    signed_in = client_package.AuthenticatedClient(
        base_url=api_url,
        token=getattr(tokens, auth.token_field),
        prefix=auth.prefix,
        raise_on_unexpected_status=True,
    )

    created = books_create.sync(client=signed_in, body=models.BookRequest(**DUNE))
    assert isinstance(created, models.Book), created
    assert created.isbn == "9780441172719"

    page = books_list.sync(client=anonymous)
    assert isinstance(page, models.PaginatedBookList), page
    assert page.count == 1
    assert [book.title for book in page.results] == ["Dune"]

    duplicate = books_create.sync(client=signed_in, body=models.BookRequest(**DUNE))
    assert isinstance(duplicate, models.Error), duplicate
    assert duplicate.status == 400
    assert duplicate.code is models.ErrorCode.INVALID
    assert duplicate.errors.additional_properties["isbn"] == [
        "A book with this ISBN already exists."
    ]

    refused = books_create.sync_detailed(client=anonymous, body=models.BookRequest(**DUNE))
    assert refused.status_code == 401
    assert isinstance(refused.parsed, models.Error), refused.content
    assert refused.parsed.code is models.ErrorCode.NOT_AUTHENTICATED

    upload = models.ImportUploadRequest(
        file=types.File(payload=io.BytesIO(BOOKS_CSV), file_name="books.csv", mime_type="text/csv")
    )
    accepted = imports_create.sync_detailed(client=signed_in, body=upload)
    assert accepted.status_code == 202, accepted.content
    queued = accepted.parsed
    assert isinstance(queued, models.ImportJob), accepted.content
    assert queued.url == accepted.headers["Location"] == f"/api/v1/imports/{queued.id}/"
    assert (queued.status, queued.file_name, queued.rows_total) == (
        models.StatusEnum.QUEUED,
        "books.csv",
        2,
    )

    baked.manage("worker", "--batch", "--no-startup-delay")
    done = imports_retrieve.sync(client=signed_in, id=queued.id)
    assert isinstance(done, models.ImportJob), done
    assert done.status is models.StatusEnum.SUCCEEDED, done.failure
    assert (done.created_count, done.present_count, done.invalid_count) == (1, 1, 0)
    assert done.finished is not None

    not_csv = models.ImportUploadRequest(
        file=types.File(payload=io.BytesIO(b"a list of books\n"), file_name="notes.txt")
    )
    bad_file = imports_create.sync(client=signed_in, body=not_csv)
    assert isinstance(bad_file, models.Error), bad_file
    assert bad_file.status == 400
    assert bad_file.code is models.ErrorCode.INVALID
    assert bad_file.errors.additional_properties["file"] == [
        "'notes.txt' is neither CSV nor JSON Lines. Send a .csv file (or text/csv), "
        "or a .jsonl file (or application/jsonl) with one JSON object per line."
    ]
