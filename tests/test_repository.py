"""The template repository itself: its own Python is lint-clean, its workflow valid,
its version and CHANGELOG.md in step."""

import itertools
import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

import tasks
from tests.support import ROOT, SUPPORTED, actionlint, bake, check_github_workflow, zizmor
from tests.support.docker import DEV_VARIANTS, DOCKER_VARIANTS

# Everything but the template folder, which is Jinja (its bakes are linted instead).
PYTHON_PATHS = ["hooks", "tests", "benchmarks", "tasks.py", "local_extensions.py"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_repository_code_passes_ruff(tools_venv: Path, command: list[str]) -> None:
    """ruff, configured in pyproject.toml, finds nothing (the template folder is excluded)."""
    result = subprocess.run(
        [str(tasks.bin_path(tools_venv, "ruff")), *command, "--no-cache", *PYTHON_PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_template_ci_workflow_is_valid(tools_venv: Path) -> None:
    """.github/workflows/ci.yml passes check-jsonschema's GitHub workflow schema."""
    result = check_github_workflow(ROOT / ".github" / "workflows" / "ci.yml")

    assert result.returncode == 0, result.stdout + result.stderr


def test_template_ci_workflow_passes_actionlint(tools_venv: Path) -> None:
    """actionlint, with shellcheck on its run: steps, finds nothing in the template's workflow."""
    result = actionlint(ROOT / ".github" / "workflows" / "ci.yml")

    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_what_shellcheck_finds(tmp_path: Path, tools_venv: Path) -> None:
    """The workflow checks would catch a shell mistake: shellcheck runs inside actionlint."""
    workflow = tmp_path / "bad.yml"
    workflow.write_text(
        "on: push\npermissions:\n  contents: read\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: mkdir out && cp a.txt out || rm -r out\n"
    )

    result = actionlint(workflow)

    assert result.returncode == 1
    assert "SC2015" in result.stdout


def test_template_ci_workflow_passes_zizmor(tools_venv: Path) -> None:
    """zizmor finds nothing in the template's own workflow (read-only token, no persisted
    credentials; actions pinned to version tags, as .github/zizmor.yml says)."""
    result = zizmor(ROOT / ".github" / "workflows")

    assert result.returncode == 0, result.stdout + result.stderr


def test_changelog_names_the_released_version() -> None:
    """pyproject.toml's version is CHANGELOG.md's newest release, and every release before
    the newest is given as an "Upgrading from" section of the one after it."""
    changelog = (ROOT / "CHANGELOG.md").read_text()
    with (ROOT / "pyproject.toml").open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.MULTILINE)

    assert released[0] == version
    for newer, older in itertools.pairwise(released):
        entry = changelog[changelog.index(f"## [{newer}]") : changelog.index(f"## [{older}]")]
        assert f"### Upgrading from {older}" in entry, f"{newer} says nothing for {older}"


def markdown_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of each body row of the table whose header row starts with ``heading``."""
    section = text[text.index(heading) :]
    rows = []
    for line in section.splitlines()[2:]:
        if not line.startswith("| "):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def cookiecutter_answers() -> dict[str, object]:
    """cookiecutter.json's prompts and their defaults (lists: the choices, default first)."""
    with (ROOT / "cookiecutter.json").open() as handle:
        return {key: value for key, value in json.load(handle).items() if not key.startswith("_")}


@pytest.mark.parametrize(
    ("doc", "choices_column", "default_column"),
    [("README.md", 2, 1), ("docs/options.md", 1, 2)],
    ids=["readme", "options"],
)
def test_options_tables_list_every_prompt_and_choice(
    doc: str, choices_column: int, default_column: int
) -> None:
    """The options tables name each prompt of cookiecutter.json once, give a choice
    prompt's choices in its order, and its first choice as the default."""
    answers = cookiecutter_answers()
    rows = markdown_rows((ROOT / doc).read_text(), "| prompt |")
    named = [name for row in rows for name in re.findall(r"`(\w+)`", row[0])]

    assert sorted(named) == sorted(answers)
    for row in rows:
        (name, *_) = re.findall(r"`(\w+)`", row[0])
        choices = answers[name]
        if isinstance(choices, list):
            assert row[choices_column] == ", ".join(choices), name
            assert row[default_column] == choices[0], name


def bake_files(output_dir: Path, **answers: str) -> dict[str, bytes]:
    """A bake's files by their path, ``answers`` given and defaults for the rest."""
    project = Path(
        cookiecutter(str(ROOT), no_input=True, extra_context=answers, output_dir=str(output_dir))
    )
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file()
    }


def named_by(path: str, cell: str) -> bool:
    """Whether a table cell names ``path``: itself, a folder holding it, or a pattern
    such as `tests/test_auth_<choice>.py`."""
    for name in re.findall(r"`([^`]+)`", cell):
        pattern = re.sub(r"<[^>]+>", "[^/]+", re.escape(name))
        if re.fullmatch(pattern, path) or (name.endswith("/") and path.startswith(name)):
            return True
    return False


# The answers are recorded in .cruft.json, and .env holds fresh secrets: both
# differ between any two bakes.
EVERY_BAKE_DIFFERS = {".cruft.json", ".env"}


@pytest.mark.parametrize(
    "prompt", [key for key, value in cookiecutter_answers().items() if isinstance(value, list)]
)
def test_options_reference_names_every_file_an_answer_changes(tmp_path: Path, prompt: str) -> None:
    """docs/options.md's "changes" cell names every file that differs between a bake with
    the prompt's default and a bake with each other choice."""
    default, *others = cookiecutter_answers()[prompt]
    row = next(
        cells
        for cells in markdown_rows((ROOT / "docs" / "options.md").read_text(), "| prompt |")
        if cells[0] == f"`{prompt}`"
    )
    base = bake_files(tmp_path / "default", **{prompt: default})

    changed = set()
    for index, choice in enumerate(others):
        files = bake_files(tmp_path / str(index), **{prompt: choice})
        changed |= {
            path for path in base.keys() | files.keys() if base.get(path) != files.get(path)
        }

    assert changed - EVERY_BAKE_DIFFERS
    assert sorted(path for path in changed - EVERY_BAKE_DIFFERS if not named_by(path, row[3])) == []


def test_readme_tree_shows_a_bakes_top_level(tmp_path: Path) -> None:
    """The top level of the README's "What gets baked" tree is what the split and
    single layouts' bakes hold between them, nothing more."""
    readme = (ROOT / "README.md").read_text()
    tree = readme[readme.index("## What gets baked") :].split("```")[1]
    shown = {
        token.split("/")[0] + ("/" if "/" in token else "")
        for line in tree.splitlines()
        if line.startswith(("├── ", "└── "))
        for token in re.split(r"\s{2,}", line[4:])
        if token and " " not in token
    }
    baked = set()
    for answers in ({"database": "postgresql"}, {"database": "sqlite", "app_layout": "single"}):
        project = Path(
            cookiecutter(
                str(ROOT),
                no_input=True,
                extra_context=answers,
                output_dir=str(tmp_path / answers["database"]),
            )
        )
        baked |= {path.name + ("/" if path.is_dir() else "") for path in project.iterdir()}

    # .cruft.json is written only when the template is a git checkout.
    assert shown - {".cruft.json"} == baked - {".cruft.json"}


def test_readme_names_the_make_shortcuts() -> None:
    """README's list of `make` shortcuts is the template Makefile's targets."""
    readme = (ROOT / "README.md").read_text()
    listed = re.search(r"`make ([a-z ]+)` are shortcuts", readme)
    targets = re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE)

    assert listed is not None
    assert sorted(listed.group(1).split()) == sorted(targets)


