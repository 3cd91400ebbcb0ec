"""The KServe manifests in deploy/kserve/ hold together.

kubernetes-validate knows the core Kubernetes kinds but not KServe's CRDs (ServingRuntime,
InferenceService), so the KServe objects are checked structurally here: they load, have the
fields KServe requires, name each other consistently, and the container's command, port and
probes match what this service really serves. The container itself is a core ``Container``, so it
is validated strictly by kubernetes-validate inside a Pod.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml
from flask.testing import FlaskClient

from model_service.cli import main as cli_main
from tests.support import REPO_ROOT

KSERVE = REPO_ROOT / "deploy" / "kserve"


def load(name: str) -> dict[str, Any]:
    documents = [doc for doc in yaml.safe_load_all((KSERVE / name).read_text()) if doc]
    assert len(documents) == 1, f"{name} should hold one object"
    return dict(documents[0])


@pytest.fixture
def runtime() -> dict[str, Any]:
    return load("servingruntime.yaml")


@pytest.fixture
def service() -> dict[str, Any]:
    return load("inferenceservice.yaml")


@pytest.fixture
def container(runtime: dict[str, Any]) -> dict[str, Any]:
    (container,) = runtime["spec"]["containers"]
    return dict(container)


def test_the_manifests_are_the_kserve_kinds(
    runtime: dict[str, Any], service: dict[str, Any]
) -> None:
    assert (runtime["apiVersion"], runtime["kind"]) == (
        "serving.kserve.io/v1alpha1",
        "ServingRuntime",
    )
    assert (service["apiVersion"], service["kind"]) == (
        "serving.kserve.io/v1beta1",
        "InferenceService",
    )
    for manifest in (runtime, service):
        assert manifest["metadata"]["name"]


def test_the_runtime_speaks_v2_for_its_model_format(runtime: dict[str, Any]) -> None:
    spec = runtime["spec"]
    assert spec["protocolVersions"] == ["v2"]
    assert all(model_format["name"] for model_format in spec["supportedModelFormats"])


def test_the_inference_service_uses_the_runtime_and_its_format(
    runtime: dict[str, Any], service: dict[str, Any]
) -> None:
    model = service["spec"]["predictor"]["model"]
    assert model["runtime"] == runtime["metadata"]["name"]
    assert model["protocolVersion"] == "v2"
    formats = {item["name"]: item for item in runtime["spec"]["supportedModelFormats"]}
    assert model["modelFormat"]["name"] in formats
    assert model["modelFormat"].get("version") == formats[model["modelFormat"]["name"]]["version"]


def test_the_container_is_a_valid_kubernetes_container(container: dict[str, Any]) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "model-service"},
        "spec": {"containers": [container]},
    }
    kubernetes_validate.validate(pod, kubernetes_validate.latest_version(), strict=True)


def test_the_container_serves_the_image_on_its_declared_port(container: dict[str, Any]) -> None:
    assert container["name"] == "kserve-container"
    assert container["image"] == "model-service:latest"
    argv = [*container["command"], *container["args"]]
    assert argv[:2] == ["model-service", "serve"]
    options = dict(zip(argv[2::2], argv[3::2], strict=True))
    assert options["--host"] == "0.0.0.0"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http1": int(options["--port"]), "h2c": int(options["--grpc-port"])}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == ports["http1"]


def test_the_serve_command_accepts_the_container_arguments(container: dict[str, Any]) -> None:
    assert container["args"][0] == "serve"
    parsed = cli_main.commands["serve"].make_context("serve", list(container["args"][1:]))
    assert [parsed.params["port"], parsed.params["grpc_port"]] == [
        port["containerPort"] for port in container["ports"]
    ]
    assert parsed.params["workers"] <= float(container["resources"]["limits"]["cpu"])


def test_probe_and_metrics_paths_are_served(
    container: dict[str, Any], runtime: dict[str, Any], client: FlaskClient
) -> None:
    paths = [container[probe]["httpGet"]["path"] for probe in ("readinessProbe", "livenessProbe")]
    paths.append(runtime["spec"]["annotations"]["prometheus.kserve.io/path"])
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_the_settings_the_inference_service_sets_exist(service: dict[str, Any]) -> None:
    import config

    for variable in service["spec"]["predictor"]["model"].get("env", []):
        name = variable["name"].removeprefix("MODEL_SERVICE_")
        assert hasattr(config.Config, name), variable["name"]
        yaml.safe_load(variable["value"])


def memory_bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return int(quantity[:-2]) * units[quantity[-2:]]


def test_resource_requests_fit_within_limits(container: dict[str, Any]) -> None:
    requests, limits = container["resources"]["requests"], container["resources"]["limits"]
    assert float(requests["cpu"]) <= float(limits["cpu"])
    assert memory_bytes(requests["memory"]) <= memory_bytes(limits["memory"])
