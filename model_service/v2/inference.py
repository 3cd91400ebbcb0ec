"""The V2 infer core, shared by the REST route and the gRPC servicer.

Both transports parse their request into one :class:`~model_service.v2.request_body.InferRequest`
(tensors as JSON-like dicts with flat or nested ``data``), then call :func:`infer`: decode the
tensors into items (:mod:`.codec`, every tensor problem listed at once), validate and predict them
as ``/api`` does, and encode the results as output tensors. So a request answers the same, and
fails with the same field-level details, whichever way it came. This module imports nothing of
Flask.
"""

from __future__ import annotations

from typing import Any

from model_service.errors import PayloadTooLarge
from model_service.model_manager import ServedModel
from model_service.runtime import ServiceRuntime, current_runtime
from model_service.v2.codec import decode_inputs, encode_outputs, select_outputs
from model_service.v2.mapping import mapping_for
from model_service.v2.request_body import InferRequest


def resolve_model(name: str, version: str | None, routing_key: str | None) -> ServedModel:
    """The model version an infer request is answered by.

    A named version answers as named; otherwise the model's routing policy chooses (canary
    weights, sticky by ``routing_key``; see :mod:`model_service.routing`), remembered for the
    request so capture records the decision and the shadows get their copy.
    """
    return current_runtime().route(name, version, routing_key).served


def infer(runtime: ServiceRuntime, served: ServedModel, request: InferRequest) -> dict[str, Any]:
    """Predict every row of ``request``'s input tensors; the ``$inference_response`` as a dict.

    :raises InvalidInput: a tensor or a decoded item is invalid (every problem listed).
    :raises PayloadTooLarge: more rows than ``MAX_BATCH_ITEMS``.
    """
    mapping = mapping_for(served)
    outputs = select_outputs(served, mapping, request.requested_outputs)
    items = decode_inputs(served, mapping, request.inputs)
    limit = runtime.settings["MAX_BATCH_ITEMS"]
    if len(items) > limit:
        raise PayloadTooLarge(
            f"The tensors hold {len(items)} rows; this service accepts at most {limit} per "
            "request. Split them into smaller requests."
        )
    # zero rows are a valid tensor; they need no model call (some estimators refuse one)
    results = runtime.predict(served, items, batch=True) if items else []
    body: dict[str, Any] = {"model_name": served.qualified_name, "model_version": served.version}
    if request.id is not None:
        body["id"] = request.id
    body["outputs"] = encode_outputs(served, outputs, results)
    return body
