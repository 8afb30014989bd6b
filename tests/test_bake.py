"""Bakes of every supported combination, unsupported answers, and hostile free text."""

import ast
import json
import os
import re
import subprocess
import tomllib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from pytest_cookies.plugin import Cookies

import tasks
from tests.support import (
    ROOT,
    SUPPORTED,
    Combination,
    actionlint,
    bake,
    check_dependabot,
    check_github_workflow,
    combination_params,
    zizmor,
)

DRIVERS = {"postgresql": "psycopg[binary]", "mysql": "mysqlclient", "sqlite": None}
# Words that must not appear in a project baked for another database.
FOREIGN_WORDS = {
    "postgresql": re.compile(r"psycopg|postgres", re.IGNORECASE),
    "mysql": re.compile(r"mysql|mariadb", re.IGNORECASE),
}
LOCKED_DRIVERS = {"postgresql": ("psycopg", "psycopg-binary"), "mysql": ("mysqlclient",)}
UNRENDERED = re.compile(r"(?<!\$)\{\{|\{%|\{#")  # ${{ }} is GitHub Actions syntax


def text_files(project: Path) -> list[Path]:
    return [
        path
        for path in project.rglob("*")
        if path.is_file() and ".venv" not in path.parts and path.suffix not in {".pyc"}
    ]


def ruff(tools_venv: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tasks.bin_path(tools_venv, "ruff")), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def bakes(cookies_session: Cookies) -> Callable[[Combination], Path]:
    """One bake per combination for the whole module: the tests below only read it."""
    projects: dict[str, Path] = {}

    def baked(combo: Combination) -> Path:
        if combo.id not in projects:
            projects[combo.id] = bake(cookies_session, **combo.context)
        return projects[combo.id]

    return baked


@pytest.fixture(params=combination_params())
def baked(
    request: pytest.FixtureRequest, bakes: Callable[[Combination], Path]
) -> tuple[Combination, Path]:
    combo: Combination = request.param
    return combo, bakes(combo)


def test_bake_renders_every_file(baked: tuple[Combination, Path]) -> None:
    """No Jinja is left in any baked file but the Django templates (copied unrendered,
    cookiecutter.json's _copy_without_render), and no template-only folder remains."""
    _, project = baked

    leftovers = [
        str(path.relative_to(project))
        for path in text_files(project)
        if not (path.suffix == ".html" and "templates" in path.relative_to(project).parts)
        and UNRENDERED.search(path.read_text(encoding="utf-8"))
    ]

    assert leftovers == []
    assert not (project / "_locks").exists()
    assert not (project / "_compose").exists()
    assert (project / "poetry.lock").is_file()


def test_bake_layout(baked: tuple[Combination, Path]) -> None:
    """split has an api app beside books; single folds the API into books.api."""
    combo, project = baked
    base = (project / "config" / "settings" / "base.py").read_text()
    urls = (project / "config" / "urls.py").read_text()

    if combo.app_layout == "split":
        assert (project / "api" / "apps.py").is_file()
        assert '"api.apps.ApiConfig"' in base
        assert 'include("api.urls")' in urls
    else:
        assert not (project / "api").exists()
        assert (project / "books" / "api" / "views.py").is_file()
        assert not (project / "books" / "api" / "apps.py").exists()
        assert "ApiConfig" not in base
        assert 'include("books.api.urls")' in urls


def test_bake_names_the_right_driver(baked: tuple[Combination, Path]) -> None:
    """pyproject.toml parses and depends on exactly the chosen database's driver."""
    combo, project = baked
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())

    dependencies = pyproject["project"]["dependencies"]
    for database, driver in DRIVERS.items():
        if driver is None:
            continue
        present = any(dep.startswith(driver) for dep in dependencies)
        assert present is (database == combo.database), (database, dependencies)
    assert pyproject["project"]["requires-python"] == ">=3.12"
    assert pyproject["tool"]["poetry"]["package-mode"] is False


