"""The baked Kubernetes manifests, proven offline (no cluster runs on these machines).

For each server database, deploy/kubernetes/ passes kubernetes-validate
(strict, against the schemas of a pinned Kubernetes version) and checkov's
kubernetes checks with none failed and a reason for every skip, and
`kubectl kustomize` builds it; the web and worker Deployments, the Job and
the Secret example hold what the README promises; the pods' metrics port is
annotated for Prometheus, left out of the Service and open only to the
monitoring namespace. A SQLite bake has no manifests: pods cannot share its
file.
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
from tests.support import bake, record_stat, require_tool

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


def kustomize(folder: Path) -> list[dict[str, Any]]:
    """What `kubectl kustomize` renders from the folder; skips without kubectl (fails in CI)."""
    kubectl = require_tool(("kubectl",), "kubectl is not installed", "build the kustomize base")
    built = subprocess.run(
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    return [d for d in yaml.safe_load_all(built.stdout) if d]


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_kubernetes_base_builds_with_kustomize(cookies: Cookies, database: str) -> None:
    """`kubectl kustomize` (what `kubectl apply -k` applies) renders every manifest the
    kustomization lists, each resource once, all in the project's namespace."""
    folder = bake(cookies, database=database) / "deploy" / "kubernetes"

    rendered = kustomize(folder)

    names = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in rendered)
    expected = sorted(key for key in documents(folder) if not key.startswith("Secret/"))
    assert names == expected
    assert {d["metadata"].get("namespace", "library-api") for d in rendered} == {"library-api"}


def test_kubernetes_worker_runs_the_worker_with_its_probe(cookies: Cookies) -> None:
    """The worker Deployment runs `manage.py worker` from the web's image, after an init
    container finds every migration applied; its liveness probe is `worker --alive`; it
    has no Service, limits, the web pods' security settings, a grace period to reach a
    checkpoint, a PodDisruptionBudget and a NetworkPolicy letting in only Prometheus's
    scrapes of its metrics port."""
    project = bake(cookies, database="postgresql")
    found = documents(project / "deploy" / "kubernetes")
    web_pod = found["Deployment/library-api-web"]["spec"]["template"]["spec"]
    deployment = found["Deployment/library-api-worker"]
    pod = deployment["spec"]["template"]["spec"]
    (worker,) = pod["containers"]
    (wait,) = pod["initContainers"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]

    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert worker["image"] == web_pod["containers"][0]["image"] == wait["image"]
    assert worker["command"] == ["python", "manage.py", "worker"]
    assert "python manage.py migrate --check" in " ".join(wait["command"])
    assert worker["livenessProbe"]["exec"]["command"] == [
        "python", "manage.py", "worker", "--alive",
    ]  # fmt: skip
    assert worker["ports"] == [{"name": "metrics", "containerPort": 8001}]
    assert not any(
        key.startswith("Service/") and found[key]["spec"]["selector"].items() <= labels.items()
        for key in found
    )
    assert set(worker["resources"]) == {"requests", "limits"}
    assert pod["terminationGracePeriodSeconds"] >= 30
    assert pod["securityContext"] == web_pod["securityContext"]
    web = web_pod["containers"][0]
    for container in (worker, wait):
        assert container["securityContext"] == web["securityContext"]
        assert container["envFrom"] == web["envFrom"]
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    budget = found["PodDisruptionBudget/library-api-worker"]["spec"]
    assert (budget["minAvailable"], budget["selector"]["matchLabels"]) == (1, labels)
    policy = found["NetworkPolicy/library-api-worker"]["spec"]
    assert policy["podSelector"]["matchLabels"] == labels
    assert policy["policyTypes"] == ["Ingress"]
    assert [rule["ports"] for rule in policy["ingress"]] == [
        [{"port": "metrics", "protocol": "TCP"}]
    ]


# Where Prometheus runs: the NetworkPolicies admit the metrics port from its pods only.
MONITORING = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]


