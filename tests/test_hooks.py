"""The hooks' functions as units, imported from a rendering with the default answers."""

import importlib.util
import json
import os
import stat
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from cookiecutter.environment import StrictEnvironment
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

import tasks
from tests.support import ROOT


def render_hook(name: str, tmp_path: Path) -> ModuleType:
    """Render hooks/<name>.py as cookiecutter would for a default bake, and import it."""
    context = generate_context(context_file=str(ROOT / "cookiecutter.json"))
    # As cookiecutter does: the template's folder rides along in the answers.
    answers = {**prompt_for_config(context, no_input=True), "_repo_dir": str(ROOT)}
    env = StrictEnvironment(context={"cookiecutter": answers}, keep_trailing_newline=True)
    source = env.from_string((ROOT / "hooks" / f"{name}.py").read_text()).render(
        cookiecutter=answers
    )
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def pre_gen(tmp_path: Path) -> ModuleType:
    return render_hook("pre_gen_project", tmp_path)


@pytest.fixture
def post_gen(tmp_path: Path) -> ModuleType:
    return render_hook("post_gen_project", tmp_path)


def test_pre_gen_reads_the_default_answers(pre_gen: ModuleType) -> None:
    """The rendered hook sees the answers cookiecutter.json gives by default."""
    assert pre_gen.ANSWERS["project_slug"] == "library_api"
    assert pre_gen.ANSWERS["database"] == "postgresql"
    assert pre_gen.first_error(pre_gen.ANSWERS) is None
    assert pre_gen.main() == 0


def test_pre_gen_takes_the_choices_from_cookiecutter_json(pre_gen: ModuleType) -> None:
    """cookiecutter.json is the only list of choices: the hook reads it from the template
    folder cookiecutter names, and checks nothing without one (cruft checks choices itself)."""
    template = json.loads((ROOT / "cookiecutter.json").read_text())

    assert {
        field: tuple(value)
        for field, value in template.items()
        if isinstance(value, list) and not field.startswith("_")
    } == pre_gen.CHOICES
    assert {"database", "api_auth", "app_layout", "python_version"} <= set(pre_gen.CHOICES)
    assert pre_gen.offered_choices({"project_slug": "x"}) == {}


NOT_A_NAME = "is not a name the project's folder, pyproject.toml and Kubernetes resources"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("project_slug", "library api", NOT_A_NAME),
        ("project_slug", "bibliothèque", NOT_A_NAME),
        ("project_slug", "_library", NOT_A_NAME),
        ("project_slug", "library_", NOT_A_NAME),
        ("project_slug", "library-", NOT_A_NAME),
        ("project_slug", "books/api", NOT_A_NAME),
        ("project_slug", "", NOT_A_NAME),
        ("project_slug", "LibraryApi", 'Use "libraryapi" instead'),
        ("project_slug", "a" * 35, "is 35 characters long"),
        ("project_name", "   ", "is empty"),
        ("email", "team", "is not a valid email address"),
        ("email", "team@localhost", "is not a valid email address"),
        ("email", "a b@example.com", "is not a valid email address"),
        ("version", "one", "is not a PEP 440 version"),
        ("version", "1..0", "is not a PEP 440 version"),
        ("timezone", "Mars/Olympus", "is not an IANA time zone name"),
        ("timezone", "../etc/passwd", "is not an IANA time zone name"),
        ("database", "oracle", 'Choose one of "postgresql", "sqlite", "mysql"'),
        ("app_layout", "microservices", "is not one of the offered choices"),
        ("python_version", "3.11", "is not one of the offered choices"),
        ("open_source_license", "WTFPL", "is not one of the offered choices"),
    ],
)
def test_pre_gen_rejects_bad_answer(
    pre_gen: ModuleType, field: str, value: str, message: str
) -> None:
    """Each rule names the answer, what is wrong, and how to fix it."""
    error = pre_gen.first_error({**pre_gen.ANSWERS, field: value})

    assert error is not None
    assert error.startswith(f'{field} "{value}": ')
    assert message in error


