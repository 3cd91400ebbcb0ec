"""The Kubernetes manifests give every replica the shared monitoring database from a Secret."""

from __future__ import annotations

from pathlib import Path

import yaml

KUBERNETES = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def test_replicas_take_the_monitoring_database_url_from_the_secret() -> None:
    deployment = yaml.safe_load((KUBERNETES / "deployment.yaml").read_text())
    secret = yaml.safe_load((KUBERNETES / "monitoring-secret.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    variables = {variable["name"]: variable for variable in container["env"]}

    reference = variables["MODEL_SERVICE_MONITORING_DATABASE_URL"]["valueFrom"]["secretKeyRef"]

    assert secret["kind"] == "Secret"
    assert reference["name"] == secret["metadata"]["name"]
    assert secret["stringData"][reference["key"]].startswith("postgresql+psycopg://")
