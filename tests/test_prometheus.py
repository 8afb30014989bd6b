"""The bake's Prometheus wiring, checked without Docker.

deploy/prometheus.yml passes `promtool check config` (Debian's prometheus
package; skips without it, fails under CI) and scrapes web and worker on
their metrics port every 15 s; no compose file publishes a metrics port; and
compose.observability.yml publishes Prometheus on the loopback only. That
Prometheus really scrapes both is tests/test_docker.py's.
"""

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_cookies.plugin import Cookies

import tasks
from tests.support import bake, require_tool
from tests.support.docker import (
    PROMETHEUS_PORT,
    SHIPPED_METRICS_PORT,
    prometheus_conf_for_host_network,
)

COMPOSE_FILES = (
    "docker-compose.yml",
    "compose.override.yml",
    "compose.replicas.yml",
    "compose.observability.yml",
)


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_tool(
        ("promtool",),
        "promtool is not installed (Debian: apt-get install prometheus)",
        "check the Prometheus configuration",
    )


class ComposeLoader(yaml.SafeLoader):
    """A YAML loader that reads Compose's `!reset` tag (it empties a value) as the value."""


ComposeLoader.add_constructor("!reset", lambda loader, node: loader.construct_sequence(node))


def compose_services(project: Path, name: str) -> dict[str, Any]:
    services: dict[str, Any] = yaml.load((project / name).read_text(), ComposeLoader)["services"]
    return services


def container_port(published: str | dict[str, Any]) -> int:
    """The container side of a `ports:` entry, short ("127.0.0.1:${X:-1}:80") or long."""
    if isinstance(published, dict):
        return int(published["target"])
    return int(published.rsplit(":", 1)[-1].split("/")[0])


def test_prometheus_configuration_passes_promtool(cookies_session: Cookies, promtool: str) -> None:
    """promtool accepts deploy/prometheus.yml, and the copy the Docker test makes for the
    host network (addresses in place of the DNS look-ups) too."""
    project = bake(cookies_session, database="sqlite")
    shipped = project / "deploy" / "prometheus.yml"
    host_network = project.parent / "prometheus-promtool.yml"
    host_network.write_text(
        prometheus_conf_for_host_network(shipped.read_text(), {"web": 17100, "worker": 17300})
    )

    for path in (shipped, host_network):
        check = subprocess.run(
            [promtool, "check", "config", str(path)], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert "SUCCESS" in check.stdout + check.stderr


def test_prometheus_scrapes_web_and_worker_every_15_seconds(cookies_session: Cookies) -> None:
    """One job per service, each finding every container of it through Docker's DNS on the
    metrics port, so each replica is a target of its own."""
    project = bake(cookies_session, database="sqlite")
    config = yaml.safe_load((project / "deploy" / "prometheus.yml").read_text())

    assert config["global"]["scrape_interval"] == "15s"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert sorted(jobs) == ["web", "worker"]
    for name, job in jobs.items():
        assert set(job) == {"job_name", "dns_sd_configs"}, name
        [lookup] = job["dns_sd_configs"]
        assert (lookup["names"], lookup["type"], lookup["port"]) == (
            [name],
            "A",
            SHIPPED_METRICS_PORT,
        )


@pytest.mark.parametrize("database", tasks.choices("database"))
def test_compose_files_never_publish_a_metrics_port(
    cookies_session: Cookies, database: str
) -> None:
    """No service of any compose file publishes the metrics port; Prometheus, the one
    service that reads it, is published on 127.0.0.1 alone and reads the shipped
    configuration read-only, from a pinned 3.x image."""
    project = bake(cookies_session, database=database)
    published = {
        f"{name}/{service}": [container_port(entry) for entry in config.get("ports", [])]
        for name in COMPOSE_FILES
        for service, config in compose_services(project, name).items()
        if config
    }
    prometheus = compose_services(project, "compose.observability.yml")["prometheus"]

    assert [key for key, ports in published.items() if SHIPPED_METRICS_PORT in ports] == []
    assert published["docker-compose.yml/web"] == [8000]
    assert prometheus["ports"] == [f"127.0.0.1:{PROMETHEUS_PORT}:9090"]
    assert "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus["volumes"]
    assert re.fullmatch(r"prom/prometheus:v3\.\d+\.\d+", prometheus["image"])
    assert "/-/ready" in " ".join(prometheus["healthcheck"]["test"])
