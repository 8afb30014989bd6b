"""The baked Kubernetes manifests, proven offline (no cluster runs on these machines).

For each server database, deploy/kubernetes/ passes kubernetes-validate
(strict, against the schemas of a pinned Kubernetes version) and checkov's
kubernetes checks with none failed and a reason for every skip, and
`kubectl kustomize` builds it; the web and worker Deployments, the Job and
the Secret example hold what the README promises; the pods' metrics port is
annotated for Prometheus, left out of the Service and open only to the
monitoring namespace, the API's port only to the ingress controller's, and
the pods reach only DNS, the database and the cache. Two consecutive
releases, rendered as the README says to, differ in nothing Kubernetes holds
immutable, so the second applies over the first. A SQLite bake has no
manifests: pods cannot share its file.
"""

import json
import re
import shutil
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
    """No replicas (the autoscaler's 3 to 10 are the count); an init container waiting for
    the migrations; readiness on /health/ready, liveness and start-up on /health/live, each
    with a timeout; limits; non-root as the image's user, read-only root with a writable
    /tmp, no capabilities, RuntimeDefault seccomp; the migrate Job runs migrate; the Secret
    example holds no secret; every variable they set is a documented setting."""
    project = bake(cookies, database="postgresql")
    found = documents(project / "deploy" / "kubernetes")
    deployment = found["Deployment/library-api-web"]
    pod = deployment["spec"]["template"]["spec"]
    (web,) = pod["containers"]
    image_uid = re.search(r"useradd[^\n]*--uid (\d+)", (project / "Dockerfile").read_text())

    assert "replicas" not in deployment["spec"]
    hpa = found["HorizontalPodAutoscaler/library-api-web"]["spec"]
    assert (hpa["scaleTargetRef"]["name"], hpa["minReplicas"], hpa["maxReplicas"]) == (
        "library-api-web", 3, 10,
    )  # fmt: skip
    (wait,) = pod["initContainers"]
    assert wait["image"] == web["image"]
    assert "until python manage.py migrate --check" in " ".join(wait["command"])
    assert web["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert web["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert web["startupProbe"]["httpGet"]["path"] == "/health/live"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        # Longer than the default 1 s a busy pod may miss, never longer than the period.
        assert 2 <= web[probe]["timeoutSeconds"] <= web[probe]["periodSeconds"], probe
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
    kustomization lists, each resource once, all in the project's namespace; the migrate
    Job's name ends with the release's image tag (the bake's version, to start with)."""
    folder = bake(cookies, database=database) / "deploy" / "kubernetes"

    rendered = kustomize(folder)

    names = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in rendered)
    released = {"Job/library-api-migrate": "Job/library-api-migrate-0.1.0"}
    expected = sorted(released.get(key, key) for key in documents(folder)
                      if not key.startswith("Secret/"))  # fmt: skip
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
    assert budget == {"maxUnavailable": 1, "selector": {"matchLabels": labels}}
    policy = found["NetworkPolicy/library-api-worker"]["spec"]
    assert policy["podSelector"]["matchLabels"] == labels
    assert policy["policyTypes"] == ["Ingress"]
    assert [rule["ports"] for rule in policy["ingress"]] == [
        [{"port": "metrics", "protocol": "TCP"}]
    ]


def namespace(name: str) -> list[dict[str, Any]]:
    """A NetworkPolicy peer: every pod of the namespace ``name``."""
    return [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}]


# Where Prometheus runs: the NetworkPolicies admit the metrics port from its pods only.
MONITORING = namespace("monitoring")
# Where the ingress controller runs: the only source of the API's traffic.
INGRESS = namespace("ingress-nginx")


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
    """The web pods take API traffic only from the ingress controller's namespace and metrics
    scrapes only from pods in the monitoring namespace; the worker pods take those scrapes
    and nothing else; the migrate pods take nothing."""
    templates = pod_templates(rendered_base)
    web = rendered_base["NetworkPolicy/library-api-web"]
    worker = rendered_base["NetworkPolicy/library-api-worker"]

    assert admitted(web, container_ports(templates["web"])) == {
        8000: [INGRESS], 8001: [MONITORING],
    }  # fmt: skip
    assert admitted(worker, container_ports(templates["worker"])) == {8001: [MONITORING]}
    migrate = rendered_base["NetworkPolicy/library-api-migrate"]["spec"]
    assert (migrate["policyTypes"], migrate.get("ingress")) == (["Ingress"], None)


