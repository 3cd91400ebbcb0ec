"""Routing, admin changes and the repository extension reach the gRPC door as they reach REST.

The gRPC server runs in processes of its own (forked by the gunicorn master), so these check
from outside, against the real service, that those processes follow the admin change log: a
model loaded, a routing policy set or a version promoted through ``/api/admin`` on the HTTP port
is what the next gRPC call sees.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
import requests

from model_service.grpc_v2 import grpc_predict_v2_pb2 as pb
from tests.grpc.test_server import GrpcService, grpc_service, iris_inputs
from tests.server.conftest import wait_for

pytestmark = pytest.mark.server

TOKEN = "grpc-rollout-token"
CANDIDATE = {"module_name": "iris_model.candidate", "class_name": "IrisCandidateModel"}
BEARER = [("authorization", f"Bearer {TOKEN}")]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrpcService]:
    state = tmp_path_factory.mktemp("grpc-rollout")
    with grpc_service(
        MODEL_SERVICE_ADMIN_TOKEN=TOKEN,
        MODEL_SERVICE_ADMIN_STATE_DIR=str(state / "admin"),
        MODEL_SERVICE_MONITORING_STATE_DIR=str(state / "monitoring"),
    ) as running:
        yield running


def admin(service: GrpcService, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(
        method,
        service.running.url(path),
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )


def answered_by(service: GrpcService, key: str | None = None) -> str:
    headers = {"x-routing-key": key} if key else None
    result = service.triton.infer("iris_model", iris_inputs(), headers=headers)
    version: str = result.get_response().model_version
    return version


def test_a_version_loaded_and_routed_over_rest_answers_over_grpc(service: GrpcService) -> None:
    loaded = admin(service, "POST", "/api/admin/models", CANDIDATE)
    assert loaded.status_code == 201, loaded.text
    try:
        # the gRPC process learns of the new version from the change log, on its next call
        wait_for(
            lambda: service.triton.is_model_ready("iris_model", "1.1.0"),
            "iris_model 1.1.0 ready over gRPC",
        )
        assert answered_by(service) == "1.1.0"  # the highest version, while no policy pins one

        policy = {"primary": "1.0.0", "canary": {"1.1.0": 50}}
        changed = admin(service, "PUT", "/api/admin/models/iris_model/routing", policy)
        assert changed.status_code == 200, changed.text
        answers = [answered_by(service) for _ in range(200)]
        assert 60 <= answers.count("1.1.0") <= 140, answers.count("1.1.0")
        # a routing key is sticky over gRPC as over REST, where it lands on the same version
        for key in ("customer-1", "customer-2", "customer-3", "customer-4"):
            over_grpc = {answered_by(service, key) for _ in range(10)}
            over_rest = requests.post(
                service.running.url("/api/models/iris_model/predict"),
                json={
                    "sepal_length": 5.1,
                    "sepal_width": 3.5,
                    "petal_length": 1.4,
                    "petal_width": 0.2,
                },
                headers={"X-Routing-Key": key},
                timeout=10,
            ).headers["X-Model-Version"]
            assert over_grpc == {over_rest}

        promoted = admin(
            service, "POST", "/api/admin/models/iris_model/routing/promote", {"version": "1.1.0"}
        )
        assert promoted.status_code == 200, promoted.text
        assert {answered_by(service) for _ in range(30)} == {"1.1.0"}
    finally:
        admin(service, "PUT", "/api/admin/models/iris_model/routing", {})
        admin(service, "DELETE", "/api/admin/models/iris_model/versions/1.1.0")


def test_repository_unload_and_load_need_the_token_and_change_every_door(
    service: GrpcService,
) -> None:
    for metadata, code in (
        ([], grpc.StatusCode.UNAUTHENTICATED),
        ([("authorization", "Bearer wrong")], grpc.StatusCode.PERMISSION_DENIED),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            service.stub.RepositoryModelUnload(
                pb.RepositoryModelUnloadRequest(model_name="digits_model"),
                metadata=metadata,
                timeout=10,
            )
        assert refused.value.code() == code
    assert service.triton.is_model_ready("digits_model")

    unloaded = service.stub.RepositoryModelUnload(
        pb.RepositoryModelUnloadRequest(model_name="digits_model"), metadata=BEARER, timeout=30
    )
    assert (unloaded.model_name, unloaded.isUnloaded) == ("digits_model", True)
    assert "digits_model" not in [m["qualified_name"] for m in service.get("/api/models")["models"]]
    with pytest.raises(grpc.RpcError) as missing:
        service.stub.ModelReady(pb.ModelReadyRequest(name="digits_model"), timeout=10)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND

    # load by the entry-point name the package registers, as KServe's repository client sends it
    loaded = service.stub.RepositoryModelLoad(
        pb.RepositoryModelLoadRequest(model_name="digits_model"), metadata=BEARER, timeout=60
    )
    assert (loaded.model_name, loaded.isLoaded) == ("digits_model", True)
    assert "digits_model" in [m["qualified_name"] for m in service.get("/api/models")["models"]]
    assert service.triton.is_model_ready("digits_model")

    # a served model is reloaded in place
    again = service.stub.RepositoryModelLoad(
        pb.RepositoryModelLoadRequest(model_name="iris_model"), metadata=BEARER, timeout=60
    )
    assert again.isLoaded
    assert answered_by(service) == "1.0.0"


def test_repository_errors_are_status_codes_with_details(service: GrpcService) -> None:
    with pytest.raises(grpc.RpcError) as unknown:
        service.stub.RepositoryModelLoad(
            pb.RepositoryModelLoadRequest(model_name="no_such_model"), metadata=BEARER, timeout=30
        )
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no_such_model" in (unknown.value.details() or "")

    with pytest.raises(grpc.RpcError) as unnamed:
        service.stub.RepositoryModelLoad(
            pb.RepositoryModelLoadRequest(model_name=""), metadata=BEARER, timeout=30
        )
    assert unnamed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = dict(unnamed.value.trailing_metadata() or ())["error-details"]
    assert json.loads(details)["error"]["details"] == [
        {"path": ["model_name"], "message": "required"}
    ]


def test_grpc_predictions_are_captured_with_their_routing_decision(
    service: GrpcService,
) -> None:
    request_id = "grpc-capture-0001"
    result = service.triton.infer("iris_model", iris_inputs(), headers={"x-request-id": request_id})
    assert result.get_response().model_version == "1.0.0"
    rows: list[dict[str, Any]] = []

    def captured() -> bool:
        response = admin(service, "GET", "/api/admin/models/iris_model/captures")
        assert response.status_code == 200, response.text
        rows[:] = [row for row in response.json()["captures"] if row["request_id"] == request_id]
        return len(rows) >= 2

    wait_for(captured, "the gRPC call's rows captured")
    assert {row["entry_point"] for row in rows} == {"grpc"}
    assert {row["decision"] for row in rows} == {"primary"}
    assert np.isfinite([row["latency_ms"] for row in rows]).all()
