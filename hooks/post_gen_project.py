"""Shape the baked project to the answers, then print the next steps.

Runs inside the new project directory. Every option lives in its own files;
the functions below keep the chosen ones under their final names and delete
the rest, so no baked file carries a branch for an option that was not
chosen.
"""

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Final

DATABASE: Final[str] = json.loads(r'''{{ cookiecutter.database | tojson }}''')
APP_LAYOUT: Final[str] = json.loads(r'''{{ cookiecutter.app_layout | tojson }}''')
API_AUTH: Final[str] = json.loads(r'''{{ cookiecutter.api_auth | tojson }}''')
PROJECT_SLUG: Final[str] = json.loads(r'''{{ cookiecutter.project_slug | tojson }}''')
LICENSE: Final[str] = json.loads(r'''{{ cookiecutter.open_source_license | tojson }}''')
# Every answer, plus cookiecutter's private keys: _template and _repo_dir
# (cookiecutter), or _commit (cruft, which records its own .cruft.json).
CONTEXT: Final[dict[str, object]] = json.loads(r'''{{ cookiecutter | tojson }}''')

LOCKS_DIR: Final = Path("_locks")
COMPOSE_DIR: Final = Path("_compose")
COMPOSE_FILES: Final[tuple[str, ...]] = ("docker-compose.yml", "compose.override.yml")
# The dev container runs the compose services, which differ per database.
DEVCONTAINER: Final = Path(".devcontainer", "devcontainer.json")
# Modules with one version per database: NAME_<database>.py becomes NAME.py.
DATABASE_MODULES: Final[tuple[Path, ...]] = (
    Path("config", "settings", "database"),
    Path("api_core", "count_estimate"),
    Path("api_core", "database_errors"),
    Path("api_core", "database_tracing"),
    Path("books", "collation"),
    Path("tests", "test_query_plans"),
)
# Modules with one version per authentication: NAME_<api_auth>.py becomes NAME.py.
# keep_auth_files runs before apply_app_layout, so api/ is still at the top.
AUTH_MODULES: Final[tuple[Path, ...]] = (
    Path("config", "settings", "auth"),
    Path("api", "auth_urls"),
    Path("tests", "credentials"),
)
# Kubernetes manifests: pods cannot share a SQLite file, so SQLite has none.
KUBERNETES_DIR: Final = Path("deploy", "kubernetes")
# Files that only PostgreSQL uses (its trigram search indexes).
POSTGRESQL_FILES: Final[tuple[Path, ...]] = (
    Path("books", "migrations", "0003_search_trigram_indexes.py"),
    Path("books", "migrations", "0006_search_trigram_indexes_folded.py"),
)
LICENSES_DIR: Final = Path("_licenses")
CRUFT_FILE: Final = ".cruft.json"
# .env.example lines left empty for the hook to fill with fresh random values.
SECRET_VARIABLES: Final[tuple[str, ...]] = ("DJANGO_SECRET_KEY", "DB_PASSWORD", "DB_ROOT_PASSWORD")


def keep_chosen_modules(project: Path, modules: tuple[Path, ...], choice: str) -> None:
    """For each module NAME, NAME_<choice>.py becomes NAME.py; the other choices' versions
    (every other NAME_*.py beside it) go."""
    for module in modules:
        chosen = project / module.with_name(f"{module.name}_{choice}.py")
        chosen.replace(project / module.with_suffix(".py"))
        for other in (project / module).parent.glob(f"{module.name}_*.py"):
            other.unlink()


def keep_lock_file(project: Path, database: str, api_auth: str) -> None:
    """Keep the lock file of the chosen database and authentication (their drivers differ)."""
    (project / LOCKS_DIR / f"poetry-{database}-{api_auth}.lock").replace(project / "poetry.lock")
    shutil.rmtree(project / LOCKS_DIR)


def keep_database_files(project: Path, database: str) -> None:
    """Give the chosen database its compose, dev container, settings and other
    per-database files; delete the others'."""
    for name in COMPOSE_FILES:
        (project / COMPOSE_DIR / database / name).replace(project / name)
    (project / DEVCONTAINER).parent.mkdir(exist_ok=True)
    (project / COMPOSE_DIR / database / DEVCONTAINER.name).replace(project / DEVCONTAINER)
    shutil.rmtree(project / COMPOSE_DIR)
    keep_chosen_modules(project, DATABASE_MODULES, database)
    if database != "postgresql":
        for path in POSTGRESQL_FILES:
            (project / path).unlink()
    if database == "sqlite":
        shutil.rmtree(project / KUBERNETES_DIR)


def move_api_into_books(project: Path) -> None:
    """Single layout: the api app becomes the books.api package, with no AppConfig of its own."""
    target = project / "books" / "api"
    shutil.move(project / "api", target)
    (target / "apps.py").unlink()


def keep_auth_files(project: Path, api_auth: str) -> None:
    """Give the chosen authentication its settings, URLs, test credentials and tests;
    delete the other's."""
    keep_chosen_modules(project, AUTH_MODULES, api_auth)
    for path in (project / "tests").glob("test_auth_*.py"):
        if path.name != f"test_auth_{api_auth}.py":
            path.unlink()


def apply_app_layout(project: Path, layout: str) -> None:
    """Split keeps the api app beside books; single folds it into books."""
    if layout == "single":
        move_api_into_books(project)