@pytest.mark.parametrize(
    ("field", "value"),
    [
        # Nothing imports the project's folder: these names break no bake.
        ("project_slug", "class"),
        ("project_slug", "email"),
        ("project_slug", "calendar"),
        ("project_slug", "api"),
        ("project_slug", "config"),
        ("project_slug", "test"),
        ("project_slug", "django"),
        ("project_slug", "library-api"),
        ("project_slug", "2024_books"),
        ("project_slug", "a" * 34),
        ("version", "1.0rc1"),
        ("version", "2024.1.post2.dev3"),
        ("email", "first.last+tag@mail.example.co.uk"),
        ("timezone", "Europe/Paris"),
        ("database", "mysql"),
    ],
)
def test_pre_gen_accepts_good_answer(pre_gen: ModuleType, field: str, value: str) -> None:
    """The docstrings' valid examples pass."""
    assert pre_gen.first_error({**pre_gen.ANSWERS, field: value}) is None


def test_every_rule_has_a_docstring_with_examples(pre_gen: ModuleType) -> None:
    """Each validator documents one valid and one invalid example."""
    for validate in pre_gen.VALIDATORS:
        doc = validate.__doc__ or ""
        assert "Valid:" in doc, validate.__name__
        assert "Invalid:" in doc, validate.__name__


