"""The committed gRPC stubs are what ``make grpc-stubs`` generates from the committed proto."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from google.protobuf import descriptor_pool

REPO_ROOT = Path(__file__).resolve().parents[2]
STUBS = REPO_ROOT / "model_service" / "grpc_v2"


def _generator() -> object:
    spec = importlib.util.spec_from_file_location(
        "generate_grpc_stubs", REPO_ROOT / "scripts" / "generate_grpc_stubs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_stubs_equal_a_fresh_generation(tmp_path: Path) -> None:
    generated = _generator().generate(tmp_path)  # type: ignore[attr-defined]
    assert [path.name for path in generated] == [
        "grpc_predict_v2_pb2.py",
        "grpc_predict_v2_pb2.pyi",
        "grpc_predict_v2_pb2_grpc.py",
    ]
    for path in generated:
        assert path.read_text() == (STUBS / path.name).read_text(), (
            f"{path.name} is stale: run make grpc-stubs"
        )


def test_our_stubs_and_tritonclients_live_in_one_process() -> None:
    from tritonclient.grpc import service_pb2

    from model_service.grpc_v2 import grpc_predict_v2_pb2 as ours

    request = ours.ModelInferRequest(model_name="iris_model", id="7")
    request.inputs.add(name="x", datatype="FP64", shape=[1]).contents.fp64_contents.append(2.5)
    theirs = service_pb2.ModelInferRequest.FromString(request.SerializeToString())
    assert theirs.inputs[0].contents.fp64_contents == [2.5]
    # ours stay out of protobuf's default pool, where tritonclient's `inference` package is
    default = descriptor_pool.Default().FindMessageTypeByName("inference.ModelInferRequest")
    assert default.file.name != ours.DESCRIPTOR.name
