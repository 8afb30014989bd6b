"""Template updates with cruft, done as a user would do them, and checked for real.

From a git copy of this repository (its HEAD is the template as it is now),
projects are baked at an earlier commit, committed, changed by their
"owners", then updated with cruft: for every database from the previous
release (following CHANGELOG.md's upgrade steps to the letter), and from a
current bake to a newer template commit, once cleanly and once with a
conflict. The updated projects install from their updated lock and pass
their own suite on their database.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tasks
from tests.support import (
    ROOT,
    Combination,
    combination_params,
    make,
    project_env,
    record_stat,
)
from tests.support.databases import baked_env, own_database, server_for

pytestmark = pytest.mark.slow

CHANGELOG = ROOT / "CHANGELOG.md"
# The placeholder the docs use for the template's repository.
TEMPLATE_URL = "https://github.com/<org>/django-drf-docker"
GIT = ("git", "-c", "user.name=Owner", "-c", "user.email=owner@example.com")
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\]", re.MULTILINE)
CONFLICT = re.compile(r"^(<<<<<<<|>>>>>>>) ", re.MULTILINE)
# One update per database, over both layouts and both authentications.
UPDATED = (
    Combination("postgresql", "split"),
    Combination("mysql", "single", api_auth="jwt", server="mysql-9.7"),
    Combination("sqlite", "single"),
)


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd``; return its output, failing the test with git's message if it fails."""
    result = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"git {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout.strip()


def release_entry(version: str) -> str:
    """CHANGELOG.md's text for one release, up to the next release heading."""
    text = CHANGELOG.read_text()
    start = text.index(f"## [{version}]")
    following = RELEASE.search(text, start + 1)
    return text[start : following.start() if following else len(text)]


def releases() -> list[str]:
    """The released versions in CHANGELOG.md, newest first."""
    return RELEASE.findall(CHANGELOG.read_text())


def previous_release() -> tuple[str, str]:
    """The release before the current one, and the commit CHANGELOG.md names for it."""
    previous = releases()[1]
    commit = re.search(r"Commit `([0-9a-f]{40})`", release_entry(previous))
    assert commit, f"CHANGELOG.md names no commit for {previous}"
    return previous, commit.group(1)