def test_bake_leaves_nothing_of_other_databases(baked: tuple[Combination, Path]) -> None:
    """No file mentions a database that was not chosen, and the lock has no other driver."""
    combo, project = baked

    mentions = [
        f"{path.relative_to(project)}: {match.group()}"
        for database, pattern in FOREIGN_WORDS.items()
        if database != combo.database
        for path in text_files(project)
        if path.name != "poetry.lock"
        and (match := pattern.search(path.read_text(encoding="utf-8")))
    ]
    # The lock may name other drivers in its packages' optional extras; what
    # counts is which packages it installs.
    lock = tomllib.loads((project / "poetry.lock").read_text())
    locked = {package["name"] for package in lock["package"]}
    foreign_drivers = {
        driver
        for database, drivers in LOCKED_DRIVERS.items()
        if database != combo.database
        for driver in drivers
    }

    assert mentions == []
    assert locked & foreign_drivers == set()
    assert locked >= set(LOCKED_DRIVERS.get(combo.database, ()))


def test_bake_database_settings_are_the_chosen_ones(baked: tuple[Combination, Path]) -> None:
    """config/settings/database.py is the chosen database's module, and the only one."""
    combo, project = baked
    settings = project / "config" / "settings"

    assert not list(settings.glob("database_*.py"))
    module = (settings / "database.py").read_text()
    expected = {"postgresql": "PostgreSQL", "mysql": "MySQL", "sqlite": "SQLite"}
    assert f"for {expected[combo.database]}" in (ast.get_docstring(ast.parse(module)) or "")


def test_bake_passes_ruff(baked: tuple[Combination, Path], tools_venv: Path) -> None:
    """The baked code is lint-clean and formatted, by its own ruff configuration."""
    _, project = baked

    check = ruff(tools_venv, "check", "--no-cache", project)
    assert check.returncode == 0, check.stdout
    fmt = ruff(tools_venv, "format", "--check", "--no-cache", project)
    assert fmt.returncode == 0, fmt.stdout