def test_kubernetes_web_pods_stop_without_dropping_requests(cookies: Cookies) -> None:
    """A web pod told to stop pauses 5 s (the preStop sleep action: the endpoints drop it
    first), then gunicorn has its graceful_timeout (20 s, config/gunicorn.py) to finish its
    requests, and both fit in the 40 s before the pod is killed."""
    project = bake(cookies, database="postgresql")
    pod = documents(project / "deploy" / "kubernetes")["Deployment/library-api-web"]["spec"][
        "template"
    ]["spec"]
    graceful = re.search(r"^graceful_timeout = (\d+)$", (project / "config" / "gunicorn.py")
                         .read_text(), re.MULTILINE)  # fmt: skip

    assert graceful is not None
    (web,) = pod["containers"]
    assert web["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    assert (int(graceful.group(1)), pod["terminationGracePeriodSeconds"]) == (20, 40)
    assert 5 + int(graceful.group(1)) < pod["terminationGracePeriodSeconds"]


def test_kubernetes_pods_spread_over_nodes_and_zones(
    rendered_base: dict[str, dict[str, Any]],
) -> None:
    """The web and worker pods each spread over nodes and over zones, counting only the pods
    of their own component and release (pod-template-hash), without ever staying
    unscheduled for it (ScheduleAnyway)."""
    for component, template in pod_templates(rendered_base).items():
        labels = template["metadata"]["labels"]
        constraints = template["spec"]["topologySpreadConstraints"]

        assert [c["topologyKey"] for c in constraints] == [
            "kubernetes.io/hostname", "topology.kubernetes.io/zone",
        ], component  # fmt: skip
        for constraint in constraints:
            assert constraint["labelSelector"] == {"matchLabels": labels}, component
            assert constraint["matchLabelKeys"] == ["pod-template-hash"]
            assert (constraint["maxSkew"], constraint["whenUnsatisfiable"]) == (1, "ScheduleAnyway")


# The database server's port, by database answer; the cache's is Redis's.
DATABASE_PORTS = {"postgresql": 5432, "mysql": 3306}
CACHE_PORT = 6379
KUBE_SYSTEM = namespace("kube-system")


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_kubernetes_pods_reach_only_dns_the_database_and_the_cache(
    cookies: Cookies, database: str
) -> None:
    """One egress policy covers every pod of the app (web, worker, migrate): DNS (UDP and
    TCP 53) to kube-system only, and the database's and the cache's ports; no other
    NetworkPolicy opens egress, so nothing else goes out."""
    folder = bake(cookies, database=database) / "deploy" / "kubernetes"
    rendered = kustomize(folder)
    policies = {d["metadata"]["name"]: d["spec"] for d in rendered if d["kind"] == "NetworkPolicy"}

    egress = {name: spec for name, spec in policies.items() if "Egress" in spec["policyTypes"]}
    assert list(egress) == ["library-api-egress"]
    (spec,) = egress.values()
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "library-api"}}
    labels = [d["spec"]["template"]["metadata"]["labels"] for d in rendered
              if d["kind"] in {"Deployment", "Job"}]  # fmt: skip
    assert len(labels) == 3
    assert all(labels_["app.kubernetes.io/name"] == "library-api" for labels_ in labels)
    reached = [
        (rule.get("to"), sorted((p["port"], p["protocol"]) for p in rule["ports"]))
        for rule in spec["egress"]
    ]
    assert reached == [
        (KUBE_SYSTEM, [(53, "TCP"), (53, "UDP")]),
        (None, sorted([(DATABASE_PORTS[database], "TCP"), (CACHE_PORT, "TCP")])),
    ]


# What the API server refuses to change on a live object ("field is immutable"), by
# kind: the fields of the rendered manifests that the next release must leave as the
# last one set them. Every kind the base renders is listed, so a new one is
# classified here before the test passes (a ConfigMap's or Secret's data too once
# it is `immutable: true`, checked below).
IMMUTABLE: dict[str, tuple[tuple[str, ...], ...]] = {
    "Namespace": (),
    "ConfigMap": (),
    "Deployment": (("spec", "selector"),),
    "Service": (("spec", "clusterIP"), ("spec", "clusterIPs")),
    "HorizontalPodAutoscaler": (),
    "PodDisruptionBudget": (),
    "NetworkPolicy": (),
    "Job": (
        ("spec", "template"), ("spec", "selector"), ("spec", "completions"),
        ("spec", "completionMode"), ("spec", "podFailurePolicy"), ("spec", "manualSelector"),
    ),
}  # fmt: skip
# A Job's name is its pods' job-name label: a DNS label of at most 63 characters.
LABEL_VALUE = re.compile(r"[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?")


