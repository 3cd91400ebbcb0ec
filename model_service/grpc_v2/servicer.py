"""The V2 inference protocol's gRPC service (``inference.GRPCInferenceService``).

Every call runs inside a Flask request context of the service's app, in a thread of its own
(``calls``), so the runtime, batching, capture, request ids, metrics and logging work exactly as
for ``/v2`` over REST, and :func:`model_service.v2.inference.infer` answers both. The handler
thread waits for the call at most as long as the client's deadline (``context.time_remaining()``):
a hung model answers ``DEADLINE_EXCEEDED`` instead of holding the caller.

Errors are the service's domain errors turned into status codes in one place (:data:`STATUS_OF`);
the details (field paths and problems) travel as the one JSON error shape in the trailing
metadata ``error-details``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar

import grpc
from flask import Flask
from werkzeug.routing import Rule

from model_service.admin import (
    check_load_spec,
    require_admin_token,
    run_change,
)
from model_service.error_handlers import error_body
from model_service.errors import ErrorDetail, InvalidInput, ServingError
from model_service.grpc_v2 import grpc_predict_v2_pb2 as pb
from model_service.grpc_v2 import grpc_predict_v2_pb2_grpc as pb_grpc
from model_service.grpc_v2.tensors import infer_response, read_infer_request
from model_service.json_provider import dumps_bytes
from model_service.observability import request_id_from
from model_service.readiness import readiness
from model_service.routing import ROUTING_KEY_HEADER
from model_service.runtime import current_runtime
from model_service.v2 import inference
from model_service.v2.errors import v2_error_body
from model_service.v2.mapping import describe_model
from model_service.v2.routes import SERVER_METADATA

logger = logging.getLogger(__name__)

Reply = TypeVar("Reply")

REQUEST_ID_KEY = "x-request-id"
ERROR_DETAILS_KEY = "error-details"
ENTRY_POINT = "grpc"
"""The endpoint name a gRPC call's request context carries (capture's ``entry_point``)."""
ROUTING_KEY_METADATA = ROUTING_KEY_HEADER.lower()
AUTHORIZATION_METADATA = "authorization"
"""The repository methods need ``authorization: Bearer <ADMIN_TOKEN>``, as the admin API."""

STATUS_OF = {
    HTTPStatus.BAD_REQUEST: grpc.StatusCode.INVALID_ARGUMENT,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: grpc.StatusCode.INVALID_ARGUMENT,
    HTTPStatus.UNAUTHORIZED: grpc.StatusCode.UNAUTHENTICATED,
    HTTPStatus.FORBIDDEN: grpc.StatusCode.PERMISSION_DENIED,
    HTTPStatus.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    HTTPStatus.CONFLICT: grpc.StatusCode.FAILED_PRECONDITION,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: grpc.StatusCode.RESOURCE_EXHAUSTED,
    HTTPStatus.SERVICE_UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    HTTPStatus.GATEWAY_TIMEOUT: grpc.StatusCode.DEADLINE_EXCEEDED,
    HTTPStatus.INTERNAL_SERVER_ERROR: grpc.StatusCode.INTERNAL,
}
"""The gRPC status of each HTTP status a domain error carries."""


@dataclass
class _Failure:
    """A call that ended in an error: what the client gets."""

    code: grpc.StatusCode
    message: str
    body: dict[str, Any] = field(default_factory=dict)


ObserveCall = Callable[[str, str, float], None]
"""``(method, status code name, seconds)``: counts a finished call (the metrics)."""


class InferenceServicer(pb_grpc.GRPCInferenceServiceServicer):
    """Answers the V2 gRPC methods from ``app``'s runtime.

    :param calls: the threads the calls run in (as many as the server's own).
    :param observe: told about every finished call.
    """

    def __init__(self, app: Flask, calls: ThreadPoolExecutor, observe: ObserveCall) -> None:
        self.app = app
        self.calls = calls
        self.observe = observe
        self.timeout_s = float(app.config["PREDICTION_TIMEOUT_S"])

    # --- health and metadata --------------------------------------------------------------

    def ServerLive(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._call("ServerLive", context, lambda: pb.ServerLiveResponse(live=True))

    def ServerReady(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._call(
            "ServerReady", context, lambda: pb.ServerReadyResponse(ready=not readiness()["reasons"])
        )

    def ModelReady(self, request: Any, context: grpc.ServicerContext) -> Any:
        def ready() -> Any:
            current_runtime().get_model(request.name, request.version or None)
            return pb.ModelReadyResponse(ready=True)

        return self._call("ModelReady", context, ready)

    def ServerMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:
        def metadata() -> Any:
            described: dict[str, Any] = SERVER_METADATA
            return pb.ServerMetadataResponse(**described)

        return self._call("ServerMetadata", context, metadata)

    def ModelMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:
        def metadata() -> Any:
            runtime = current_runtime()
            served = runtime.get_model(request.name, request.version or None)
            versions = runtime.manager.get_model_metadata(request.name, served.version)["versions"]
            described = describe_model(served, versions)
            return pb.ModelMetadataResponse(
                name=described["name"],
                versions=described["versions"],
                platform=described["platform"],
                inputs=[_tensor_metadata(tensor) for tensor in described["inputs"]],
                outputs=[_tensor_metadata(tensor) for tensor in described["outputs"]],
            )

        return self._call("ModelMetadata", context, metadata)

    # --- inference ------------------------------------------------------------------------

    def ModelInfer(self, request: Any, context: grpc.ServicerContext) -> Any:
        def infer() -> Any:
            served = inference.resolve_model(
                request.model_name, request.model_version or None, _routing_key(context)
            )
            infer_request, raw = read_infer_request(request)
            return infer_response(inference.infer(current_runtime(), served, infer_request), raw)

        return self._call("ModelInfer", context, infer)

    # --- the model repository extension (behind the admin token) ----------------------------

    def RepositoryModelLoad(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Reload ``model_name`` when it is served, else load the class registered under that
        entry-point name (``model_service.models``); the admin API's change, in every worker."""

        def load() -> Any:
            require_admin_token()
            name = request.model_name
            if not name:
                raise InvalidInput(
                    "Name the model to load.", [ErrorDetail(("model_name",), "required")]
                )
            if current_runtime().manager.serves(name):
                run_change({"action": "reload", "name": name, "version": None})
            else:
                run_change({"action": "load", "spec": check_load_spec({"entry_point": name})})
            return pb.RepositoryModelLoadResponse(model_name=name, isLoaded=True)

        return self._call("RepositoryModelLoad", context, load)

    def RepositoryModelUnload(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Stop serving every version of ``model_name`` (the admin API's unload)."""

        def unload() -> Any:
            require_admin_token()
            run_change({"action": "unload", "name": request.model_name, "version": None})
            return pb.RepositoryModelUnloadResponse(model_name=request.model_name, isUnloaded=True)

        return self._call("RepositoryModelUnload", context, unload)

    # --- one call ---------------------------------------------------------------------------

    def _call(self, method: str, context: grpc.ServicerContext, work: Callable[[], Reply]) -> Reply:
        """Run ``work`` in the app, within the client's deadline; abort with its error."""
        started = time.perf_counter()
        request_id = _request_id(context)
        context.set_trailing_metadata([(REQUEST_ID_KEY, request_id)])
        outcome: Any
        try:
            headers = {"X-Request-ID": request_id}
            authorization = _metadata_value(context, AUTHORIZATION_METADATA)
            if authorization is not None:
                headers["Authorization"] = authorization
            future = self.calls.submit(self._in_app, method, headers, work)
            outcome = future.result(timeout=self._seconds_left(context))
        except FutureTimeout:
            outcome = _Failure(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"No answer within the call's deadline (at most PREDICTION_TIMEOUT_S, "
                f"{self.timeout_s:g} s); {method} is still running.",
            )
        code = outcome.code if isinstance(outcome, _Failure) else grpc.StatusCode.OK
        seconds = time.perf_counter() - started
        self.observe(method, code.name, seconds)
        logger.info(
            "GRPC %s %s %.1fms",
            method,
            code.name,
            seconds * 1000,
            extra={"request_id": request_id, "status": code.name, "duration_ms": seconds * 1000},
        )
        if isinstance(outcome, _Failure):
            metadata: list[tuple[str, str | bytes]] = [(REQUEST_ID_KEY, request_id)]
            if outcome.body:
                metadata.append((ERROR_DETAILS_KEY, dumps_bytes(outcome.body).decode()))
            context.set_trailing_metadata(metadata)
            context.abort(outcome.code, outcome.message)
        reply: Reply = outcome
        return reply

    def _seconds_left(self, context: grpc.ServicerContext) -> float:
        """The client's deadline, capped by ``PREDICTION_TIMEOUT_S`` (and without a deadline,
        grpcio reports a remaining time too large to wait on)."""
        remaining = context.time_remaining()
        return self.timeout_s if remaining is None else max(min(remaining, self.timeout_s), 0.0)

    def _in_app(
        self, method: str, headers: dict[str, str], work: Callable[[], Reply]
    ) -> Reply | _Failure:
        request_id = headers["X-Request-ID"]
        with self.app.test_request_context(
            f"/inference.GRPCInferenceService/{method}", method="POST", headers=headers
        ) as context:
            # the request comes from no URL rule; this one names it for logs and capture
            context.request.url_rule = Rule(context.request.path, endpoint=ENTRY_POINT)
            try:
                # what every HTTP request gets first: its id and start time, and the admin
                # change log replayed (models and routing changed through any worker's admin
                # API). Only unmatched /v2 URLs answer here, and this path is not one.
                self.app.preprocess_request()
                return work()
            except ServingError as error:
                return _failure(error)
            except Exception:
                logger.exception("Unhandled error in gRPC call %s %s", method, request_id)
                return _failure(
                    ServingError(
                        "The service failed to handle this call; the error is logged under its "
                        "request id."
                    )
                )


def _failure(error: ServingError) -> _Failure:
    code = STATUS_OF.get(error.status, grpc.StatusCode.UNKNOWN)
    message = v2_error_body(error.type, error.message, error.details)["error"]
    return _Failure(code, message, error_body(error.type, error.message, error.details))


def _metadata_value(context: grpc.ServicerContext, name: str) -> str | None:
    """The call's text metadata ``name`` (lower case, as gRPC sends keys), if sent."""
    for key, value in context.invocation_metadata():
        if key == name and isinstance(value, str):
            return value
    return None


def _routing_key(context: grpc.ServicerContext) -> str | None:
    """The client's ``x-routing-key`` metadata (sticky canary routing, as REST's header)."""
    return _metadata_value(context, ROUTING_KEY_METADATA)


def _request_id(context: grpc.ServicerContext) -> str:
    """The client's ``x-request-id`` metadata when acceptable, else a new id (as over HTTP)."""
    return request_id_from(_metadata_value(context, REQUEST_ID_KEY))


def _tensor_metadata(tensor: dict[str, Any]) -> Any:
    return pb.ModelMetadataResponse.TensorMetadata(
        name=tensor["name"], datatype=tensor["datatype"], shape=tensor["shape"]
    )