def test_bake_dockerfile_passes_hadolint(baked: tuple[Combination, Path], tools_venv: Path) -> None:
    """hadolint finds nothing to improve in the baked Dockerfile."""
    _, project = baked

    result = subprocess.run(
        [str(tasks.bin_path(tools_venv, "hadolint")), str(project / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


SETTING_READS = re.compile(
    r"""(?:\benv\.\w+\(\s*|\brequired\(\s*|os\.environ\.get\(\s*|os\.environ\[)["']([A-Z][A-Z0-9_]+)["']"""
)
COMPOSE_VARIABLES = re.compile(r"\$\{([A-Z][A-Z0-9_]+)")
# What gunicorn itself reads, where the image's CMD runs it: its options.
GUNICORN_VARIABLES = {"GUNICORN_CMD_ARGS"}


def variables_read(project: Path) -> set[str]:
    """The environment variables the bake's code, compose files and Dockerfile read."""
    read = {
        name
        for path in [*project.rglob("*.py"), *project.glob("*compose*.yml")]
        if "tests" not in path.parts
        for name in SETTING_READS.findall(path.read_text())
        + COMPOSE_VARIABLES.findall(path.read_text())
    }
    # The Dockerfile's ${...} are build arguments; its HEALTHCHECK reads PORT.
    dockerfile = (project / "Dockerfile").read_text()
    read |= set(SETTING_READS.findall(dockerfile))
    if '"gunicorn", "--config"' in dockerfile:
        read |= GUNICORN_VARIABLES
    return read


def test_bake_readme_documents_every_setting(baked: tuple[Combination, Path]) -> None:
    """Every environment variable the code or compose files read is in the README's table."""
    _, project = baked
    read = variables_read(project)
    readme = (project / "README.md").read_text()

    assert read >= {"DJANGO_SECRET_KEY", "DATABASE_URL", "PORT"}
    assert sorted(name for name in read if f"| `{name}` |" not in readme) == []


SETTINGS_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|", re.MULTILINE)


def test_bake_readme_settings_table_holds_only_what_is_read(
    baked: tuple[Combination, Path],
) -> None:
    """The README's settings table has one row per variable, and each is one that the code
    or the compose files read."""
    _, project = baked
    read = variables_read(project)
    rows = SETTINGS_ROW.findall((project / "README.md").read_text())

    assert sorted({name for name in rows if rows.count(name) > 1}) == []
    assert sorted(set(rows) - read) == []


def test_bake_readme_lists_every_make_target(baked: tuple[Combination, Path]) -> None:
    """The README's "`make` alone lists every target" names exactly the Makefile's
    documented targets (`help` aside)."""
    _, project = baked
    readme = (project / "README.md").read_text()
    listed = re.search(r"`make` alone lists every target: `([^`]+)`", readme)
    makefile = (project / "Makefile").read_text()
    targets = re.findall(r"^([a-z][a-z-]*):[^\n]*## ", makefile, re.MULTILINE)

    assert listed is not None
    assert sorted(listed.group(1).split()) == sorted(set(targets) - {"help"})


def test_bake_readme_names_every_compose_service(baked: tuple[Combination, Path]) -> None:
    """The README's Docker section names each service of docker-compose.yml."""
    _, project = baked
    readme = (project / "README.md").read_text()
    docker = readme[readme.index("\n## Docker\n") :]
    services = yaml.safe_load((project / "docker-compose.yml").read_text())["services"]

    assert [name for name in services if f"`{name}`" not in docker] == []


def test_bake_agents_names_every_ruff_rule_set(baked: tuple[Combination, Path]) -> None:
    """AGENTS.md's ruff convention names each rule set pyproject.toml selects, by the
    comment that pyproject.toml gives it."""
    _, project = baked
    pyproject = (project / "pyproject.toml").read_text()
    lint = pyproject[pyproject.index("[tool.ruff.lint]") :]
    select = lint[lint.index("select = [") :].split("\n]", 1)[0]
    names = [
        name.strip() for comment in re.findall(r"# (.+)", select) for name in comment.split(",")
    ]
    agents = (project / "AGENTS.md").read_text()
    ruff_line = re.search(r"- ruff \(([^)]+)\)", agents)

    assert names
    assert ruff_line is not None
    assert [name for name in names if name not in ruff_line.group(1)] == []


def test_bake_workflow_is_a_valid_github_workflow(
    baked: tuple[Combination, Path], tools_venv: Path
) -> None:
    """Each workflow (CI, template update) passes check-jsonschema's GitHub workflow schema."""
    _, project = baked
    workflows = sorted((project / ".github" / "workflows").iterdir())

    assert [path.name for path in workflows] == ["ci.yml", "template-update.yml"]
    for workflow in workflows:
        result = check_github_workflow(workflow)
        assert result.returncode == 0, f"{workflow.name}: {result.stdout}{result.stderr}"


SECURITY_EXEMPTION = re.compile(r"noqa: [^#]*\bS\d{3}")


def test_bake_security_exemptions_each_give_their_reason(baked: tuple[Combination, Path]) -> None:
    """ruff's bandit rules (S, run by `make lint` on every bake) are silenced only with a
    reason: a comment above each `noqa: S...` line (or run of them) and above the per-file
    ignores in pyproject.toml."""
    _, project = baked
    exemptions = 0
    for path in sorted(project.rglob("*.py")):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if not SECURITY_EXEMPTION.search(line):
                continue
            exemptions += 1
            above = number - 1
            while SECURITY_EXEMPTION.search(lines[above]):
                above -= 1
            assert lines[above].strip().startswith("#"), f"{path}:{number + 1}: {line.strip()}"
    ignores = (project / "pyproject.toml").read_text().split("[tool.ruff.lint.per-file-ignores]")[1]
    assert ignores.splitlines()[1].startswith("# "), ignores
    assert exemptions >= 3


def test_bake_workflows_pass_actionlint(baked: tuple[Combination, Path], tools_venv: Path) -> None:
    """actionlint (shellcheck on every run: step included) finds nothing in the workflows."""
    _, project = baked

    result = actionlint(*sorted((project / ".github" / "workflows").iterdir()))

    assert result.returncode == 0, result.stdout + result.stderr


def test_bake_workflows_pass_zizmor_with_least_privilege(
    baked: tuple[Combination, Path], tools_venv: Path
) -> None:
    """zizmor finds nothing in the workflows: least-privilege permissions, no persisted
    credentials; its one exemption (actions pinned to version tags) is in .github/zizmor.yml."""
    _, project = baked

    result = zizmor(project / ".github" / "workflows")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_bake_dependabot_config_passes_its_schema_and_zizmor(
    baked: tuple[Combination, Path], tools_venv: Path
) -> None:
    """.github/dependabot.yml passes check-jsonschema's Dependabot schema and zizmor's
    Dependabot audits (a cooldown of at least a week, no code run at update time)."""
    _, project = baked
    config = project / ".github" / "dependabot.yml"

    schema = check_dependabot(config)
    audit = zizmor(config)

    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "No findings to report" in audit.stdout + audit.stderr


def test_dependabot_schema_check_refuses_an_ecosystem_dependabot_lacks(
    bakes: Callable[[Combination], Path], tools_venv: Path, tmp_path: Path
) -> None:
    """The schema check would catch the likely slip: Poetry projects are `pip` to Dependabot,
    and `package-ecosystem: poetry` is refused."""
    project = bakes(SUPPORTED[2])
    config = tmp_path / "dependabot.yml"
    text = (project / ".github" / "dependabot.yml").read_text()
    config.write_text(text.replace("package-ecosystem: pip", "package-ecosystem: poetry", 1))

    result = check_dependabot(config)

    assert result.returncode == 1
    assert "'poetry' is not one of" in result.stdout + result.stderr


def compose_images(project: Path) -> list[str]:
    """The images the compose files name (read as lines: they hold Compose's own !reset tag)."""
    return [
        image
        for path in sorted(project.glob("*compose*.yml"))
        for image in re.findall(r"^\s+image: (\S+)$", path.read_text(), re.MULTILINE)
    ]


def test_bake_dependabot_reads_every_pin_of_the_project(baked: tuple[Combination, Path]) -> None:
    """Dependabot watches Python packages, the Dockerfile, the compose files and the actions,
    each in the folder that holds them, in a form it can read: a FROM line naming its image
    (Dependabot does not substitute ARGs), compose images with a tag, actions with a version."""
    combo, project = baked
    config = yaml.safe_load((project / ".github" / "dependabot.yml").read_text())
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    dockerfile = (project / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, re.MULTILINE)
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    workflows = "".join(path.read_text() for path in (project / ".github" / "workflows").iterdir())
    actions = re.findall(r"^\s+(?:- )?uses: (\S+)$", workflows, re.MULTILINE)

    assert sorted(updates) == ["docker", "docker-compose", "github-actions", "pip"]
    assert {update["directory"] for update in updates.values()} == {"/"}
    assert [
        name for name, update in updates.items() if update["cooldown"]["default-days"] < 7
    ] == []
    assert (project / "pyproject.toml").is_file()
    assert (project / "poetry.lock").is_file()
    assert [base for base in bases if base not in stages] == [
        f"python:{combo.python_version}-slim"
    ] * 2
    images = compose_images(project)
    assert images
    assert [image for image in images if not re.fullmatch(r"[a-z0-9./-]+:[\w.-]+", image)] == []
    assert actions
    assert [action for action in actions if not re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", action)] == []


def test_bake_ci_builds_the_sbom_and_audits_the_runtime_packages(
    baked: tuple[Combination, Path],
) -> None:
    """The CI workflow runs `make sbom` and `make audit` (the targets the tooling tests run)
    and keeps sbom.cdx.json as an artifact."""
    _, project = baked
    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    steps = workflow["jobs"]["supply-chain"]["steps"]

    runs = [step["run"] for step in steps if "run" in step]
    uploads = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact")]
    assert [run for run in runs if run.startswith("make ")] == ["make sbom", "make audit"]
    assert [step["with"]["path"] for step in uploads] == ["sbom.cdx.json"]


def test_bake_template_update_opens_its_pull_request_with_a_token_that_gets_ci(
    baked: tuple[Combination, Path],
) -> None:
    """The template-update workflow opens its pull request with TEMPLATE_UPDATE_TOKEN (GitHub
    starts no CI for the workflow's own token), falls back to its own token with a warning,
    and the README names the secret and the permissions it needs."""
    _, project = baked
    workflow = yaml.safe_load(
        (project / ".github" / "workflows" / "template-update.yml").read_text()
    )
    job = workflow["jobs"]["update"]
    steps = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
    warnings = [step for step in job["steps"] if "::warning" in step.get("run", "")]
    readme = (project / "README.md").read_text()
    hint = readme[readme.index("`TEMPLATE_UPDATE_TOKEN`") :][:600]

    token = steps["peter-evans/create-pull-request"]["with"]["token"]
    assert token == "${{ secrets.TEMPLATE_UPDATE_TOKEN || github.token }}"
    assert job["env"]["HAS_UPDATE_TOKEN"] == "${{ secrets.TEMPLATE_UPDATE_TOKEN != '' }}"
    assert [step["if"] for step in warnings] == [
        "steps.update.outputs.changed == 'true' && env.HAS_UPDATE_TOKEN != 'true'"
    ]
    assert [name for name in ("Contents", "Pull requests", "Workflows") if name not in hint] == []


def test_bake_supply_chain_tools_run_at_the_template_versions(
    bakes: Callable[[Combination], Path],
) -> None:
    """The Makefile's pipx pins of cyclonedx-bom and pip-audit are the versions the template's
    tests run (pyproject.toml's dev group)."""
    makefile = (bakes(SUPPORTED[2]) / "Makefile").read_text()
    pinned = dict(re.findall(r"--spec ([\w-]+)==(\S+)", makefile))
    dev = dict(requirement.split("==") for requirement in tasks.dev_requirements())

    assert sorted(pinned) == ["cyclonedx-bom", "pip-audit"]
    assert {name: dev[name] for name in pinned} == pinned


LICENSE_FIRST_LINES = {
    "MIT": "MIT License",
    "BSD-3-Clause": "Copyright (c) {year} {author}.",
    "Apache-2.0": "Apache License",
    "GPL-3.0": "GNU GENERAL PUBLIC LICENSE",
    "Not open source": "Copyright (c) {year} {author}. All rights reserved.",
}


@pytest.mark.parametrize("licence", LICENSE_FIRST_LINES)
def test_bake_license_matches_the_answer(cookies: Cookies, licence: str) -> None:
    """LICENSE holds the chosen licence's text, with the year and author filled in."""
    project = bake(cookies, open_source_license=licence, author_name="Ada Lovelace")

    text = (project / "LICENSE").read_text()
    first = LICENSE_FIRST_LINES[licence].format(year=date.today().year, author="Ada Lovelace")
    assert text.lstrip().startswith(first)
    assert "<year>" not in text.split("How to Apply")[0]
    assert not (project / "_licenses").exists()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    if licence == "Not open source":
        assert "license" not in pyproject
    else:
        assert pyproject["license"] == licence


def test_bake_lock_matches_pyproject(baked: tuple[Combination, Path], tools_venv: Path) -> None:
    """poetry.lock is current for pyproject.toml (else run `python3 tasks.py lock`)."""
    _, project = baked

    result = subprocess.run(
        [str(tasks.bin_path(tools_venv, "poetry")), "check", "--lock", "--no-interaction"],
        cwd=project,
        capture_output=True,
        text=True,
        env=tasks.tool_env(),
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_bake_writes_a_fresh_secret_key(cookies: Cookies) -> None:
    """Each bake's .env holds its own key; the template and .env.example hold none."""
    keys = []
    for _ in range(2):
        project = bake(cookies)
        env = dict(
            line.split("=", 1)
            for line in (project / ".env").read_text().splitlines()
            if line and not line.startswith("#")
        )
        keys.append(env["DJANGO_SECRET_KEY"])
        assert "DJANGO_SECRET_KEY=\n" in (project / ".env.example").read_text()
        assert os.stat(project / ".env").st_mode & 0o077 == 0

    assert keys[0] != keys[1]
    assert all(len(key) >= 50 for key in keys)


@pytest.mark.parametrize("slug", ["email", "api", "config", "class", "library-api"])
def test_bake_takes_slugs_that_name_modules_or_keywords(cookies: Cookies, slug: str) -> None:
    """The slug only names the folder, pyproject.toml's project and Kubernetes resources:
    names of modules, of the project's own packages, or keywords bake like any other."""
    project = bake(cookies, project_slug=slug)

    assert project.name == slug
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"] == slug


def test_bake_prints_next_steps(cookies: Cookies, capfd: pytest.CaptureFixture[str]) -> None:
    """The post-generation hook ends with the commands to run next."""
    bake(cookies, project_name="Shelf")

    out = capfd.readouterr().out
    assert "cd shelf" in out
    assert "poetry run python manage.py runserver" in out


def refusal(
    cookies: Cookies,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    template: Path,
    **context: str,
) -> str:
    """Bake ``template`` with ``context`` through pytest-cookies, expecting the pre-generation
    hook to refuse; return the one ERROR line it printed, having checked that nothing was
    left in the bake's output folder."""
    result = cookies.bake(extra_context=context, template=str(template))

    assert result.exit_code != 0
    assert isinstance(result.exception, FailedHookException), repr(result.exception)
    # The cookies fixture bakes into <tmp_path>/cookies/bakeNN, a folder per bake.
    outputs = (tmp_path / "cookies").iterdir()
    assert [list(folder.iterdir()) for folder in outputs] == [[]]
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize(
    ("context", "error"),
    [
        pytest.param(
            {"project_slug": "library api"},
            'ERROR: project_slug "library api": is not a name',
            id="slug-with-space",
        ),
        pytest.param(
            {"project_slug": "library_"},
            'ERROR: project_slug "library_": is not a name',
            id="slug-trailing-underscore",
        ),
        pytest.param(
            {"project_slug": "LibraryAPI"},
            'ERROR: project_slug "LibraryAPI": has uppercase letters',
            id="slug-uppercase",
        ),
        pytest.param(
            {"project_name": "A library " * 6},
            f'ERROR: project_slug "{"_".join(["a_library"] * 6)}": is 59 characters long',
            id="derived-slug-too-long",
        ),
        pytest.param({"project_name": " "}, 'ERROR: project_name " ": is empty', id="name-empty"),
        pytest.param(
            {"email": "not-an-email"},
            'ERROR: email "not-an-email": is not a valid email address',
            id="email",
        ),
        pytest.param(
            {"version": "v1 beta"},
            'ERROR: version "v1 beta": is not a PEP 440 version',
            id="version",
        ),
        pytest.param(
            {"timezone": "Moon/Base"},
            'ERROR: timezone "Moon/Base": is not an IANA time zone name',
            id="timezone",
        ),
    ],
)
def test_unsupported_answers_fail_and_leave_nothing(
    cookies: Cookies,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    context: dict[str, str],
    error: str,
) -> None:
    """A rejected answer stops the bake with one ERROR line naming it and saying what is
    wrong, and leaves an empty output folder."""
    assert refusal(cookies, capfd, tmp_path, ROOT, **context).startswith(error)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("database", "oracle"),
        ("app_layout", "hexagonal"),
        ("python_version", "3.11"),
        ("open_source_license", "Proprietary"),
    ],
)
def test_choice_outside_its_list_fails_and_leaves_nothing(
    cookies: Cookies, tmp_path: Path, field: str, value: str
) -> None:
    """An answer outside cookiecutter.json's choices is refused, naming the choices, before
    anything is written (an edited replay file, which skips that check, meets the hook's
    own check of the same list: tests/test_hooks.py)."""
    result = cookies.bake(extra_context={field: value}, template=str(ROOT))

    assert result.exit_code != 0
    assert isinstance(result.exception, ValueError)
    assert f"{value} provided for choice variable {field}" in str(result.exception)
    assert not any(Path(tmp_path).rglob("pyproject.toml"))


HOSTILE: dict[str, Any] = {
    "project_name": 'Bibliothèque "Quotes" \\ Ünïcode',
    "description": 'Line one\nLine "two" with \\backslash\\, {{ "{{" }} braces }}, tab\tand 😀',
    "author_name": 'O\'Brien "The Author" \\ Zoë',
}


@pytest.mark.parametrize("combo", combination_params(SUPPORTED[:3]))
def test_hostile_free_text_still_gives_valid_files(
    cookies: Cookies, tools_venv: Path, combo: Combination
) -> None:
    """Quotes, backslashes, non-ASCII, braces and newlines in answers break no file."""
    project = bake(cookies, **combo.context, **HOSTILE)

    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == (
        'Line one\nLine "two" with \\backslash\\, {{ braces }}, tab\tand 😀'
    )
    assert pyproject["project"]["authors"][0]["name"] == HOSTILE["author_name"]
    assert project.name == "bibliotheque_quotes_unicode"
    for path in project.rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    base = ast.parse((project / "config" / "settings" / "base.py").read_text(encoding="utf-8"))
    names = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in base.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == "PROJECT_NAME"
    }
    assert names == {"PROJECT_NAME": HOSTILE["project_name"]}
    assert ruff(tools_venv, "check", "--no-cache", project).returncode == 0


def test_bake_devcontainer_opens_the_development_service(baked: tuple[Combination, Path]) -> None:
    """The dev container is compose's web service as the user dev, and it starts only
    services that the bake's docker-compose.yml has (SQLite bakes have no db)."""
    combo, project = baked
    config = json.loads((project / ".devcontainer" / "devcontainer.json").read_text())
    compose = yaml.safe_load((project / "docker-compose.yml").read_text())

    assert config["dockerComposeFile"] == ["../docker-compose.yml", "../compose.override.yml"]
    assert (config["service"], config["remoteUser"], config["workspaceFolder"]) == (
        "web",
        "dev",
        "/app",
    )
    assert config["updateRemoteUserUID"] is True
    assert set(config["runServices"]) == set(compose["services"])
    assert ("db" in config["runServices"]) == (combo.database != "sqlite")