def field(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in a manifest, None where it is not set."""
    value: Any = document
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def release(project: Path, tag: str, into: Path) -> dict[str, dict[str, Any]]:
    """The base rendered for the release ``tag``, set by the README's own command (run in a
    copy of the project's deploy/ folder), by kind and name."""
    readme = (project / "README.md").read_text()
    (set_tag,) = re.findall(r"^sed -i\.bak .*kustomization\.yaml.*$", readme, re.MULTILINE)
    shutil.copytree(project / "deploy", into / "deploy")
    subprocess.run(["sh", "-c", set_tag], cwd=into, env={"RELEASE": tag, "PATH": "/usr/bin:/bin"},
                   check=True)  # fmt: skip
    return {
        f"{d['kind']}/{d['metadata']['name']}": d for d in kustomize(into / "deploy" / "kubernetes")
    }


def test_kubernetes_next_release_changes_nothing_immutable(
    cookies: Cookies, tmp_path: Path
) -> None:
    """Two consecutive releases (image tags 1.4.0 and 1.5.0, set with the README's command)
    render with kubectl kustomize so that `kubectl apply -k` of the second over the first
    cannot fail with "field is immutable": each release has a migrate Job of its own (the
    second's Job template differs, which one Job could not take), and every resource they
    share keeps each immutable field as it was (selectors, Service cluster IPs). Every
    container runs the release's image; the autoscaled Deployment sets no replicas."""
    project = bake(cookies, database="postgresql")
    first = release(project, "1.4.0", tmp_path / "first")
    second = release(project, "1.5.0", tmp_path / "second")

    jobs = [
        sorted(key for key in rendered if key.startswith("Job/")) for rendered in (first, second)
    ]
    assert jobs == [["Job/library-api-migrate-1.4.0"], ["Job/library-api-migrate-1.5.0"]]
    assert all(LABEL_VALUE.fullmatch(job.split("/")[1]) for job in jobs[0] + jobs[1])
    # What a single Job name would have had to change in place.
    assert first[jobs[0][0]]["spec"]["template"] != second[jobs[1][0]]["spec"]["template"]
    # Nothing else comes or goes: the same resources, updated in place.
    assert set(first) - set(jobs[0]) == set(second) - set(jobs[1])

    assert {key.split("/")[0] for key in first} <= set(IMMUTABLE)
    compared = 0
    for key in sorted(set(first) & set(second)):
        for path in IMMUTABLE[first[key]["kind"]]:
            assert field(first[key], path) == field(second[key], path), (key, path)
            compared += 1
        if first[key].get("immutable"):
            assert first[key].get("data") == second[key].get("data"), key
    for tag, rendered in (("1.4.0", first), ("1.5.0", second)):
        images = {
            container["image"]
            for document in rendered.values() if "template" in document.get("spec", {})
            for kind in ("initContainers", "containers")
            for container in document["spec"]["template"]["spec"].get(kind, [])
        }  # fmt: skip
        assert images == {f"registry.example.com/library-api:{tag}"}
        for hpa in (d for d in rendered.values() if d["kind"] == "HorizontalPodAutoscaler"):
            target = rendered[f"Deployment/{hpa['spec']['scaleTargetRef']['name']}"]
            assert "replicas" not in target["spec"]
    record_stat(
        "kubernetes two releases",
        {"resources in both": len(set(first) & set(second)), "immutable fields compared": compared,
         "jobs": " then ".join(job[0].split("/")[1] for job in jobs)},
    )  # fmt: skip


def test_kubernetes_longest_slug_and_tag_name_a_valid_job(cookies: Cookies, tmp_path: Path) -> None:
    """With the longest slug the hook accepts (34 characters) and a release tag of 20, the
    migrate Job's name is still a label value Kubernetes takes: 63 characters."""
    slug, tag = "a" * 34, "1.10.0-rc.2.g1a2b3c4"
    project = bake(cookies, database="postgresql", project_slug=slug)

    rendered = release(project, tag, tmp_path)

    (job,) = [key.split("/")[1] for key in rendered if key.startswith("Job/")]
    assert (job, len(job)) == (f"{slug}-migrate-{tag}", 63)
    assert LABEL_VALUE.fullmatch(job)


def test_sqlite_bake_has_no_kubernetes_manifests(cookies: Cookies) -> None:
    """Pods cannot share a SQLite file: no manifests, and the README says why."""
    project = bake(cookies, database="sqlite")

    assert not (project / "deploy" / "kubernetes").exists()
    assert "cannot share" in (project / "README.md").read_text()
