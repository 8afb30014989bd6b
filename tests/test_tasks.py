"""tasks.py started by a Python older than 3.12: it re-runs itself under a newer one,
including when that one is reached through a pyenv shim."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tasks  # noqa: E402  (the repository root is not a package)

# This interpreter (3.12+, as tasks.py needs), under its pyenv-style name.
VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def fake_pyenv_shim(bin_dir: Path) -> Path:
    """A ``python3.X`` like pyenv's shim: it runs this interpreter only while
    PYENV_VERSION names 3.X, and otherwise fails as pyenv does."""
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / f"python{VERSION}"
    shim.write_text(
        "#!/bin/sh\n"
        f'case ":$PYENV_VERSION" in *:{VERSION}*) exec "{sys.executable}" "$@";; esac\n'
        f'echo "pyenv: python{VERSION}: command not found" >&2\n'
        "exit 127\n"
    )
    shim.chmod(0o755)
    return shim


def python_311() -> Path | None:
    """The real binary of a Python 3.11 (old enough to re-run, new enough for tomllib)."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [
        shutil.which("python3.11"),
        *map(str, pyenv_root.glob("versions/3.11*/bin/python3")),
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.executable, sys.version_info[:2] == (3, 11))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.split()[1] == "True":
            return Path(probe.stdout.split()[0])
    return None


def test_newer_python_is_the_real_interpreter_behind_a_shim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """newer_python() gives the interpreter a pyenv shim leads to, not the shim, so that
    what it returns still runs once PYENV_VERSION is gone."""
    shim = fake_pyenv_shim(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(shim.parent))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("PYENV_VERSION", f"3.11.7:{VERSION}.0")

    found = tasks.newer_python()

    assert found is not None
    monkeypatch.delenv("PYENV_VERSION")
    result = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Python {VERSION}")


def test_older_python3_reruns_tasks_through_a_pyenv_shim(tmp_path: Path) -> None:
    """With `pyenv shell 3.11.7 3.X` (python3 is 3.11 and python3.X a shim), `python3
    tasks.py --help` re-runs under 3.X and succeeds."""
    old = python_311()
    if old is None:
        pytest.skip("no Python 3.11 to start tasks.py with")
    bin_dir = tmp_path / "bin"
    fake_pyenv_shim(bin_dir)
    (bin_dir / "python3").symlink_to(old)
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
        "PYENV_VERSION": f"3.11.7:{VERSION}.0",
    }

    result = subprocess.run(
        [str(bin_dir / "python3"), "tasks.py", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "python3 is 3.11" in result.stderr
    assert "serve" in result.stdout


def baked_answers(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    """The answers `tasks.py serve` bakes with, given ``answers`` on its command line;
    everything after the bake is stopped."""
    baked: list[str] = []

    def bake(output_dir: Path, *context: str) -> Path:
        baked.extend(context)
        raise SystemExit(0)

    monkeypatch.setattr(tasks, "ensure_tools", lambda: None)
    monkeypatch.setattr(tasks, "DEMO_DIR", Path("/nonexistent/demo"))
    monkeypatch.setattr(tasks, "bake", bake)
    with pytest.raises(SystemExit):
        tasks.main(["serve", *answers])
    return baked


def test_serve_bakes_on_sqlite_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """`tasks.py serve` needs no database server: it bakes with database=sqlite, keeping the
    other answers given, and a database named on the command line wins."""
    assert baked_answers(monkeypatch, "app_layout=single") == [
        "database=sqlite",
        "app_layout=single",
    ]
    assert baked_answers(monkeypatch, "database=mysql") == ["database=mysql"]
