"""Marshmallow schemas of the monitoring and feedback responses (the OpenAPI document's too)."""

from __future__ import annotations

from marshmallow import Schema, fields

DECISION = (
    "How routing chose the version: 'primary' (the policy's default version), 'canary' (a canary "
    "weight), 'shadow' (a copy run after the answer, never returned) or 'direct' (a versioned URL)."
)
STATUS = "'ok', 'watch', 'drift', or 'no data' (no live values or no reference)."


class LatencySchema(Schema):
    p50 = fields.Float(required=True, allow_none=True, metadata={"description": "Milliseconds."})
    p99 = fields.Float(required=True, allow_none=True, metadata={"description": "Milliseconds."})


class FieldDriftSchema(Schema):
    psi = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Population stability index against the reference data."},
    )
    status = fields.String(required=True, metadata={"description": STATUS})
    out_of_range_rate = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Share of values outside the reference range or categories."},
    )


class PredictionDriftSchema(Schema):
    psi = fields.Float(required=True, allow_none=True)
    status = fields.String(required=True, metadata={"description": STATUS})


class DriftSchema(Schema):
    features = fields.Dict(
        keys=fields.String(), values=fields.Nested(FieldDriftSchema), required=True
    )
    prediction = fields.Nested(PredictionDriftSchema, required=True)


class QualitySchema(Schema):
    labelled = fields.Integer(
        required=True, metadata={"description": "Predictions in the window with feedback."}
    )
    kind = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "'classification', 'regression', or null without a target."},
    )
    metrics = fields.Dict(
        required=True,
        metadata={
            "description": "Classification: accuracy and per_class {precision, recall, support}; "
            "regression: mae and rmse. Empty without feedback."
        },
    )


class VersionErrorsSchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "Failed prediction requests."})
    rate = fields.Float(
        required=True,
        metadata={"description": "Failed requests over failed requests plus captured items."},
    )


class ComparedVersionSchema(Schema):
    version = fields.String(required=True)
    is_primary = fields.Boolean(
        required=True, metadata={"description": "The version the others are compared with."}
    )
    decisions = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Captured items in the window per decision. " + DECISION},
    )
    rows_read = fields.Integer(
        required=True,
        metadata={"description": "Newest rows the figures were computed from (at most max_rows)."},
    )
    capped = fields.Boolean(
        required=True, metadata={"description": "The version had more rows than were read."}
    )
    pairs = fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "Shadow items paired with the primary's answer to the same item "
            "(same request id and index, captured within pairing_window_s); null for the primary."
        },
    )
    unpaired = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Shadow items read that found no answer of the primary."},
    )
    agreement = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Classification: share of pairs whose labels agree."},
    )
    mean_absolute_difference = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Regression: mean absolute difference over the pairs."},
    )
    label_shares = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        allow_none=True,
        metadata={"description": "Classification: each predicted label's share of the rows."},
    )
    mean = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Regression: the mean prediction over the rows."},
    )
    latency_ms = fields.Nested(LatencySchema, required=True)
    latency_by_decision = fields.Dict(
        keys=fields.String(), values=fields.Nested(LatencySchema), required=True
    )
    errors = fields.Nested(VersionErrorsSchema, required=True)
    quality = fields.Nested(QualitySchema, required=True)


class VersionsSchema(Schema):
    primary = fields.String(
        required=True,
        metadata={
            "description": "The version compared against: routing's primary, else the one that "
            "answered most items as primary in the window."
        },
    )
    kind = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "'classification', 'regression', or null without a target."},
    )
    max_rows = fields.Integer(
        required=True,
        metadata={"description": "MONITORING_ANALYSIS_MAX_ROWS: newest rows read per version."},
    )
    capped = fields.Boolean(
        required=True, metadata={"description": "Some version had more rows than were read."}
    )
    pairing_window_s = fields.Float(
        required=True,
        metadata={"description": "How far apart a shadow item and its answer may be captured."},
    )
    compared = fields.List(
        fields.Nested(ComparedVersionSchema),
        required=True,
        metadata={
            "description": "The primary first, then every version with shadow, canary or "
            "direct rows in the window."
        },
    )


class MonitoringSummarySchema(Schema):
    model = fields.String(required=True)
    version = fields.String(required=True)
    window = fields.String(
        required=True, metadata={"description": "e.g. '1h', '24h', '7d', 'all'."}
    )
    predictions = fields.Integer(required=True, metadata={"description": "Captured items."})
    errors = fields.Integer(required=True, metadata={"description": "Failed prediction requests."})
    latency_ms = fields.Nested(LatencySchema, required=True)
    drift = fields.Nested(DriftSchema, required=True)
    quality = fields.Nested(QualitySchema, required=True)
    versions = fields.Nested(
        VersionsSchema,
        required=True,
        metadata={"description": "Every version of the model with rows in the window, compared."},
    )


class FeedbackAcceptedSchema(Schema):
    accepted = fields.Integer(required=True, metadata={"description": "Labels stored."})


class CapturedRowSchema(Schema):
    model = fields.String(required=True)
    version = fields.String(required=True)
    created = fields.String(required=True, metadata={"description": "ISO 8601, UTC."})
    request_id = fields.String(required=True)
    index = fields.Integer(required=True, attribute="item_index", data_key="index")
    entry_point = fields.String(required=True)
    decision = fields.String(required=True, metadata={"description": DECISION})
    inputs = fields.Dict(required=True)
    prediction = fields.Raw(required=True)
    latency_ms = fields.Float(required=True)
    actual = fields.Raw(required=True, allow_none=True)


class CapturedRowsSchema(Schema):
    captures = fields.List(fields.Nested(CapturedRowSchema), required=True)


monitoring_summary_schema = MonitoringSummarySchema()
feedback_accepted_schema = FeedbackAcceptedSchema()
captured_rows_schema = CapturedRowsSchema()
