"""Background work for real: a bake's imports run on worker processes on each real database.

Each database's bake is served by runserver with two `manage.py worker`
processes beside it. A file of books sent to the API is imported by a worker
(not the web process); a worker killed with SIGKILL in the middle of an
import leaves it to the other, which resumes it: every book exists once and
the counts are those of one run. Imports sent together are each run by
exactly one worker. Server databases skip where the server is unreachable,
and fail instead when the CI environment variable is set.
"""

import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_cookies.plugin import Cookies

from tests.support import Combination, bake, record_stat, served, tasks
from tests.support.databases import Baked, baked_env, own_database, server_for
from tests.support.workers import (
    WORKER_TEST_ENV,
    books_csv,
    counts,
    finished,
    owns,
    send,
    shell,
    staff_token,
    state,
    workers,
)

pytestmark = pytest.mark.slow

# Every database, and the mysql choice on MySQL itself as well as MariaDB.
DATABASES = (
    *(Combination(database, "split") for database in tasks.DATABASES),
    Combination("mysql", "split", server="mysql-9.7"),
)
# A dead worker on the same host is noticed at the next recovery pass, every 1/5 of this.
LOST_AFTER = 5
TIMED_ROWS = 10_000
KILLED_ROWS = 20_000


@pytest.fixture(
    params=[pytest.param(combo, id=combo.server or combo.database) for combo in DATABASES]
)
def baked(request: pytest.FixtureRequest, cookies: Cookies, tools_venv: Path) -> Iterator[Baked]:
    """A migrated bake of the database, with a staff user, on a database of its own."""
    combo: Combination = request.param
    server = server_for(combo)
    project = bake(cookies, **combo.context)
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    env = {**baked_env(), **WORKER_TEST_ENV}
    with own_database(python, server, env):
        baked = Baked(combo, project, python, env)
        baked.run("manage.py", "migrate", "--verbosity", "0")
        yield baked


def test_imports_run_on_workers_and_survive_a_killed_worker(baked: Baked) -> None:
    """A 10,000-row import runs on a worker; a worker killed mid-import leaves a 20,000-row
    import to the other, which resumes it: no duplicate, none lost, one run's counts; four
    imports sent together each run on exactly one worker."""
    authorization = staff_token(baked)
    with served(baked.project, baked.python, baked.env) as base, workers(baked, 2) as pool:
        sent = time.monotonic()
        url = send(base, authorization, "timed.csv", books_csv(range(TIMED_ROWS)))
        done = finished(url, authorization)
        seconds = time.monotonic() - sent
        assert counts(done) == ("succeeded", TIMED_ROWS, TIMED_ROWS, TIMED_ROWS, 0, 0)

        serials = range(1_000_000, 1_000_000 + KILLED_ROWS)
        url = send(base, authorization, "killed.csv", books_csv(serials))
        deadline = time.monotonic() + 60
        while (current := state(url, authorization))["rows_done"] == 0:
            assert time.monotonic() < deadline, current
            time.sleep(0.01)
        # The worker that ran the first import may be the one running this one.
        victim = next(process for process, _ in pool if owns(process, pool, 2))
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        at_kill = state(url, authorization)
        assert at_kill["status"] == "running", at_kill
        assert 0 < at_kill["rows_done"] < KILLED_ROWS
        done = finished(url, authorization)
        assert counts(done) == ("succeeded", KILLED_ROWS, KILLED_ROWS, KILLED_ROWS, 0, 0)
        [survivor_log] = [log for process, log in pool if process is not victim]
        resumed = survivor_log.read_text()
        assert "queued again" in resumed
        assert f"resumes after row {at_kill['rows_done']} (attempt 2)" in resumed

        # Four imports at once on two workers (the survivor and a new one).
        with workers(baked, 1) as more:
            urls = [
                send(
                    base,
                    authorization,
                    f"batch-{n}.csv",
                    books_csv(range(n * 1000, n * 1000 + 500)),
                )
                for n in range(2_000, 2_004)
            ]
            assert [counts(finished(u, authorization))[0] for u in urls] == ["succeeded"] * 4
            logs = [log for _, log in (*pool, *more)]
        runs = sum(log.read_text().count("import_books state=RUNNING") for log in logs)

    assert runs == 1 + 2 + 4  # each task once; the killed import twice (killed, resumed)
    assert (
        shell(
            baked,
            "from books.models import Book\n"
            "from imports.models import ImportJob\n"
            "print(Book.objects.count(), Book.objects.values('isbn').distinct().count(),"
            " sorted(ImportJob.objects.values_list('attempts', flat=True)))",
        )
        == f"{TIMED_ROWS + KILLED_ROWS + 2000} {TIMED_ROWS + KILLED_ROWS + 2000} [1, 1, 1, 1, 1, 2]"
    )
    record_stat(
        f"worker {baked.combo.server or baked.combo.database}",
        {"import rows/s": round(TIMED_ROWS / seconds), "rows done at kill": at_kill["rows_done"]},
    )