@pytest.fixture(scope="module")
def rendered_base(cookies_session: Cookies) -> dict[str, dict[str, Any]]:
    """The kustomize base of a PostgreSQL bake as `kubectl apply -k` applies it, by kind
    and name."""
    folder = bake(cookies_session, database="postgresql") / "deploy" / "kubernetes"
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in kustomize(folder)}


def pod_templates(rendered: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The Deployments' pod templates (web, worker), by component label."""
    templates = [d["spec"]["template"] for d in rendered.values() if d["kind"] == "Deployment"]
    return {t["metadata"]["labels"]["app.kubernetes.io/component"]: t for t in templates}


def container_ports(template: dict[str, Any]) -> dict[str, int]:
    """The pod's named container ports, name to number."""
    return {
        port["name"]: port["containerPort"]
        for container in template["spec"]["containers"]
        for port in container.get("ports", [])
    }


def test_kubernetes_pods_annotate_their_metrics_port(
    rendered_base: dict[str, dict[str, Any]],
) -> None:
    """The web and worker pods each declare a containerPort named `metrics`, the port the
    ConfigMap gives DJANGO_METRICS_PORT, and carry the prometheus.io annotations for it."""
    templates = pod_templates(rendered_base)
    configured = int(rendered_base["ConfigMap/library-api"]["data"]["DJANGO_METRICS_PORT"])

    assert sorted(templates) == ["web", "worker"]
    for component, template in templates.items():
        port = container_ports(template)["metrics"]
        assert (port, configured) == (8001, 8001), component
        assert template["metadata"]["annotations"] == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(port),
            "prometheus.io/path": "/metrics",
        }, component


def test_kubernetes_service_exposes_the_api_not_the_metrics(
    rendered_base: dict[str, dict[str, Any]],
) -> None:
    """The one Service forwards to the web pods' API port alone; no Service reaches a
    metrics port."""
    services = [d for d in rendered_base.values() if d["kind"] == "Service"]
    web_ports = container_ports(pod_templates(rendered_base)["web"])

    assert [s["metadata"]["name"] for s in services] == ["library-api-web"]
    ports = services[0]["spec"]["ports"]
    assert [(port["port"], port["targetPort"]) for port in ports] == [(80, "http")]
    assert web_ports["http"] == 8000


def admitted(policy: dict[str, Any], ports: dict[str, int]) -> dict[int | str, list[Any]]:
    """Whom each port of a NetworkPolicy's pods admits, by number ("any": a rule without
    ports): the `from` of each rule naming it, None for a rule open to every source."""
    who: dict[int | str, list[Any]] = {}
    for rule in policy["spec"].get("ingress", []):
        for port in rule.get("ports", [{"port": "any"}]):
            number = ports.get(port["port"], port["port"])
            who.setdefault(number, []).append(rule.get("from"))
    return who


def test_kubernetes_metrics_port_admits_only_the_monitoring_namespace(
    rendered_base: dict[str, dict[str, Any]],
) -> None:
    """The web pods take API traffic from anywhere and metrics scrapes only from pods in the
    monitoring namespace; the worker pods take those scrapes and nothing else."""
    templates = pod_templates(rendered_base)
    web = rendered_base["NetworkPolicy/library-api-web"]
    worker = rendered_base["NetworkPolicy/library-api-worker"]

    assert admitted(web, container_ports(templates["web"])) == {8000: [None], 8001: [MONITORING]}
    assert admitted(worker, container_ports(templates["worker"])) == {8001: [MONITORING]}


def test_sqlite_bake_has_no_kubernetes_manifests(cookies: Cookies) -> None:
    """Pods cannot share a SQLite file: no manifests, and the README says why."""
    project = bake(cookies, database="sqlite")

    assert not (project / "deploy" / "kubernetes").exists()
    assert "cannot share" in (project / "README.md").read_text()