def test_pre_gen_main_prints_one_error_line(
    pre_gen: ModuleType, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure prints ERROR: and one line, and exits 1."""
    monkeypatch.setitem(pre_gen.ANSWERS, "project_slug", "Library")

    assert pre_gen.main() == 1

    err = capsys.readouterr().err
    assert err.startswith('ERROR: project_slug "Library": has uppercase letters,')
    assert err.count("\n") == 1


def test_env_file_text_fills_only_the_empty_secret_lines(post_gen: ModuleType) -> None:
    """Each empty secret line gets its own value; other lines stay as they were."""
    example = "# DB_PASSWORD=\nDJANGO_SECRET_KEY=\nDB_PASSWORD=\nDJANGO_DEBUG=true\nOTHER="

    lines = post_gen.env_file_text(example).splitlines()

    assert lines[0] == "# DB_PASSWORD="
    key = lines[1].removeprefix("DJANGO_SECRET_KEY=")
    password = lines[2].removeprefix("DB_PASSWORD=")
    assert len(key) >= 50
    assert len(password) >= 50
    assert key != password
    assert lines[3:] == ["DJANGO_DEBUG=true", "OTHER="]


def test_new_secret_is_long_and_fresh(post_gen: ModuleType) -> None:
    """Keys are long enough for check --deploy and never repeat."""
    keys = {post_gen.new_secret() for _ in range(20)}

    assert len(keys) == 20
    assert all(len(key) >= 50 and len(set(key)) >= 5 for key in keys)


# Modules the post-generation hook keeps one version of, per database.
DATABASE_MODULES = (
    "config/settings/database",
    "api_core/count_estimate",
    "api_core/database_errors",
    "api_core/database_tracing",
    "books/collation",
    "tests/test_query_plans",
)
# Modules the post-generation hook keeps one version of, per authentication.
AUTH_MODULES = ("config/settings/auth", "api/auth_urls", "tests/credentials")
AUTHS = tasks.choices("api_auth")


def make_tree(root: Path) -> None:
    for database in post_gen_databases():
        (root / "_compose" / database).mkdir(parents=True)
        for name in ("docker-compose.yml", "compose.override.yml", "devcontainer.json"):
            (root / "_compose" / database / name).write_text(database)
        for module in DATABASE_MODULES:
            path = root / f"{module}_{database}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(database)
    for api_auth in AUTHS:
        for module in AUTH_MODULES:
            path = root / f"{module}_{api_auth}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(api_auth)
        (root / "tests" / f"test_auth_{api_auth}.py").write_text(api_auth)
    (root / "tests" / "test_api.py").write_text("both")
    (root / "deploy" / "kubernetes").mkdir(parents=True)
    (root / "deploy" / "kubernetes" / "deployment.yaml").write_text("kind: Deployment")
    migrations = root / "books" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "0003_search_trigram_indexes.py").write_text("postgresql")
    (migrations / "0006_search_trigram_indexes_folded.py").write_text("postgresql")


def post_gen_databases() -> tuple[str, ...]:
    return tasks.choices("database")


@pytest.mark.parametrize("database", post_gen_databases())
def test_keep_database_files_keeps_only_the_chosen(
    post_gen: ModuleType, tmp_path: Path, database: str
) -> None:
    """The chosen compose and settings files take their final names; the others are gone;
    the authentication's files are left alone."""
    make_tree(tmp_path)

    post_gen.keep_database_files(tmp_path, database)

    assert (tmp_path / "docker-compose.yml").read_text() == database
    assert (tmp_path / "compose.override.yml").read_text() == database
    assert (tmp_path / ".devcontainer" / "devcontainer.json").read_text() == database
    assert not (tmp_path / "_compose").exists()
    settings = sorted(p.name for p in (tmp_path / "config" / "settings").iterdir())
    assert settings == ["auth_jwt.py", "auth_token.py", "database.py"]
    for module in DATABASE_MODULES:
        assert (tmp_path / f"{module}.py").read_text() == database
    assert not list(tmp_path.glob("**/*_postgresql.py"))
    for name in ("0003_search_trigram_indexes.py", "0006_search_trigram_indexes_folded.py"):
        trigram_migration = tmp_path / "books" / "migrations" / name
        assert trigram_migration.exists() == (database == "postgresql")
    assert (tmp_path / "deploy" / "kubernetes").exists() == (database != "sqlite")


@pytest.mark.parametrize("api_auth", tasks.choices("api_auth"))
@pytest.mark.parametrize("database", post_gen_databases())
def test_keep_lock_file_keeps_the_one_for_the_answers(
    post_gen: ModuleType, tmp_path: Path, database: str, api_auth: str
) -> None:
    """Of the six locks, the one for the database and authentication becomes poetry.lock."""
    (tmp_path / "_locks").mkdir()
    for db in post_gen_databases():
        for auth in ("token", "jwt"):
            (tmp_path / "_locks" / f"poetry-{db}-{auth}.lock").write_text(f"{db}-{auth}")

    post_gen.keep_lock_file(tmp_path, database, api_auth)

    assert (tmp_path / "poetry.lock").read_text() == f"{database}-{api_auth}"
    assert not (tmp_path / "_locks").exists()


@pytest.mark.parametrize("api_auth", AUTHS)
def test_keep_auth_files_keeps_only_the_chosen(
    post_gen: ModuleType, tmp_path: Path, api_auth: str
) -> None:
    """The chosen authentication's settings, URLs and test credentials take their final
    names, its tests stay; the other's are gone, and other tests are untouched."""
    make_tree(tmp_path)
    (other,) = set(AUTHS) - {api_auth}

    post_gen.keep_auth_files(tmp_path, api_auth)

    for module in AUTH_MODULES:
        assert (tmp_path / f"{module}.py").read_text() == api_auth
    assert (tmp_path / "tests" / f"test_auth_{api_auth}.py").read_text() == api_auth
    assert (tmp_path / "tests" / "test_api.py").read_text() == "both"
    assert sorted(tmp_path.glob(f"**/*_{api_auth}.py")) == [
        tmp_path / "tests" / f"test_auth_{api_auth}.py"
    ]
    assert list(tmp_path.glob(f"**/*_{other}.py")) == []


def test_single_layout_moves_api_into_books(post_gen: ModuleType, tmp_path: Path) -> None:
    """single: api/ becomes books/api/ without an AppConfig; split leaves it alone."""
    for name in ("__init__.py", "apps.py", "views.py"):
        (tmp_path / "api").mkdir(exist_ok=True)
        (tmp_path / "api" / name).write_text(name)
    (tmp_path / "books").mkdir()

    post_gen.apply_app_layout(tmp_path, "split")
    assert (tmp_path / "api" / "apps.py").exists()

    post_gen.apply_app_layout(tmp_path, "single")
    assert not (tmp_path / "api").exists()
    assert sorted(p.name for p in (tmp_path / "books" / "api").iterdir()) == [
        "__init__.py",
        "views.py",
    ]


def test_write_env_file_is_private(post_gen: ModuleType, tmp_path: Path) -> None:
    """.env is readable by its owner only."""
    (tmp_path / ".env.example").write_text("DJANGO_SECRET_KEY=\n")

    post_gen.write_env_file(tmp_path)

    env_file = tmp_path / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert env_file.read_text().startswith("DJANGO_SECRET_KEY=")
    assert len(env_file.read_text().strip()) > len("DJANGO_SECRET_KEY=") + 50
    assert f"\nDEV_UID={os.getuid()}\nDEV_GID={os.getgid()}\n" in env_file.read_text()


def test_next_steps_name_the_project(post_gen: ModuleType) -> None:
    """The printed steps start from the project folder and end at the URLs."""
    steps = post_gen.next_steps("shelf", linked=True, database="sqlite")

    assert "cd shelf" in steps
    assert "http://127.0.0.1:8000/api/v1/books/" in steps
    assert "make template-check" in steps
    assert "cruft link" in post_gen.next_steps("shelf", linked=False, database="sqlite")


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_next_steps_start_a_server_database_before_migrating(
    post_gen: ModuleType, database: str
) -> None:
    """Server variants develop on their own server: `make db` comes before migrate."""
    steps = post_gen.next_steps("shelf", linked=True, database=database).splitlines()
    sqlite_steps = post_gen.next_steps("shelf", linked=True, database="sqlite")

    make_db = next(i for i, line in enumerate(steps) if line.strip().startswith("make db"))
    migrate = next(i for i, line in enumerate(steps) if "manage.py migrate" in line)
    assert make_db < migrate
    assert "make db" not in sqlite_steps


def git_repo(path: Path, *, origin: str | None = None) -> str:
    """A one-commit git repository at ``path``, optionally with an ``origin`` remote."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(path)]
    path.mkdir(parents=True, exist_ok=True)
    (path / "cookiecutter.json").write_text("{}")
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "template"], check=True)
    if origin:
        subprocess.run([*git, "remote", "add", "origin", origin], check=True)
    return subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_write_cruft_file_links_a_bake_from_a_local_checkout(
    post_gen: ModuleType, tmp_path: Path
) -> None:
    """A bake from a local git checkout records its path and commit, and only the answers."""
    template = tmp_path / "template"
    commit = git_repo(template)
    project = tmp_path / "project"
    project.mkdir()
    context = {
        "project_name": "Shelf",
        "database": "sqlite",
        "_template": str(template),
        "_repo_dir": str(template),
        "_output_dir": str(tmp_path),
        "_checkout": None,
        "_extensions": ["local_extensions.quoted"],
    }

    assert post_gen.write_cruft_file(project, context) is True

    state = json.loads((project / ".cruft.json").read_text())
    assert state["template"] == str(template)
    assert state["commit"] == commit
    assert state["context"]["cookiecutter"] == {
        "project_name": "Shelf",
        "database": "sqlite",
        "_template": str(template),
        "_commit": commit,
    }


def test_write_cruft_file_records_the_url_a_gh_template_was_cloned_from(
    post_gen: ModuleType, tmp_path: Path
) -> None:
    """`cookiecutter gh:org/repo` bakes from a clone; cruft gets the clone's origin URL."""
    clone = tmp_path / "cookiecutters" / "django-drf-docker"
    url = "https://github.com/example/django-drf-docker.git"
    commit = git_repo(clone, origin=url)
    project = tmp_path / "project"
    project.mkdir()
    context = {"database": "mysql", "_template": "gh:example/django-drf-docker"}

    post_gen.write_cruft_file(project, {**context, "_repo_dir": str(clone)})

    state = json.loads((project / ".cruft.json").read_text())
    assert (state["template"], state["commit"]) == (url, commit)


@pytest.mark.parametrize(
    "repo_dir",
    [
        pytest.param("relative/template", id="relative-path"),
        pytest.param("{tmp}/not-a-repo", id="not-a-git-checkout"),
        pytest.param("{tmp}/repo/inner", id="inside-another-repo"),
    ],
)
def test_write_cruft_file_links_nothing_it_cannot_name(
    post_gen: ModuleType, tmp_path: Path, repo_dir: str
) -> None:
    """Without a git checkout of the template's own, no guessed link is written."""
    git_repo(tmp_path / "repo")
    (tmp_path / "repo" / "inner").mkdir()
    (tmp_path / "not-a-repo").mkdir()
    project = tmp_path / "project"
    project.mkdir()
    path = repo_dir.format(tmp=tmp_path)
    context = {"database": "sqlite", "_template": path, "_repo_dir": path}

    assert post_gen.write_cruft_file(project, context) is False
    assert not (project / ".cruft.json").exists()


def test_write_cruft_file_leaves_a_cruft_bake_to_cruft(
    post_gen: ModuleType, tmp_path: Path
) -> None:
    """cruft sets _commit and writes .cruft.json itself: its renders get none from the hook."""
    context = {"database": "sqlite", "_template": "https://example.com/t.git", "_commit": "abc"}

    assert post_gen.write_cruft_file(tmp_path, context) is True
    assert not (tmp_path / ".cruft.json").exists()
