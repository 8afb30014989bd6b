"""Shape the baked project to the answers, then print the next steps.

Runs inside the new project directory. Every option lives in its own files;
the functions below keep the chosen ones under their final names and delete
the rest, so no baked file carries a branch for an option that was not
chosen.
"""

import json
import secrets
import shutil
from pathlib import Path
from typing import Final

DATABASE: Final[str] = json.loads(r'''{{ cookiecutter.database | tojson }}''')
APP_LAYOUT: Final[str] = json.loads(r'''{{ cookiecutter.app_layout | tojson }}''')
PROJECT_SLUG: Final[str] = json.loads(r'''{{ cookiecutter.project_slug | tojson }}''')

DATABASES: Final[tuple[str, ...]] = ("postgresql", "sqlite", "mysql")
LOCKS_DIR: Final = Path("_locks")
SETTINGS_DIR: Final = Path("config", "settings")


def keep_database_files(project: Path, database: str) -> None:
    """Give the chosen database its lock file and settings module; delete the others'."""
    (project / LOCKS_DIR / f"poetry-{database}.lock").replace(project / "poetry.lock")
    shutil.rmtree(project / LOCKS_DIR)
    settings = project / SETTINGS_DIR
    (settings / f"database_{database}.py").replace(settings / "database.py")
    for other in DATABASES:
        (settings / f"database_{other}.py").unlink(missing_ok=True)


def move_api_into_books(project: Path) -> None:
    """Single layout: the api app becomes the books.api package, with no AppConfig of its own."""
    target = project / "books" / "api"
    shutil.move(project / "api", target)
    (target / "apps.py").unlink()


def apply_app_layout(project: Path, layout: str) -> None:
    """Split keeps the api app beside books; single folds it into books."""
    if layout == "single":
        move_api_into_books(project)


def new_secret_key() -> str:
    """A fresh key for this bake only: URL-safe, so .env parsers need no quoting."""
    return secrets.token_urlsafe(50)


def env_file_text(example: str, secret_key: str) -> str:
    """Fill the empty DJANGO_SECRET_KEY line of .env.example with ``secret_key``."""
    lines = [
        f"DJANGO_SECRET_KEY={secret_key}" if line == "DJANGO_SECRET_KEY=" else line
        for line in example.splitlines()
    ]
    return "\n".join(lines) + "\n"


def write_env_file(project: Path) -> None:
    """Write .env (ignored by git and Docker) from .env.example with a new secret key."""
    example = (project / ".env.example").read_text(encoding="utf-8")
    env_file = project / ".env"
    env_file.write_text(env_file_text(example, new_secret_key()), encoding="utf-8")
    env_file.chmod(0o600)


def next_steps(slug: str) -> str:
    """The commands a new user runs next, for the message printed after baking."""
    return "\n".join(
        (
            "",
            f"Baked {slug}/. Next steps (Python 3.12+ and Poetry 2):",
            f"  cd {slug}",
            "  poetry install",
            "  poetry run python manage.py migrate",
            "  poetry run python manage.py load_sample_books",
            "  poetry run python manage.py runserver",
            "Then open http://127.0.0.1:8000/ (website) and http://127.0.0.1:8000/api/v1/books/ (API).",
            "Tests: poetry run pytest",
            "",
        )
    )


def main() -> int:
    """Apply the answers to the project in the current directory."""
    project = Path.cwd()
    keep_database_files(project, DATABASE)
    apply_app_layout(project, APP_LAYOUT)
    write_env_file(project)
    print(next_steps(PROJECT_SLUG))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