def keep_license(project: Path, license_name: str) -> None:
    """The chosen licence's text becomes LICENSE; the others are deleted."""
    (project / LICENSES_DIR / f"{license_name}.txt").replace(project / "LICENSE")
    shutil.rmtree(project / LICENSES_DIR)


def answers(context: dict[str, object]) -> dict[str, object]:
    """The user's answers alone: cookiecutter's private keys start with an underscore."""
    return {key: value for key, value in context.items() if not key.startswith("_")}


def git(repo: Path, *args: str) -> str | None:
    """The output of a git command in ``repo``, or None when it fails (or git is missing)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def template_checkout(context: dict[str, object]) -> tuple[str, str] | None:
    """The template's URL (or local path) and commit, when it was baked from a git checkout.

    cookiecutter clones a ``gh:`` or URL template into ~/.cookiecutters and names that
    clone ``_repo_dir``; its ``origin`` is the URL. A local template is its own path.
    """
    repo_dir = Path(str(context.get("_repo_dir", "")))
    if not repo_dir.is_absolute() or not repo_dir.is_dir():
        return None
    toplevel = git(repo_dir, "rev-parse", "--show-toplevel")
    if toplevel is None or Path(toplevel).resolve() != repo_dir.resolve():
        return None
    commit = git(repo_dir, "rev-parse", "HEAD")
    template = str(context.get("_template", ""))
    url = template if Path(template).is_absolute() else git(repo_dir, "remote", "get-url", "origin")
    return (url, commit) if url and commit else None


def cruft_state(context: dict[str, object], url: str, commit: str) -> dict[str, object]:
    """`.cruft.json` as `cruft create` writes it: the template, its commit and the answers."""
    return {
        "template": url,
        "commit": commit,
        "checkout": context.get("_checkout"),
        "context": {"cookiecutter": {**answers(context), "_template": url, "_commit": commit}},
        "directory": None,
    }


def write_cruft_file(project: Path, context: dict[str, object]) -> bool:
    """Link a plain cookiecutter bake to its template commit, for `cruft check` and `update`.

    cruft renders the template with ``_commit`` set and writes .cruft.json itself, so
    nothing is written then: the renders it diffs on an update stay free of it.
    Returns whether the project is linked.
    """
    if "_commit" in context:
        return True
    found = template_checkout(context)
    if found is None:
        return False
    state = cruft_state(context, *found)
    text = json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": "))
    (project / CRUFT_FILE).write_text(text + "\n", encoding="utf-8")
    return True


def new_secret() -> str:
    """A fresh random value for this bake only: URL-safe, so neither .env
    parsers nor database URLs need quoting."""
    return secrets.token_urlsafe(50)


def env_file_text(example: str) -> str:
    """Fill each empty secret line of .env.example (``DJANGO_SECRET_KEY=``) with a new value."""
    empty = {f"{name}=" for name in SECRET_VARIABLES}
    lines = [f"{line}{new_secret()}" if line in empty else line for line in example.splitlines()]
    return "\n".join(lines) + "\n"


def developer_ids() -> str:
    """.env lines giving the development image the baking user's uid and gid (POSIX only)."""
    if not hasattr(os, "getuid"):
        return ""
    return (
        "\n# Development containers run as this uid and gid (compose.override.yml), so\n"
        "# the files they write in the source are yours; set for you at bake time.\n"
        f"DEV_UID={os.getuid()}\nDEV_GID={os.getgid()}\n"
    )


def write_env_file(project: Path) -> None:
    """Write .env (ignored by git and Docker) from .env.example with new secrets."""
    example = (project / ".env.example").read_text(encoding="utf-8")
    env_file = project / ".env"
    env_file.write_text(env_file_text(example) + developer_ids(), encoding="utf-8")
    env_file.chmod(0o600)


def next_steps(slug: str, linked: bool, database: str) -> str:
    """The commands a new user runs next, for the message printed after baking."""
    start_database = (
        ()
        if database == "sqlite"
        else ("  make db    # the database, in Docker: .env names it for runserver and pytest",)
    )
    template_updates = (
        "Template updates: make template-check, make template-update (see README.md)."
        if linked
        else "Not linked to the template (not baked from a git checkout): see README.md,"
        " 'Keeping up with the template', for `cruft link`."
    )
    return "\n".join(
        (
            "",
            f"Baked {slug}/. Next steps (Python 3.12+ and Poetry 2):",
            f"  cd {slug}",
            "  poetry install",
            *start_database,
            "  poetry run python manage.py migrate",
            "  poetry run python manage.py load_sample_books",
            "  poetry run python manage.py runserver",
            "Then open http://127.0.0.1:8000/ (website)",
            "and http://127.0.0.1:8000/api/v1/books/ (API).",
            "Tests: poetry run pytest",
            "Or with Docker: docker compose up, then the same URLs.",
            template_updates,
            "",
        )
    )


def main() -> int:
    """Apply the answers to the project in the current directory."""
    project = Path.cwd()
    keep_lock_file(project, DATABASE, API_AUTH)
    keep_database_files(project, DATABASE)
    keep_auth_files(project, API_AUTH)
    keep_license(project, LICENSE)
    apply_app_layout(project, APP_LAYOUT)
    write_env_file(project)
    linked = write_cruft_file(project, CONTEXT)
    print(next_steps(PROJECT_SLUG, linked, DATABASE))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
