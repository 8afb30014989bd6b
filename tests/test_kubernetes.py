"""The baked Kubernetes manifests, proven offline (no cluster runs on these machines).

For each server database, deploy/kubernetes/ passes kubernetes-validate
(strict, against the schemas of a pinned Kubernetes version) and checkov's
kubernetes checks with none failed and a reason for every skip; the
Deployment, Job and Secret example hold what the README promises. A SQLite
bake has no manifests: pods cannot share its file.
"""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_cookies.plugin import Cookies

import tasks
from tests.support import bake, record_stat

pytestmark = pytest.mark.slow

KUBERNETES_VERSION = "1.34.0"
SETTINGS_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|", re.MULTILINE)


@pytest.fixture(scope="session")
def k8s_tools() -> Path:
    """kubernetes-validate and checkov, in an environment of their own."""
    return tasks.ensure_tools("k8s")


def documents(folder: Path) -> dict[str, dict[str, Any]]:
    """Every resource in the folder's manifests, by kind and name."""
    found = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            found[f"{document['kind']}/{document['metadata'].get('name', '')}"] = document
    return found


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_kubernetes_manifests_validate_and_pass_checkov(
    cookies: Cookies, k8s_tools: Path, database: str
) -> None:
    """Strict schema validation and the static policy checks pass on every manifest."""
    folder = bake(cookies, database=database) / "deploy" / "kubernetes"
    manifests = sorted(p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml")

    validate = subprocess.run(
        [str(tasks.bin_path(k8s_tools, "kubernetes-validate")), "--strict", "--no-warn",
         "-k", KUBERNETES_VERSION, *manifests],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip
    checkov = subprocess.run(
        [str(tasks.bin_path(k8s_tools, "checkov")), "--directory", ".", "--framework",
         "kubernetes", "--skip-download", "--output", "json"],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert validate.returncode == 0, validate.stdout + validate.stderr
    passed = re.findall(r"passed for resource", validate.stdout)
    assert len(passed) == sum(len(list(yaml.safe_load_all((folder / m).read_text())))
                              for m in manifests)  # fmt: skip
    report = json.loads(checkov.stdout)
    summary = report["summary"]
    assert summary["failed"] == 0, [c["check_id"] for c in report["results"]["failed_checks"]]
    assert summary["passed"] > 100
    reasons = [c.get("check_result", {}).get("suppress_comment") for c in
               report["results"]["skipped_checks"]]  # fmt: skip
    assert all(reason and len(reason) > 20 for reason in reasons), reasons
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(m for m in manifests if m != "secret.example.yaml")
    record_stat(
        f"kubernetes {database}",
        {"resources validated": len(passed), "checkov passed": summary["passed"],
         "failed": summary["failed"], "skipped with a reason": summary["skipped"]},
    )  # fmt: skip


def test_kubernetes_deployment_is_what_the_readme_says(cookies: Cookies) -> None:
    """3 replicas; readiness on /health/ready, liveness and start-up on /health/live; limits;
    non-root as the image's user, read-only root with a writable /tmp, no capabilities,
    RuntimeDefault seccomp; the migrate Job runs migrate; the Secret example holds no secret;
    every variable they set is a documented setting."""
    project = bake(cookies, database="postgresql")
    found = documents(project / "deploy" / "kubernetes")
    deployment = found["Deployment/library-api-web"]
    pod = deployment["spec"]["template"]["spec"]
    (web,) = pod["containers"]
    image_uid = re.search(r"useradd[^\n]*--uid (\d+)", (project / "Dockerfile").read_text())

    assert deployment["spec"]["replicas"] == 3
    assert web["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert web["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert web["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert set(web["resources"]) == {"requests", "limits"}
    assert image_uid is not None
    assert pod["securityContext"]["runAsUser"] == int(image_uid.group(1))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert web["securityContext"]["readOnlyRootFilesystem"] is True
    assert web["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert {"name": "tmp", "mountPath": "/tmp"} in web["volumeMounts"]
    assert found["Job/library-api-migrate"]["spec"]["template"]["spec"]["containers"][0][
        "command"
    ] == ["python", "manage.py", "migrate", "--no-input"]
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "Service", "ConfigMap"} <= {
        key.split("/")[0] for key in found
    }
    secret = found["Secret/library-api"]["stringData"]
    assert set(secret) == {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"}
    assert all(re.search(r"replace|USER:PASSWORD|HOST", value) for value in secret.values())
    # Every variable the manifests set is a setting of the README's table, whose
    # rows another test holds to what the code (or gunicorn) reads.
    settings = set(SETTINGS_ROW.findall((project / "README.md").read_text()))
    configmap = found["ConfigMap/library-api"]["data"]
    assert sorted((set(configmap) | set(secret)) - settings) == []


def test_sqlite_bake_has_no_kubernetes_manifests(cookies: Cookies) -> None:
    """Pods cannot share a SQLite file: no manifests, and the README says why."""
    project = bake(cookies, database="sqlite")

    assert not (project / "deploy" / "kubernetes").exists()
    assert "cannot share" in (project / "README.md").read_text()