def upgrade_steps(current: str, previous: str) -> str:
    """The shell block CHANGELOG.md gives under "Upgrading from <previous>"."""
    entry = release_entry(current)
    section = entry[entry.index(f"### Upgrading from {previous}") :]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, f"no sh block under 'Upgrading from {previous}'"
    return block.group(1)


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git copy of this repository whose HEAD is the working tree's template.

    The previous release's commit comes from the history, tagged as the
    release step in CONTRIBUTING.md tags it.
    """
    copy = tmp_path_factory.mktemp("template") / "django-drf-docker"
    git(ROOT, "clone", "--quiet", "--no-checkout", str(ROOT), str(copy))
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    git(copy, "add", "--all")
    git(copy, "commit", "--quiet", "--allow-empty", "-m", "The template as tested")
    previous, commit = previous_release()
    known = subprocess.run([*GIT, "cat-file", "-e", f"{commit}^{{commit}}"], cwd=copy, check=False)
    assert known.returncode == 0, (
        f"release {previous}'s commit {commit} is not in this clone's history; "
        "fetch the full history (git fetch --unshallow) to test updates from it"
    )
    tagged = subprocess.run(
        [*GIT, "rev-parse", "--verify", "--quiet", f"v{previous}^{{commit}}"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if tagged:  # this clone has the release tags
        assert tagged == commit, f"tag v{previous} is {tagged}, CHANGELOG.md says {commit}"
    else:
        git(copy, "tag", f"v{previous}", commit)
    return copy


def bake_at(template: Path, ref: str, output: Path, combo: Combination) -> Path:
    """Bake ``combo`` with plain cookiecutter from a clone of ``template`` at ``ref``.

    cookiecutter runs in a process of its own: each template version imports
    its own local_extensions module.
    """
    checkout = output / "template-checkout"
    git(output, "clone", "--quiet", str(template), str(checkout))
    git(checkout, "checkout", "--quiet", ref)
    answers = [f"{key}={value}" for key, value in combo.context.items()]
    subprocess.run(
        [
            str(tasks.bin_path(tasks.TOOLS_VENV, "cookiecutter")),
            "--no-input",
            "--output-dir",
            str(output / "projects"),
            str(checkout),
            *answers,
        ],
        check=True,
        capture_output=True,
    )
    (project,) = (output / "projects").iterdir()
    return project


def commit_as_owner(project: Path, message: str) -> None:
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", message)


def start_repository(project: Path) -> None:
    """What a user does with a new bake: git init and a first commit (.env is ignored)."""
    git(project, "init", "--quiet", "--initial-branch", "main")
    commit_as_owner(project, "Baked from django-drf-docker")


def owners_changes(project: Path) -> tuple[str, str]:
    """A new file and a changed line the template does not own; returns both markers."""
    notes = "Runbook: restart the web service if /health/ready fails twice.\n"
    (project / "docs").mkdir(exist_ok=True)
    (project / "docs" / "runbook.md").write_text(notes)
    readme = project / "README.md"
    line = "Owned by the catalogue team; ask in #catalogue."
    text = readme.read_text().splitlines(keepends=True)
    text[2] = line + "\n"  # the description line under the title
    readme.write_text("".join(text))
    commit_as_owner(project, "Owners' changes")
    return notes, line


def cruft(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tasks.bin_path(tasks.TOOLS_VENV, "cruft")), *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "TERM": "dumb"},
    )


def leftovers(project: Path) -> tuple[list[str], list[str]]:
    """Rejected hunks (*.rej) and files with conflict markers, outside .git."""
    files = [path for path in project.rglob("*") if path.is_file() and ".git" not in path.parts]
    rejected = [str(path.relative_to(project)) for path in files if path.suffix == ".rej"]
    conflicted = [
        str(path.relative_to(project))
        for path in files
        if CONFLICT.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    return rejected, conflicted


@pytest.fixture(params=combination_params(UPDATED))
def updated_from_previous_release(
    request: pytest.FixtureRequest, template_repo: Path, tmp_path: Path, tools_venv: Path
) -> tuple[Combination, Path, tuple[str, str], str]:
    """A project baked at the previous release, changed by its owners, then updated to HEAD
    with exactly the shell steps CHANGELOG.md gives for that release."""
    combo: Combination = request.param
    server_for(combo)  # up, or skipped with the reason before the bake
    previous, _ = previous_release()
    project = bake_at(template_repo, f"v{previous}", tmp_path, combo)
    start_repository(project)
    changes = owners_changes(project)
    secret_env = (project / ".env").read_text()

    steps = upgrade_steps(releases()[0], previous).replace(TEMPLATE_URL, str(template_repo))
    env = {
        **os.environ,
        "PATH": os.pathsep.join((str(tasks.bin_path(tasks.TOOLS_VENV, "")), os.environ["PATH"])),
        "GIT_AUTHOR_NAME": "Owner",
        "GIT_COMMITTER_NAME": "Owner",
        "GIT_AUTHOR_EMAIL": "owner@example.com",
        "GIT_COMMITTER_EMAIL": "owner@example.com",
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", steps],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"upgrade steps:\n{result.stdout}\n{result.stderr}"
    assert (project / ".env").read_text() == secret_env, "the update changed .env"
    return combo, project, changes, result.stdout + result.stderr


def test_update_from_previous_release(
    updated_from_previous_release: tuple[Combination, Path, tuple[str, str], str],
    template_repo: Path,
) -> None:
    """No rejected hunks, no conflict markers, the owners' changes kept, cruft up to date;
    the project installs from its updated lock and passes `make test` on its database,
    and `make template-check` finds it current."""
    combo, project, (notes, line), output = updated_from_previous_release

    assert leftovers(project) == ([], []), output
    assert (project / "docs" / "runbook.md").read_text() == notes
    readme = (project / "README.md").read_text()
    assert line in readme
    assert "## Keeping up with the template" in readme  # the template's change arrived
    assert not (project / ".cookiecutter-replay.json").exists()
    touched = git(project, "status", "--porcelain").splitlines()
    assert cruft(project, "check").returncode == 0
    head = git(template_repo, "rev-parse", "HEAD")
    assert f'"commit": "{head}"' in (project / ".cruft.json").read_text()
    record_stat(f"update-{combo.id}", {"files touched by the update": len(touched)})

    commit_as_owner(project, "Update from the project template")
    poetry = tasks.bin_path(tasks.TOOLS_VENV, "poetry")
    checked = subprocess.run(
        [str(poetry), "check", "--lock"],
        cwd=project,
        env=tasks.tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, "the template's lock did not apply:\n" + checked.stdout
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    env = baked_env()
    with own_database(python, server_for(combo), env):
        result = make(project, python, "test", "template-check", env=env)
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]
    assert "up to date" in result.stdout


@pytest.fixture
def current_bake(template_repo: Path, tmp_path: Path, tools_venv: Path) -> tuple[Path, Path]:
    """A SQLite project baked from a clone of the template at HEAD, committed; and the clone."""
    project = bake_at(template_repo, "HEAD", tmp_path, Combination("sqlite", "split"))
    checkout = tmp_path / "template-checkout"
    # The bake named the clone it was made from: cruft takes updates from there.
    assert f'"template": "{checkout}"' in (project / ".cruft.json").read_text()
    start_repository(project)
    return checkout, project


def template_commit(checkout: Path, edits: dict[str, tuple[str, str]]) -> str:
    """Commit ``edits`` (a file of the baked folder: old text, new text) to the template
    checkout; return the new commit."""
    git(checkout, "checkout", "--quiet", "-B", "main")
    for name, (old, new) in edits.items():
        path = checkout / "{{cookiecutter.project_slug}}" / name
        text = path.read_text()
        assert old in text, f"{name} lacks {old!r}"
        path.write_text(text.replace(old, new, 1))
    git(checkout, "commit", "--quiet", "--all", "-m", "A newer template")
    return git(checkout, "rev-parse", "HEAD")


def test_fresh_bake_is_quiet_to_cruft(current_bake: tuple[Path, Path]) -> None:
    """A fresh bake is up to date and `cruft diff` is empty: no secret, nothing random."""
    _, project = current_bake
    secret = next(
        line.split("=", 1)[1]
        for line in (project / ".env").read_text().splitlines()
        if line.startswith("DJANGO_SECRET_KEY=")
    )

    diff = cruft(project, "diff", "--exit-code")
    check = cruft(project, "check")

    # The output holds only what the template's hook prints while cruft renders it.
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert "diff --git" not in diff.stdout
    assert secret not in diff.stdout + diff.stderr
    assert check.returncode == 0, check.stdout + check.stderr


def test_make_template_update_merges_a_newer_template(current_bake: tuple[Path, Path]) -> None:
    """`make template-check` fails on a newer template commit; `make template-update` applies
    it as a three-way merge beside the owners' change, and the check passes again."""
    template, project = current_bake
    notes, line = owners_changes(project)
    new = template_commit(template, {".editorconfig": ("[Makefile]", "[{Makefile,*.mk}]")})
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    stale = subprocess.run(
        ["make", "template-check", f"POETRY={tasks.bin_path(tasks.TOOLS_VENV, 'poetry')}"],
        cwd=project,
        env=project_env(python),
        capture_output=True,
        text=True,
        check=False,
    )
    assert stale.returncode != 0
    assert "out of date" in stale.stdout + stale.stderr

    make(project, python, "template-update")

    assert leftovers(project) == ([], [])
    assert "[{Makefile,*.mk}]" in (project / ".editorconfig").read_text()
    assert line in (project / "README.md").read_text()
    assert (project / "docs" / "runbook.md").read_text() == notes
    assert f'"commit": "{new}"' in (project / ".cruft.json").read_text()
    git(project, "commit", "--quiet", "--all", "-m", "Update from the project template")
    assert "up to date" in make(project, python, "template-check").stdout


def test_conflicting_change_gets_conflict_markers_not_rejects(
    current_bake: tuple[Path, Path],
) -> None:
    """Where the owners and the template changed the same line, cruft's three-way merge
    leaves conflict markers in that file alone; every other change still applies."""
    template, project = current_bake
    makefile = project / "Makefile"
    makefile.write_text(makefile.read_text().replace("PORT ?= 8000", "PORT ?= 8080"))
    commit_as_owner(project, "Serve on 8080")
    template_commit(
        template,
        {
            "Makefile": ("PORT ?= 8000", "PORT ?= 8001"),
            ".editorconfig": ("[Makefile]", "[{Makefile,*.mk}]"),
        },
    )

    result = cruft(project, "update", "--skip-apply-ask")

    assert result.returncode == 0, result.stdout + result.stderr
    rejected, conflicted = leftovers(project)
    assert rejected == []
    assert conflicted == ["Makefile"]
    merged = makefile.read_text()
    assert "PORT ?= 8080" in merged
    assert "PORT ?= 8001" in merged
    assert "[{Makefile,*.mk}]" in (project / ".editorconfig").read_text()
