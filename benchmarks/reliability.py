"""Reliability checks that print a figure each: prompts, API input, load, faults, data.

    python3 tasks.py reliability       # or: make reliability
    python3 tasks.py reliability --only load --databases sqlite

1. prompt inputs: bad answers, each refused with one ERROR line naming it,
   nothing left behind;
2. API input: schemathesis with many examples per operation on each
   database (the baked contract tests, SCHEMATHESIS_MAX_EXAMPLES=300);
3. load: 60 s of concurrent reads and writes against gunicorn on each
   database: errors, and rows against successful creates;
4. faults (Docker, PostgreSQL): the database stops while the API serves,
   then returns; and web started before the database;
5. data: `docker compose down` and `up`, and an image rebuild, keep rows;
6. throttle: anonymous requests let through of 200 sent within one window,
   against a configured 60/minute, for 1 and 4 gunicorn workers sharing
   Redis and for 3 replicas x 4 workers behind nginx (Docker);
7. worker kills: on each database, imports of 5,000 rows on two workers,
   the running worker killed with SIGKILL mid-import each time: imports
   finished, rows duplicated and rows lost (books of the files against the
   books in the database);
8. restarts: 16 keep-alive clients while one gunicorn gets SIGTERM, and
   reads and writes through nginx while each of 3 replicas is restarted in
   turn (Docker): requests sent and failed (tests/support/restarts.py).

Every loop is bounded in count and time and talks only to 127.0.0.1.
"""

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench import (  # noqa: E402
    DATABASES,
    attempt,
    gunicorn,
    installed_bake,
    per_database,
    quiet_bake,
    report,
)
from tests.support import Combination, served  # noqa: E402
from tests.support.databases import Baked  # noqa: E402
from tests.support.workers import (  # noqa: E402
    WORKER_TEST_ENV,
    books_csv,
    finished,
    send,
    shell,
    staff_token,
    state,
)
from tests.support.workers import workers as worker_processes  # noqa: E402

RESULTS = ROOT / ".bench" / "reliability.json"
LOAD_SECONDS = 60
LOAD_THREADS = 8

BAD_ANSWERS: list[tuple[str, str]] = [
    ("project_slug", "library api"),
    ("project_slug", "bibliothèque"),
    ("project_slug", "Library"),
    ("project_slug", "_library"),
    ("project_slug", "library_"),
    ("project_slug", "library-"),
    ("project_slug", "-library"),
    ("project_slug", "library.api"),
    ("project_slug", "über"),
    ("project_slug", "library\tapi"),
    ("project_slug", "a" * 56),
    ("project_slug", "x" * 64),
    ("project_name", "   "),
    ("project_name", "A library " * 6),
    ("email", "nobody"),
    ("email", "nobody@localhost"),
    ("email", "two words@example.com"),
    ("email", "a@b@example.com"),
    ("version", "one"),
    ("version", "1..0"),
    ("version", "v1 beta"),
    ("version", "1.0-final-final"),
    ("timezone", "Mars/Olympus"),
    ("timezone", "Paris"),
    ("timezone", "../../etc/passwd"),
    ("database", "oracle"),
    ("app_layout", "hexagonal"),
    ("api_auth", "oauth"),
    ("python_version", "3.11"),
    ("open_source_license", "WTFPL"),
]
CHOICE_FIELDS = {"database", "app_layout", "api_auth", "python_version", "open_source_license"}


