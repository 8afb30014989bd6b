"""The template's two everyday commands, with nothing but Python 3.12+ installed.

    python3 tasks.py serve   # bake a project on SQLite and serve it
    python3 tasks.py test    # run the template's whole test suite

Both install the template's pinned tools (pyproject.toml, group "dev") into
.venv on first use. ``python3 tasks.py lock`` regenerates every variant's
poetry.lock (see docs/dependencies.md).
"""

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS_VENV = ROOT / ".venv"
DEMO_DIR = ROOT / ".demo"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "django-drf-docker"


def choices(field: str) -> tuple[str, ...]:
    """cookiecutter.json's choices for ``field``, default first: the one list of them."""
    with (ROOT / "cookiecutter.json").open(encoding="utf-8") as handle:
        return tuple(json.load(handle)[field])


DATABASES = choices("database")
API_AUTHS = choices("api_auth")
MIN_PYTHON = (3, 12)


def fail(message: str) -> None:
    """Stop with one clear line."""
    raise SystemExit(f"ERROR: {message}")


def bin_path(venv_dir: Path, name: str) -> Path:
    return venv_dir / ("Scripts" if os.name == "nt" else "bin") / name


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for Poetry and the tools: this process's, with ``extra`` on top."""
    return {**os.environ, **(extra or {})}


def run(command: Sequence[str | Path], **kwargs: object) -> None:
    """Run a command, stopping with its exit code when it fails."""
    result = subprocess.run([str(part) for part in command], check=False, **kwargs)
    if result.returncode != 0:
        fail(f"{' '.join(map(str, command))} exited with {result.returncode}")


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (parallel test workers share caches)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def dev_requirements(group: str = "dev") -> list[str]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["dependency-groups"][group]


def newer_python() -> str | None:
    """The real path of a Python 3.12+ on PATH or among pyenv's versions, for when
    python3 is older.

    A candidate on PATH may be a pyenv shim, which works only while PYENV_VERSION
    names its version; the interpreter itself reports where it really lives.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python3.{minor}") for minor in range(20, MIN_PYTHON[1] - 1, -1)]
    candidates += sorted(map(str, pyenv_root.glob("versions/3.*/bin/python3")), reverse=True)
    check = (
        f"import sys; sys.exit(1) if sys.version_info < {MIN_PYTHON!r} else print(sys.executable)"
    )
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", check], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return probe.stdout.strip() or candidate
    return None


def ensure_python() -> None:
    """Re-run this script under Python 3.12+ when started by an older python3."""
    if sys.version_info >= MIN_PYTHON:
        return
    found = newer_python()
    if found is None:
        fail(
            f"Python {'.'.join(map(str, MIN_PYTHON))}+ is needed, this is "
            f"{sys.version.split()[0]} and no newer one was found. Install Python 3.12 or newer."
        )
    print(f"python3 is {sys.version.split()[0]}; using {found}", file=sys.stderr)
    # A pyenv shim exports its own PYENV_VERSION to children; the found
    # interpreter is a real binary (never a shim), so drop the variable for what it runs.
    os.environ.pop("PYENV_VERSION", None)
    os.execv(found, [found, __file__, *sys.argv[1:]])


def ensure_tools(group: str = "dev") -> Path:
    """Create or refresh the virtual environment of a dependency group of pyproject.toml
    (.venv for "dev", .venv-GROUP for another) on Python 3.12+; return its path."""
    python = sys.executable if sys.version_info >= MIN_PYTHON else newer_python()
    if python is None:
        fail("Python 3.12 or newer is needed for the template's tools, and none was found.")
    requirements = dev_requirements(group)
    venv = TOOLS_VENV if group == "dev" else ROOT / f".venv-{group}"
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    stamp = hashlib.sha256(json.dumps([version, requirements]).encode()).hexdigest()
    stamp_file = venv / ".tools-stamp"
    with locked(ROOT / f"{venv.name}.lock"):
        if stamp_file.is_file() and stamp_file.read_text() == stamp:
            return venv
        print(f"Installing the template's tools into {venv} ...", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        run([python, "-m", "venv", venv])
        run([bin_path(venv, "python"), "-m", "pip", "install", "-q", *requirements])
        stamp_file.write_text(stamp)
    return venv


def install_project(project: Path, python: str | Path) -> Path:
    """Install a baked project from its poetry.lock into a cached virtual environment.

    The environment is keyed by the lock file and the interpreter, so every
    bake with the same dependencies shares one install; returns its path.
    """
    lock = (project / "poetry.lock").read_bytes()
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    key = hashlib.sha256(lock + version.encode()).hexdigest()[:16]
    target = CACHE_DIR / "venvs" / key
    with locked(CACHE_DIR / "venvs" / f"{key}.lock"):
        if not (target / ".installed").is_file():
            shutil.rmtree(target, ignore_errors=True)
            run([python, "-m", "venv", target])
            poetry = bin_path(TOOLS_VENV, "poetry")
            env = tool_env({"VIRTUAL_ENV": str(target), "POETRY_VIRTUALENVS_CREATE": "false"})
            env["PATH"] = os.pathsep.join((str(bin_path(target, "")), env["PATH"]))
            # --compile, as the baked `make install`: bytecode even where none is
            # written at import (PYTHONDONTWRITEBYTECODE).
            run(
                [poetry, "sync", "--no-interaction", "--compile"],
                cwd=project,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            (target / ".installed").write_text(key)
            (target / ".compiled").touch()
        if not (target / ".compiled").is_file():
            # Installed before --compile was used: compile it once now.
            compile_all = (
                "import compileall, sysconfig; "
                "compileall.compile_dir(sysconfig.get_path('purelib'), quiet=1, workers=0)"
            )
            run([bin_path(target, "python"), "-c", compile_all], stdout=subprocess.DEVNULL)
            (target / ".compiled").touch()
    return target


def bake(output_dir: Path, *extra_context: str, quiet: bool = False) -> Path:
    """Bake the template with --no-input into ``output_dir``; return the project folder.
    ``quiet`` drops what the post-generation hook prints (the next steps)."""
    before = set(output_dir.iterdir()) if output_dir.is_dir() else set()
    run(
        [
            bin_path(TOOLS_VENV, "cookiecutter"),
            "--no-input",
            "--output-dir",
            output_dir,
            ROOT,
            *extra_context,
        ],
        stdout=subprocess.DEVNULL if quiet else None,
    )
    (project,) = set(output_dir.iterdir()) - before
    return project


def serve(args: argparse.Namespace) -> None:
    """Bake a project (on SQLite unless the answers name another database), install it,
    load the samples and run the development server."""
    ensure_tools()
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    answers = list(args.extra_context)
    # A server database's bake refuses to start without its server (`make db`);
    # SQLite needs nothing, which is what serve promises.
    if not any(answer.startswith("database=") for answer in answers):
        answers.insert(0, "database=sqlite")
    project = bake(DEMO_DIR, *answers)
    env = install_project(project, sys.executable)
    python = bin_path(env, "python")
    # The bake's .env names its database; a DATABASE_URL of the caller's must not win.
    os.environ.pop("DATABASE_URL", None)
    run([python, "manage.py", "migrate", "--verbosity", "0"], cwd=project)
    run([python, "manage.py", "load_sample_books"], cwd=project)
    print(
        f"\nServing {project} at http://127.0.0.1:{args.port}/ "
        f"(API: http://127.0.0.1:{args.port}/api/v1/books/). Ctrl-C stops it.\n",
        flush=True,
    )
    os.chdir(project)
    os.execv(python, [str(python), "manage.py", "runserver", f"127.0.0.1:{args.port}"])


def test(rest: Sequence[str]) -> None:
    """Run the template's test suite with pytest, in parallel; ``rest`` goes to pytest."""
    tools = ensure_tools()
    # worksteal: a worker that runs out of tests takes the other's queued ones, so the
    # slow real runs (bakes' suites, Docker) do not all end up queued behind one worker.
    command = [
        str(bin_path(tools, "python")),
        "-m",
        "pytest",
        "-n",
        "auto",
        "--dist",
        "worksteal",
        *rest,
    ]
    os.chdir(ROOT)
    os.execve(command[0], command, tool_env())