VARIANT_ID = re.compile(r"`([a-z]+-[a-z]+-[a-z]+-py3\.\d+)`")


def test_readme_names_the_variants_the_tests_run() -> None:
    """Every variant id the README names is one the suite bakes or runs on Docker, and
    its Docker paragraph names each variant tests/test_docker.py runs."""
    readme = (ROOT / "README.md").read_text()
    docker = readme[readme.index("- **Docker, on a real engine**") :].split("\n\n", 1)[0]
    on_docker = {combo.id for combo in (*DOCKER_VARIANTS, *DEV_VARIANTS)}

    assert set(VARIANT_ID.findall(readme)) <= {combo.id for combo in SUPPORTED} | on_docker
    assert set(VARIANT_ID.findall(docker)) == on_docker


POETRY_VERSION = re.compile(r"poetry==([0-9][^\s\"']*)|POETRY_VERSION: \"([^\"]+)\"")


@pytest.mark.parametrize("database", ["postgresql", "sqlite", "mysql"])
def test_poetry_is_pinned_once(cookies: object, database: str) -> None:
    """One Poetry version everywhere: the dev group's pin, which locks every bake, is
    cookiecutter.json's _poetry_version, the only version a bake's Dockerfile and CI name."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pinned = next(
        spec.split("==")[1]
        for spec in pyproject["dependency-groups"]["dev"]
        if spec.startswith("poetry==")
    )
    template = json.loads((ROOT / "cookiecutter.json").read_text())
    project = bake(cookies, database=database)

    named = {
        version
        for path in (project / "Dockerfile", project / ".github" / "workflows" / "ci.yml")
        for match in POETRY_VERSION.finditer(path.read_text())
        for version in match.groups()
        if version and not version.startswith("$")
    }
    assert template["_poetry_version"] == pinned
    assert named == {pinned}


# Options live in files the post-generation hook keeps or deletes (STYLE.md,
# habit 2); Jinja in the template's Python is left for the few lists that gain
# or lose an entry.
MOST_JINJA_TAGS_IN_PYTHON = 12


def test_template_python_holds_few_jinja_tags_each_on_its_own_line() -> None:
    """The template's Python files hold at most a dozen Jinja tags, and each tag is a
    line of its own (``{%- if ... %}``), never inside a line of code or a string."""
    lines = [
        (path.relative_to(ROOT).as_posix(), line.strip())
        for path in sorted((ROOT / "{{cookiecutter.project_slug}}").rglob("*.py"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if "{%" in line or "%}" in line
    ]
    tags = sum(line.count("{%") for _, line in lines)

    assert 0 < tags <= MOST_JINJA_TAGS_IN_PYTHON
    assert [
        f"{path}: {line}"
        for path, line in lines
        if not (line.startswith("{%") and line.endswith("%}") and line.count("{%") == 1)
    ] == []
