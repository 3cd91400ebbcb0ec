"""Response shapes of the REST API, as marshmallow schemas (also used for the OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields


class ErrorDetailSchema(Schema):
    """One problem: where (``path``, field names and item indexes) and what."""

    path = fields.List(
        fields.Raw(),
        required=True,
        metadata={"description": "Field path; a batch item's index comes first."},
    )
    message = fields.String(required=True)


class ErrorBodySchema(Schema):
    type = fields.String(required=True, metadata={"description": "Machine-readable error kind."})
    message = fields.String(
        required=True, metadata={"description": "What went wrong and what to do."}
    )
    details = fields.List(fields.Nested(ErrorDetailSchema), required=True)
    request_id = fields.String(
        required=True, metadata={"description": "Quote it when reporting a problem."}
    )


class ErrorSchema(Schema):
    """The one error shape of every 4xx and 5xx response."""

    error = fields.Nested(ErrorBodySchema, required=True)


class ModelSummarySchema(Schema):
    qualified_name = fields.String(required=True)
    display_name = fields.String(required=True)
    description = fields.String(required=True)
    version = fields.String(
        required=True, metadata={"description": "The version this entry describes."}
    )
    versions = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Every loaded version, highest first."},
    )


class ModelListSchema(Schema):
    models = fields.List(fields.Nested(ModelSummarySchema), required=True)


class ModelMetadataSchema(ModelSummarySchema):
    input_schema = fields.Dict(
        required=True, metadata={"description": "JSON schema of one input item."}
    )
    output_schema = fields.Dict(
        required=True, metadata={"description": "JSON schema of one result."}
    )
    model_card = fields.Dict(required=True, allow_none=True)
    example_input = fields.Dict(required=True, allow_none=True)


class LoadFailureSchema(Schema):
    source = fields.String(required=True)
    error = fields.String(required=True)
    qualified_name = fields.String(required=True, allow_none=True)


class GrpcStateSchema(Schema):
    port = fields.Integer(required=True)
    accepting = fields.Boolean(
        required=True, metadata={"description": "A gRPC server process accepts connections."}
    )


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"description": "'ok' or 'unavailable'."})
    models = fields.List(
        fields.String(), required=True, metadata={"description": "Loaded models as name:version."}
    )
    failed = fields.List(fields.Nested(LoadFailureSchema), required=True)
    reasons = fields.List(fields.String(), required=True)
    grpc = fields.Nested(
        GrpcStateSchema, metadata={"description": "With `serve --grpc-port`: the gRPC server."}
    )


error_schema = ErrorSchema()
model_list_schema = ModelListSchema()
model_metadata_schema = ModelMetadataSchema()
health_schema = HealthSchema()


class ContributionSchema(Schema):
    field = fields.String(required=True, metadata={"description": "Input field name."})
    value = fields.Raw(required=True, metadata={"description": "The field's value in the input."})
    baseline = fields.Raw(required=True, metadata={"description": "The reference value used."})
    contribution = fields.Float(
        required=True,
        metadata={"description": "Change in the explained output due to this field's value."},
    )


class ExplanationSchema(Schema):
    """Why the model predicted what it did, one contribution per input field."""

    method = fields.String(required=True, metadata={"description": "How it was computed."})
    target = fields.String(
        required=True,
        metadata={"description": "What is explained: a class's probability or an output field."},
    )
    prediction = fields.Dict(required=True, metadata={"description": "The model's result."})
    explained_value = fields.Float(required=True, metadata={"description": "The target's value."})
    contributions = fields.List(
        fields.Nested(ContributionSchema),
        required=True,
        metadata={"description": "One entry per input field, largest magnitude first."},
    )


explanation_schema = ExplanationSchema()
