"""Shapes of the V2 protocol's JSON bodies, as marshmallow schemas for the OpenAPI document.

They follow the REST section of the Open Inference Protocol (KServe's "V2 inference protocol"):
``$metadata_server_response``, ``$metadata_model_response``, ``$inference_request``,
``$inference_response`` and the error body, with this service's extra error fields.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from model_service.api.schemas import ErrorDetailSchema
from model_service.v2.mapping import DATATYPES

_DATATYPE = {"description": "A V2 datatype.", "enum": list(DATATYPES)}
_SHAPE = {"description": "Size of each dimension; the first is the number of rows."}
_PARAMETERS = {"description": "Free-form parameters (accepted; not used by this service)."}


class ServerMetadataSchema(Schema):
    name = fields.String(required=True)
    version = fields.String(required=True)
    extensions = fields.List(fields.String(), required=True)


class ServerLiveSchema(Schema):
    live = fields.Boolean(required=True)


class ServerReadySchema(Schema):
    ready = fields.Boolean(required=True)
    reasons = fields.List(fields.String(), metadata={"description": "Why it is not ready."})


class ModelReadySchema(Schema):
    name = fields.String(required=True)
    ready = fields.Boolean(required=True)


class MetadataTensorSchema(Schema):
    name = fields.String(required=True)
    datatype = fields.String(required=True, metadata=_DATATYPE)
    shape = fields.List(
        fields.Integer(), required=True, metadata={"description": "-1: any size (rows first)."}
    )
    parameters = fields.Dict(
        metadata={
            "description": "`columns`: the keys of a 2-D tensor's last dimension, in order; "
            "`content_type: application/json`: each element is JSON text; `optional`: the "
            "input may be left out."
        }
    )


class ModelMetadataSchema(Schema):
    name = fields.String(required=True)
    versions = fields.List(fields.String(), metadata={"description": "Every version loaded."})
    platform = fields.String(required=True)
    inputs = fields.List(fields.Nested(MetadataTensorSchema), required=True)
    outputs = fields.List(fields.Nested(MetadataTensorSchema), required=True)
    parameters = fields.Dict(
        metadata={
            "description": "`version`: the version described; `matrix_input`, "
            "`matrix_input_datatype`, `matrix_input_columns`: the optional single 2-D input."
        }
    )


class RequestInputSchema(Schema):
    name = fields.String(required=True)
    shape = fields.List(fields.Integer(), required=True, metadata=_SHAPE)
    datatype = fields.String(required=True, metadata=_DATATYPE)
    parameters = fields.Dict(metadata=_PARAMETERS)
    data = fields.List(
        fields.Raw(),
        required=True,
        metadata={"description": "Elements in row-major order, flat or nested by the shape."},
    )


class RequestOutputSchema(Schema):
    name = fields.String(required=True)
    parameters = fields.Dict(metadata=_PARAMETERS)


class InferRequestSchema(Schema):
    id = fields.String(metadata={"description": "Echoed in the response."})
    parameters = fields.Dict(metadata=_PARAMETERS)
    inputs = fields.List(fields.Nested(RequestInputSchema), required=True)
    outputs = fields.List(
        fields.Nested(RequestOutputSchema), metadata={"description": "Return only these outputs."}
    )


class ResponseOutputSchema(Schema):
    name = fields.String(required=True)
    shape = fields.List(fields.Integer(), required=True, metadata=_SHAPE)
    datatype = fields.String(required=True, metadata=_DATATYPE)
    data = fields.List(fields.Raw(), required=True, metadata={"description": "Row-major, flat."})


class InferResponseSchema(Schema):
    model_name = fields.String(required=True)
    model_version = fields.String(required=True)
    id = fields.String(metadata={"description": "The request's id, when it had one."})
    outputs = fields.List(fields.Nested(ResponseOutputSchema), required=True)


class ErrorSchema(Schema):
    """The protocol's error body, plus the service's type, details and request id."""

    error = fields.String(
        required=True, metadata={"description": "What went wrong, with the first problems."}
    )
    type = fields.String(required=True, metadata={"description": "Machine-readable error kind."})
    details = fields.List(fields.Nested(ErrorDetailSchema), required=True)
    request_id = fields.String(required=True)


V2_SCHEMAS = {
    "V2ServerMetadata": ServerMetadataSchema,
    "V2ServerLive": ServerLiveSchema,
    "V2ServerReady": ServerReadySchema,
    "V2ModelReady": ModelReadySchema,
    "V2MetadataTensor": MetadataTensorSchema,
    "V2ModelMetadata": ModelMetadataSchema,
    "V2RequestInput": RequestInputSchema,
    "V2RequestOutput": RequestOutputSchema,
    "V2InferRequest": InferRequestSchema,
    "V2ResponseOutput": ResponseOutputSchema,
    "V2InferResponse": InferResponseSchema,
    "V2Error": ErrorSchema,
}
"""Component name -> schema, registered once in the OpenAPI document."""
