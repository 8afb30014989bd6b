"""Each bake's .devcontainer/devcontainer.json, checked against the Dev Container spec.

The spec's JSON schema is not published in any package this project can
install. Eclipse Theia's @theia/dev-container (npm) ships the spec's types,
generated from that schema, as TypeScript; TypeScript's compiler checks each
bake's file against them, and a file that breaks the spec must fail.
"""

import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from pytest_cookies.plugin import Cookies

import tasks
from tests.support import bake, require_tool

TYPESCRIPT = "typescript@7.0.2"
THEIA_DEV_CONTAINER = "@theia/dev-container@1.74.1"
TYPES_FILE = "package/src/electron-node/devcontainer-file.ts"
DATABASES = tasks.choices("database")


@pytest.fixture(scope="session")
def checker() -> Path:
    """A folder with TypeScript's compiler and the spec's types, installed once per machine."""
    npm = require_tool(
        ("npm",),
        "npm is not installed (Node.js 20+ is needed for this check)",
        "check the dev container files",
    )
    folder = tasks.CACHE_DIR / "devcontainer-check"
    with tasks.locked(tasks.CACHE_DIR / "devcontainer-check.lock"):
        if not (folder / "devcontainer-file.ts").is_file():
            folder.mkdir(parents=True, exist_ok=True)
            quiet = ["--no-audit", "--no-fund", "--loglevel=error"]
            npm_run = [npm, *quiet, "--prefix", str(folder)]
            subprocess.run([*npm_run, "install", TYPESCRIPT], check=True, capture_output=True)
            packed = subprocess.run(
                [npm, *quiet, "pack", THEIA_DEV_CONTAINER, "--pack-destination", str(folder)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()[-1]
            with tarfile.open(folder / packed) as archive:
                source = archive.extractfile(TYPES_FILE)
                assert source is not None, f"{THEIA_DEV_CONTAINER} has no {TYPES_FILE}"
                (folder / "devcontainer-file.ts").write_bytes(source.read())
    return folder


def check(checker: Path, config: dict[str, Any], where: Path) -> subprocess.CompletedProcess[str]:
    """Type-check ``config`` as a DevContainerConfiguration; the compiler's result."""
    shutil.copy(checker / "devcontainer-file.ts", where / "devcontainer-file.ts")
    (where / "check.ts").write_text(
        'import type { DevContainerConfiguration } from "./devcontainer-file";\n'
        f"const config: DevContainerConfiguration = {json.dumps(config)};\n"
        "export default config;\n"
    )
    return subprocess.run(
        [
            str(checker / "node_modules" / ".bin" / "tsc"),
            *("--noEmit", "--strict", "--target", "es2022", "--module", "esnext"),
            *("--moduleResolution", "bundler", str(where / "check.ts")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("database", DATABASES)
def test_devcontainer_json_follows_the_spec(
    checker: Path, cookies: Cookies, tmp_path: Path, tools_venv: Path, database: str
) -> None:
    """The baked devcontainer.json is a valid compose-based Dev Container configuration."""
    project = bake(cookies, database=database)
    config = json.loads((project / ".devcontainer" / "devcontainer.json").read_text())

    result = check(checker, config, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert config["service"] == "web"


@pytest.mark.parametrize(
    "breakage",
    [{"service": 5}, {"shutdownAction": "stopContainer"}, {"forwardPorts": [{"port": 8000}]}],
)
def test_devcontainer_check_fails_a_file_that_breaks_the_spec(
    checker: Path,
    cookies: Cookies,
    tmp_path: Path,
    tools_venv: Path,
    breakage: dict[str, Any],
) -> None:
    """The check can fail: a wrong type or value in a baked file is reported."""
    project = bake(cookies, database="sqlite")
    config = json.loads((project / ".devcontainer" / "devcontainer.json").read_text())

    result = check(checker, {**config, **breakage}, tmp_path)

    assert result.returncode != 0
    assert "error TS" in result.stdout
