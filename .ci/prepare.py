"""Fill the caches the template's tests share before they start: CI-only.

Run by .ci/run with the tools' interpreter (.venv) while the Docker sandbox
comes up in the background. It bakes one project per database and
authentication (each has a lock of its own, see the bake's _locks) and installs
each from its lock with tasks.install_project, two at a time: the same cached
environments (keyed by the lock and the interpreter) that the tests install on
first use. On a warm machine every install is already there and this takes
seconds; on a fresh one the tests would otherwise wait on the installs, one
worker behind the other.
"""

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tasks  # the repository's tasks.py, found through the path above


def prepare(database: str, api_auth: str, workdir: Path) -> str:
    """Bake (database, api_auth) and install it from its lock; a line saying how long it took."""
    started = time.monotonic()
    project = tasks.bake(
        workdir / f"{database}-{api_auth}",
        f"database={database}",
        f"api_auth={api_auth}",
        quiet=True,
    )
    venv = tasks.install_project(project, sys.executable)
    return f"{database}-{api_auth}: {venv.name} in {time.monotonic() - started:.0f} s"


def main() -> int:
    tasks.ensure_tools()
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(prepare, database, api_auth, Path(workdir))
            for database in tasks.DATABASES
            for api_auth in tasks.API_AUTHS
        ]
        for future in futures:
            print(future.result(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
