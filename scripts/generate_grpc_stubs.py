"""Generate the Python stubs of the V2 gRPC API: ``make grpc-stubs``.

Usage: ``python scripts/generate_grpc_stubs.py [--output DIRECTORY]`` (default: beside the
``.proto`` in ``model_service/grpc_v2``). grpcio-tools compiles ``grpc_predict_v2.proto``; two
lines of what it writes are then changed, so that these stubs live beside ``tritonclient``'s
(which compiles its own copy of the same ``inference`` package) in one process:

* the ``_pb2`` module registers its descriptors in a pool of its own instead of protobuf's
  default pool, where ``inference.ModelInferRequest`` would clash with tritonclient's;
* the ``_pb2_grpc`` module imports the ``_pb2`` module from this package, not as a top-level
  module.

The message and service names on the wire are untouched. The tests compare the committed stubs
with a fresh generation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grpc_tools import protoc

STUBS_DIRECTORY = Path(__file__).resolve().parents[1] / "model_service" / "grpc_v2"
PROTO = "grpc_predict_v2.proto"
PACKAGE = "model_service.grpc_v2"

_EDITS = {
    "grpc_predict_v2_pb2.py": (
        "_descriptor_pool.Default().AddSerializedFile(",
        "_descriptor_pool.DescriptorPool().AddSerializedFile(",
    ),
    "grpc_predict_v2_pb2_grpc.py": (
        "import grpc_predict_v2_pb2 as grpc__predict__v2__pb2",
        f"from {PACKAGE} import grpc_predict_v2_pb2 as grpc__predict__v2__pb2",
    ),
}


def generate(output: Path) -> list[Path]:
    """Write the stubs of :data:`PROTO` into ``output``; return the files written."""
    output.mkdir(parents=True, exist_ok=True)
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{STUBS_DIRECTORY}",
            f"--python_out={output}",
            f"--pyi_out={output}",
            f"--grpc_python_out={output}",
            str(STUBS_DIRECTORY / PROTO),
        ]
    )
    if status != 0:
        raise SystemExit(f"protoc failed with status {status}")
    for name, (old, new) in _EDITS.items():
        path = output / name
        text = path.read_text()
        if text.count(old) != 1:
            raise SystemExit(f"{path}: expected one {old!r} to rewrite; grpcio-tools changed")
        path.write_text(text.replace(old, new))
    return sorted(output.glob("grpc_predict_v2_pb2*"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=STUBS_DIRECTORY)
    for path in generate(parser.parse_args(argv).output):
        print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