def run_script(name: str, rest: Sequence[str]) -> None:
    """Run benchmarks/<name>.py with the template's tools; ``rest`` goes to it."""
    tools = ensure_tools()
    command = [str(bin_path(tools, "python")), str(ROOT / "benchmarks" / f"{name}.py"), *rest]
    os.chdir(ROOT)
    os.execve(command[0], command, tool_env())


def bench(rest: Sequence[str]) -> None:
    """Print the benchmarks' table (benchmarks/bench.py)."""
    run_script("bench", rest)


def reliability(rest: Sequence[str]) -> None:
    """Print the reliability checks' table (benchmarks/reliability.py)."""
    run_script("reliability", rest)


def lock(args: argparse.Namespace) -> None:
    """Regenerate the poetry.lock of each database x authentication from a fresh bake."""
    ensure_tools()
    poetry = bin_path(TOOLS_VENV, "poetry")
    unknown = set(args.databases) - set(DATABASES)
    if unknown:
        fail(f"unknown database {sorted(unknown)}; choose from {', '.join(DATABASES)}")
    locks = ROOT / "{{cookiecutter.project_slug}}" / "_locks"
    for database in args.databases or DATABASES:
        for api_auth in API_AUTHS:
            with tempfile.TemporaryDirectory() as tmp:
                project = bake(Path(tmp), f"database={database}", f"api_auth={api_auth}")
                target = locks / f"poetry-{database}-{api_auth}.lock"
                # Start from the current lock so that unchanged pins stay as they are.
                if target.is_file() and target.stat().st_size:
                    shutil.copy(target, project / "poetry.lock")
                else:
                    (project / "poetry.lock").unlink()
                run([poetry, "lock", "--no-interaction"], cwd=project, env=tool_env())
                shutil.copy(project / "poetry.lock", target)
                print(f"{target.relative_to(ROOT)}: locked")


# Commands whose arguments all go to another program, unparsed.
PASS_THROUGH = {"test": test, "bench": bench, "reliability": reliability}


def main(argv: Sequence[str] | None = None) -> int:
    ensure_python()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in PASS_THROUGH:
        PASS_THROUGH[argv[0]](argv[1:])
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="bake a SQLite project and serve it")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument(
        "extra_context", nargs="*", help="key=value answers, e.g. app_layout=single"
    )
    serve_parser.set_defaults(handler=serve)
    test_parser = commands.add_parser("test", help="run the template's test suite")
    test_parser.add_argument("pytest_args", nargs="*", help="passed on to pytest")
    bench_parser = commands.add_parser("bench", help="print the benchmarks' table")
    bench_parser.add_argument("bench_args", nargs="*", help="passed on to bench.py")
    reliability_parser = commands.add_parser(
        "reliability", help="print the reliability checks' table"
    )
    reliability_parser.add_argument("reliability_args", nargs="*", help="passed on")
    lock_parser = commands.add_parser("lock", help="regenerate the variants' poetry.lock files")
    lock_parser.add_argument(
        "databases", nargs="*", help=f"any of {', '.join(DATABASES)}; all by default"
    )
    lock_parser.set_defaults(handler=lock)
    args = parser.parse_args(argv)
    args.handler(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