def check_prompts() -> dict[str, Any]:
    """Bake each bad answer; count those refused with one clear line and an empty folder."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    cookiecutter = str(Path(sys.executable).parent / "cookiecutter")
    refused, problems = 0, []
    for field, value in BAD_ANSWERS:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            out.mkdir()
            if field in CHOICE_FIELDS:
                # cookiecutter refuses these on the command line itself; a replay
                # file reaches the hook, whose message is the one under test.
                context = generate_context(context_file=str(ROOT / "cookiecutter.json"))
                answers = {**prompt_for_config(context, no_input=True), field: value}
                replay = Path(tmp) / "replay.json"
                replay.write_text(json.dumps({"cookiecutter": {**answers, "_template": "."}}))
                command = [cookiecutter, "--replay-file", str(replay), "-o", str(out), "."]
            else:
                command = [cookiecutter, "--no-input", "-o", str(out), ".", f"{field}={value}"]
            result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
            slug_field = "project_slug" if field == "project_name" and value.strip() else field
            clear = len(errors) == 1 and errors[0].startswith(f'ERROR: {slug_field} "')
            if result.returncode != 0 and clear and not any(out.iterdir()):
                refused += 1
            else:
                problems.append(f"{field}={value!r}")
    return {"bad_answers": len(BAD_ANSWERS), "refused_cleanly": refused, "problems": problems}


CASES = re.compile(r"^\s+- (\d+) passing, (\d+) failing", re.MULTILINE)


def check_contract(database: str) -> dict[str, Any]:
    """The baked contract tests with 300 examples per operation; any failure is reported."""
    with installed_bake(database) as (project, python, env):
        result = subprocess.run(
            [
                str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "--hypothesis-show-statistics", "tests/test_contract.py",
            ],
            cwd=project,
            # The full profile (its coverage phase too), with 300 generated per operation.
            env={**env, "HYPOTHESIS_PROFILE": "ci", "SCHEMATHESIS_MAX_EXAMPLES": "300"},
            capture_output=True,
            text=True,
            timeout=1800,
        )  # fmt: skip
    counts = [(int(p), int(f)) for p, f in CASES.findall(result.stdout)]
    return {
        "cases": sum(p for p, _ in counts),
        "failing": sum(f for _, f in counts),
        "suite_passed": result.returncode == 0,
        "summary": result.stdout.strip().splitlines()[-1],
    }


def request(method: str, url: str, body: dict[str, str] | None = None, token: str = "") -> int:
    """The status code of one request (the docker tests' client)."""
    from tests.support.docker import http

    return http(method, url, body, authorization=f"Token {token}" if token else "")[0]


MAKE_TOKEN = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
user = User.objects.create_user("load", password="load-password-123")
print(Token.objects.create(user=user).key)
"""


def isbn13(first_twelve: str) -> str:
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first_twelve))
    return first_twelve + str(-total % 10)


def check_load(database: str) -> dict[str, Any]:
    """LOAD_SECONDS of reads and writes from LOAD_THREADS threads; rows = successful creates."""
    with tempfile.TemporaryDirectory() as tmp, gunicorn(database, Path(tmp)) as (base, manage):
        token = manage("shell", "--no-imports", "-c", MAKE_TOKEN).strip()
        counter = iter(range(10**9))
        lock = threading.Lock()
        tally: dict[str, int] = {"reads": 0, "creates": 0, "errors": 0}
        deadline = time.monotonic() + LOAD_SECONDS

        def worker(index: int) -> None:
            step = 0
            while time.monotonic() < deadline:
                step += 1
                try:
                    if step % 3:
                        ok = request("GET", f"{base}/api/v1/books/?page_size=20") == 200
                        kind = "reads"
                    else:
                        with lock:
                            n = next(counter)
                        book = {"title": f"Load {index}-{n}", "author": "Load",
                                "isbn": isbn13(f"979{n:09d}")}  # fmt: skip
                        ok = request("POST", f"{base}/api/v1/books/", book, token) == 201
                        kind = "creates"
                except OSError:
                    ok = False
                with lock:
                    tally[kind if ok else "errors"] += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(LOAD_THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=LOAD_SECONDS + 60)
        with urllib.request.urlopen(f"{base}/api/v1/books/?page_size=1", timeout=10) as response:
            rows = json.load(response)["count"]
    return {**tally, "rows": rows, "rows_match_creates": rows == tally["creates"]}


def check_docker_faults_and_data() -> dict[str, Any]:
    """Stop and start the database under a running API; restart and rebuild the stack."""
    from tests.support.docker import PG_PORT_BASE, WEB_PORT_BASE, buildable_here, compose_stack

    combo = Combination("postgresql", "split")
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        project = buildable_here(quiet_bake(Path(tmp), **combo.context))
        stack = compose_stack(
            combo, project, WEB_PORT_BASE + 95, PG_PORT_BASE + 95, name_prefix="reliability"
        )
        compose = stack.command
        base = stack.url("")

        def dc(*args: str) -> None:
            subprocess.run(
                [*compose, *args], cwd=project, env=stack.env, check=True, capture_output=True
            )

        def wait_status(path: str, expected: int, limit: float = 60) -> float:
            started = time.monotonic()
            while time.monotonic() - started < limit:
                try:
                    if request("GET", base + path) == expected:
                        return round(time.monotonic() - started, 1)
                except OSError:
                    pass
                time.sleep(0.2)
            raise AssertionError(f"{path} never answered {expected} within {limit} s")

        try:
            dc("up", "--detach", "--wait", "--wait-timeout", "300")
            dc("exec", "-T", "web", "python", "manage.py", "load_sample_books")
            web_id = subprocess.run(
                [*compose, "ps", "-q", "web"], cwd=project, env=stack.env, check=True,
                capture_output=True, text=True,
            ).stdout.strip()  # fmt: skip

            dc("stop", "db")
            figures["ready_503_after_db_stop_s"] = wait_status("/health/ready", 503)
            started = time.monotonic()
            status = request("GET", f"{base}/api/v1/books/")
            figures["request_while_db_down"] = {
                "status": status,
                "seconds": round(time.monotonic() - started, 1),
            }
            dc("start", "db")
            figures["recovered_after_db_start_s"] = wait_status("/api/v1/books/", 200)
            restarted = subprocess.run(
                ["docker", "inspect", "--format", "{{.RestartCount}} {{.State.StartedAt}}",
                 web_id], check=True, capture_output=True, text=True,
            ).stdout.split()[0]  # fmt: skip
            figures["web_restarts"] = int(restarted)

            dc("stop", "web", "db")
            dc("up", "--detach", "--no-deps", "web")
            figures["web_before_db_live_s"] = wait_status("/health/live", 200)
            figures["web_before_db_ready_503"] = request("GET", f"{base}/health/ready") == 503
            dc("start", "db")
            figures["web_before_db_serves_after_s"] = wait_status("/api/v1/books/", 200)

            dc("down")
            dc("up", "--detach", "--wait", "--wait-timeout", "300")
            with urllib.request.urlopen(f"{base}/api/v1/books/", timeout=10) as response:
                figures["rows_after_down_up"] = json.load(response)["count"]
            views = project / "books" / "views.py"
            views.write_text(views.read_text() + f"\n# a code change: {uuid.uuid4().hex}\n")
            dc("build", "web")
            dc("up", "--detach", "--wait", "--wait-timeout", "300")
            with urllib.request.urlopen(f"{base}/api/v1/books/", timeout=10) as response:
                figures["rows_after_rebuild"] = json.load(response)["count"]
        finally:
            stack.down()
    return figures


def check_throttle() -> dict[str, Any]:
    """Configured 60/minute: how many of 200 anonymous requests get through."""
    from tests.support.docker import replicas_stack
    from tests.support.gunicorn import RATE, REDIS_URL, gunicorn_served, let_through

    figures: dict[str, Any] = {"configured": RATE}
    for workers in (1, 4):
        with (
            tempfile.TemporaryDirectory() as tmp,
            gunicorn_served(quiet_bake(Path(tmp), database="sqlite"), workers) as serve,
        ):
            figures[f"{workers} worker(s)"] = let_through(serve({"REDIS_URL": REDIS_URL}))
    web_env = {"GUNICORN_CMD_ARGS": "--workers 4", "DJANGO_THROTTLE_ANON": f"{RATE}/minute"}
    with (
        tempfile.TemporaryDirectory() as tmp,
        replicas_stack(quiet_bake(Path(tmp), database="postgresql"), 76, web_env) as stack,
    ):
        figures["3 replicas x 4 workers"] = let_through(stack.url(""))
    return figures


def check_restarts() -> dict[str, Any]:
    """The two restart scenarios of tests/test_restarts.py, with their figures."""
    from tests.support.docker import docker_unavailable, patch_python_standins, replicas_stack
    from tests.support.gunicorn import gunicorn_served
    from tests.support.restarts import (
        REDIS_URL,
        UNTHROTTLED,
        rolling_restart_under_load,
        sigterm_under_load,
    )

    figures: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        gunicorn_served(quiet_bake(Path(tmp), database="sqlite"), 2) as serve,
    ):
        base = serve({"REDIS_URL": REDIS_URL, **UNTHROTTLED})
        sigterm = sigterm_under_load(base, serve.processes[base])
    tally = sigterm.tally
    figures["sigterm"] = {
        "sent": tally.sent, "failed": tally.failed, "failures": tally.failures[:3],
        "closed_by_server": tally.closed_by_server, "refused": tally.refused,
        "exit_code": sigterm.exit_code, "seconds": sigterm.seconds,
        "slowest_s": round(tally.slowest, 2),
    }  # fmt: skip
    reason = docker_unavailable()
    if reason is not None:
        figures["rolling"] = {"error": reason}
        return figures
    patch_python_standins()
    web_env = {"GUNICORN_CMD_ARGS": "--workers 2", **UNTHROTTLED}
    with (
        tempfile.TemporaryDirectory() as tmp,
        replicas_stack(quiet_bake(Path(tmp), database="postgresql"), 87, web_env) as stack,
    ):
        rolling = rolling_restart_under_load(stack)
    tally = rolling.tally
    figures["rolling"] = {
        "replicas": rolling.replicas, "sent": tally.sent, "writes": tally.statuses[201],
        "failed": tally.failed, "failures": tally.failures[:3], "refused": tally.refused,
        "restart_seconds": rolling.restart_seconds, "slowest_s": round(tally.slowest, 2),
        "books_match_creates": rolling.books_in_database == rolling.books_created,
    }  # fmt: skip
    return figures


WORKER_KILLS = 3
KILL_ROWS = 5_000


def check_worker_kills(database: str) -> dict[str, Any]:
    """WORKER_KILLS imports, each with its running worker killed mid-import (the other
    workers resuming it): how many finish, and rows duplicated and lost."""
    with installed_bake(database) as (project, python, env):
        env = {**env, **WORKER_TEST_ENV}
        baked = Baked(Combination(database, "split"), project, python, env)
        baked.run("manage.py", "migrate", "--verbosity", "0")
        authorization = staff_token(baked)
        finished_ok = killed_mid_import = 0
        # One worker more than the kills: each kill leaves the others to resume its import.
        with (
            served(project, python, env) as base,
            worker_processes(baked, WORKER_KILLS + 1) as pool,
        ):
            for kill in range(WORKER_KILLS):
                serials = range(kill * KILL_ROWS, (kill + 1) * KILL_ROWS)
                url = send(base, authorization, f"kill-{kill}.csv", books_csv(serials))
                while state(url, authorization)["rows_done"] == 0:
                    time.sleep(0.01)
                for process, log in pool:
                    text = log.read_text()
                    running = text.count("state=RUNNING") > text.count("state=SUCCESSFUL")
                    if process.poll() is None and running:
                        process.send_signal(signal.SIGKILL)
                        process.wait()
                if state(url, authorization)["status"] == "running":
                    killed_mid_import += 1
                done = finished(url, authorization)
                finished_ok += done["status"] == "succeeded"
        rows = WORKER_KILLS * KILL_ROWS
        books, distinct = map(int, shell(
            baked,
            "from books.models import Book\n"
            "print(Book.objects.count(), Book.objects.values('isbn').distinct().count())",
        ).split())  # fmt: skip
    return {
        "imports": WORKER_KILLS,
        "killed_mid_import": killed_mid_import,
        "finished": finished_ok,
        "duplicated": books - distinct,
        "lost": rows - distinct,
    }


def table(results: dict[str, Any]) -> str:
    lines = ["| check | figure | target |", "| --- | --- | --- |"]
    prompts = results.get("prompts")
    if prompts:
        lines.append(
            f"| prompt inputs | {prompts.get('refused_cleanly')} of {prompts.get('bad_answers')} "
            f"bad answers refused with one clear line, nothing left "
            f"{prompts.get('problems') or prompts.get('error', '')} | all of >= 30 |"
        )
    for db, f in results.get("workers", {}).items():
        value = f.get("error") or (
            f"{f['finished']} of {f['imports']} imports finished, {f['killed_mid_import']} "
            f"killed mid-import; {f['duplicated']} rows duplicated, {f['lost']} lost"
        )
        lines.append(f"| worker killed mid-import, {db} | {value} | all finished, 0, 0 |")
    for db, f in results.get("contract", {}).items():
        value = f.get("error") or f"{f['cases']} cases, {f['failing']} failing ({f['summary']})"
        lines.append(f"| API input (schemathesis), {db} | {value} | 0 server errors |")
    for db, f in results.get("load", {}).items():
        value = f.get("error") or (
            f"{f['reads']} reads, {f['creates']} creates, {f['errors']} errors; "
            f"{f['rows']} rows ({'=' if f['rows_match_creates'] else '!='} creates)"
        )
        lines.append(f"| {LOAD_SECONDS} s load, {db} | {value} | 0 errors, rows = creates |")
    docker = results.get("docker")
    if docker:
        if "error" in docker:
            lines.append(f"| faults and data (Docker) | {docker['error']} | |")
        else:
            down = docker["request_while_db_down"]
            lines += [
                f"| database stopped | readiness 503 after {docker['ready_503_after_db_stop_s']}"
                f" s; a request answered {down['status']} in {down['seconds']} s | 503, fast |",
                f"| database back | API serves again after {docker['recovered_after_db_start_s']}"
                f" s, web restarted {docker['web_restarts']} times | seconds, 0 restarts |",
                f"| web started before the database | live after "
                f"{docker['web_before_db_live_s']} s, ready 503: "
                f"{docker['web_before_db_ready_503']}; serves "
                f"{docker['web_before_db_serves_after_s']} s after the database starts | waits |",
                f"| data | {docker['rows_after_down_up']} rows after down/up, "
                f"{docker['rows_after_rebuild']} after a rebuild (of 5) | every row kept |",
            ]
    throttle = results.get("throttle")
    if throttle:
        value = throttle.get("error") or ", ".join(
            f"{name}: {count}" for name, count in throttle.items() if name != "configured"
        )
        lines.append(
            f"| throttle, {throttle.get('configured')}/minute, 200 requests | {value} let "
            "through | exactly the rate |"
        )
    lines += restarts_rows(results.get("restarts"))
    return "\n".join(lines)


def restarts_rows(restarts: dict[str, Any] | None) -> list[str]:
    if not restarts:
        return []
    if "error" in restarts:
        return [f"| restarts | {restarts['error']} | |"]
    rows = []
    sigterm = restarts["sigterm"]
    value = sigterm.get("error") or (
        f"{sigterm['sent']} requests sent, {sigterm['failed']} failed"
        f"{' ' + str(sigterm['failures']) if sigterm['failures'] else ''}; "
        f"{sigterm['closed_by_server']} connections closed "
        f"with a response, {sigterm['refused']} refused after; slowest answer "
        f"{sigterm['slowest_s']} s; exit {sigterm['exit_code']} after {sigterm['seconds']} s"
    )
    rows.append(f"| gunicorn SIGTERM, 16 keep-alive clients | {value} | 0 failed |")
    rolling = restarts["rolling"]
    value = rolling.get("error") or (
        f"{rolling['sent']} requests sent ({rolling['writes']} writes), {rolling['failed']} "
        f"failed{' ' + str(rolling['failures']) if rolling['failures'] else ''}, "
        f"{rolling['refused']} refused; slowest answer "
        f"{rolling['slowest_s']} s; each restart {rolling['restart_seconds']} s; books "
        f"{'=' if rolling['books_match_creates'] else '!='} creates"
    )
    rows.append(
        f"| {rolling.get('replicas', 3)} replicas behind nginx restarted in turn, 16 clients "
        f"| {value} | 0 failed |"
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parts = ["prompts", "contract", "load", "docker", "throttle", "workers", "restarts"]
    parser.add_argument("--only", choices=parts, action="append")
    parser.add_argument("--databases", nargs="*", default=list(DATABASES), choices=DATABASES)
    args = parser.parse_args(argv)
    chosen = args.only or parts
    results: dict[str, Any] = {}
    if "prompts" in chosen:
        results["prompts"] = attempt("prompt inputs", check_prompts)
    if "contract" in chosen:
        results["contract"] = per_database("contract", check_contract, args.databases)
    if "load" in chosen:
        results["load"] = per_database("load", check_load, args.databases)
    if "docker" in chosen:
        results["docker"] = attempt("faults and data", check_docker_faults_and_data)
    if "throttle" in chosen:
        results["throttle"] = attempt("throttle", check_throttle)
    if "workers" in chosen:
        results["workers"] = per_database("worker kills", check_worker_kills, args.databases)
    if "restarts" in chosen:
        results["restarts"] = attempt("restarts", check_restarts)
    report(results, RESULTS, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
