"""The ``/v2`` paths of the OpenAPI document, with each model's tensor mapping.

Server-level paths (``/v2``, health) use the protocol's shapes from :mod:`.schemas`. Each loaded
model version gets its own metadata, ready and infer paths (and the unversioned ones for the
highest version), whose request and response schemas name that model's tensors, datatypes and
shapes, with a table of the mapping in the description and a one-row example built from the
model's ``example_input()``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from apispec import APISpec

from model_service.model_manager import ServedModel, version_key
from model_service.openapi.components import json_response, operation
from model_service.openapi.model_paths import component_prefix
from model_service.v2.mapping import (
    TensorMapping,
    describe_model,
    mapping_for,
)
from model_service.v2.openapi_models import (
    example_request,
    mapping_table,
    register_model_components,
)
from model_service.v2.schemas import (
    V2_SCHEMAS,
    ErrorSchema,
    ModelMetadataSchema,
    ModelReadySchema,
    ServerLiveSchema,
    ServerMetadataSchema,
    ServerReadySchema,
)

TAG = "v2"
ERROR_RESPONSES = {
    400: ("V2InvalidInput", "The tensors do not fit the model, or the rows fail validation."),
    404: ("V2NotFound", "No such model, version or endpoint."),
    413: ("V2PayloadTooLarge", "The body or the number of rows is larger than accepted."),
    500: ("V2InternalError", "The service or the model failed; the request id is in the log."),
    503: ("V2NotReady", "The service is not ready."),
    504: ("V2PredictionTimeout", "The prediction took longer than the configured timeout."),
}
INFER_ERRORS = (400, 404, 413, 500, 504)


def add_v2_paths(spec: APISpec, served_models: list[ServedModel]) -> None:
    """Add the ``/v2`` paths and schemas of ``served_models`` to the apispec ``spec``."""
    for name, schema in V2_SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    for name, description in ERROR_RESPONSES.values():
        spec.components.response(name, json_response(description, ErrorSchema))
    spec.tag(
        {
            "name": TAG,
            "description": "Open Inference Protocol (V2), as KServe, MLServer and Triton "
            "clients speak it: one tensor per input and output field.",
        }
    )
    _add_server_paths(spec)
    by_name: dict[str, list[ServedModel]] = defaultdict(list)
    for served in served_models:
        by_name[served.qualified_name].append(served)
    for versions in by_name.values():
        versions.sort(key=lambda served: version_key(served.version), reverse=True)
        names = [served.version for served in versions]
        for served in versions:
            _add_model_paths(spec, served, names, is_default=served is versions[0])


def _errors(*statuses: int) -> dict[str, str]:
    return {str(status): ERROR_RESPONSES[status][0] for status in sorted({*statuses, 500})}


def _get(spec: APISpec, path: str, summary: str, operation_id: str, responses: Any) -> None:
    spec.path(path=path, operations={"get": operation(summary, TAG, operation_id, **responses)})


def _add_server_paths(spec: APISpec) -> None:
    _get(
        spec,
        "/v2",
        "V2 server metadata: name, version, extensions",
        "v2_server_metadata",
        {"responses": {"200": json_response("The server.", ServerMetadataSchema), **_errors()}},
    )
    _get(
        spec,
        "/v2/health/live",
        "V2 liveness",
        "v2_server_live",
        {"responses": {"200": json_response("Alive.", ServerLiveSchema), **_errors()}},
    )
    ready = {
        "200": json_response("Ready.", ServerReadySchema),
        "503": json_response("Not ready: `reasons` says why.", ServerReadySchema),
    }
    _get(
        spec,
        "/v2/health/ready",
        "V2 readiness",
        "v2_server_ready",
        {"responses": {**ready, **_errors()}},
    )


def _add_model_paths(
    spec: APISpec, served: ServedModel, versions: list[str], is_default: bool
) -> None:
    prefix = component_prefix(served)
    mapping = mapping_for(served)
    register_model_components(spec, served, mapping, prefix)
    name, version = served.qualified_name, served.version
    bases = [(f"/v2/models/{name}/versions/{version}", f"{name} {version}", prefix)]
    if is_default:
        bases.insert(0, (f"/v2/models/{name}", f"{name} (highest version, now {version})", name))
    example = describe_model(served, versions)
    for base, which, suffix in bases:
        metadata_response = json_response("The model's tensors.", ModelMetadataSchema)
        metadata_response["content"]["application/json"]["example"] = example
        _get(
            spec,
            base,
            f"V2 metadata of {which}",
            f"v2_model_metadata_{suffix}",
            {"responses": {"200": metadata_response, **_errors(404)}},
        )
        _get(
            spec,
            f"{base}/ready",
            f"V2 readiness of {which}",
            f"v2_model_ready_{suffix}",
            {"responses": {"200": json_response("Ready.", ModelReadySchema), **_errors(404)}},
        )
        infer = operation(
            f"V2 inference with {which}",
            TAG,
            f"v2_infer_{suffix}",
            description=mapping_table(mapping),
            requestBody=_request_body(served, mapping, prefix),
            responses={
                "200": json_response(
                    "One output tensor per output field, rows in request order.",
                    {"$ref": f"#/components/schemas/{prefix}_V2InferResponse"},
                ),
                **_errors(*INFER_ERRORS),
            },
        )
        spec.path(path=f"{base}/infer", operations={"post": infer})


def _request_body(served: ServedModel, mapping: TensorMapping, prefix: str) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{prefix}_V2InferRequest"}}
    if example_request(served, mapping) is not None:
        content["examples"] = {
            "example": {"$ref": f"#/components/examples/{prefix}_V2InferExample"}
        }
    return {"required": True, "content": {"application/json": content}}
