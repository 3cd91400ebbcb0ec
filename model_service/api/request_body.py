"""Read a predict request's body into input items, whatever form the client sent it in.

* ``application/json``: one object (one item), a list, or ``{"instances": [...]}`` (a batch);
* ``application/x-www-form-urlencoded`` and ``multipart/form-data``: one item, fields converted by
  the input schema's types;
* ``text/csv``: a header row naming the fields, then one item per row (a batch).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

import orjson
from flask import Request

from model_service.coercion import coerce_fields
from model_service.errors import ErrorDetail, InvalidInput, PayloadTooLarge, UnsupportedMediaType

JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSV_TYPES = ("text/csv",)
SUPPORTED_TYPES = [*JSON_TYPES, *FORM_TYPES, *CSV_TYPES]


def read_items(
    request: Request, input_json_schema: Mapping[str, Any], max_items: int
) -> tuple[list[Any], bool]:
    """Return ``(items, is_batch)`` from the request body.

    :raises InvalidInput: the body cannot be read (malformed JSON, unconvertible fields...).
    :raises UnsupportedMediaType: the content type is none of :data:`SUPPORTED_TYPES`.
    :raises PayloadTooLarge: the batch has more than ``max_items`` items.
    """
    mimetype = request.mimetype
    if mimetype in JSON_TYPES or mimetype.endswith("+json"):
        items, batch = _json_items(request.get_data(cache=False), input_json_schema)
    elif mimetype in FORM_TYPES:
        items, batch = [_form_item(request, input_json_schema)], False
    elif mimetype in CSV_TYPES:
        items, batch = _csv_items(request.get_data(cache=False), input_json_schema, max_items), True
    else:
        raise UnsupportedMediaType(request.content_type or "", SUPPORTED_TYPES)
    if len(items) > max_items:
        raise PayloadTooLarge(
            f"The batch has {len(items)} items; this service accepts at most {max_items} per "
            "request. Split it into smaller batches."
        )
    return items, batch


def parse_json(body: bytes) -> Any:
    """Decode strict JSON (no NaN or Infinity), or raise :class:`InvalidInput` saying where."""
    if not body.strip():
        raise InvalidInput("The request body is empty; send one JSON object or a list of them.")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(
            f"The request body is not valid JSON: {error.msg} at line {error.lineno}, column "
            f"{error.colno}. NaN and Infinity are not JSON numbers."
        ) from None


def _json_items(body: bytes, input_json_schema: Mapping[str, Any]) -> tuple[list[Any], bool]:
    document = parse_json(body)
    if isinstance(document, list):
        return document, True
    if isinstance(document, dict):
        instances = document.get("instances")
        takes_instances = "instances" in input_json_schema.get("properties", {})
        if len(document) == 1 and isinstance(instances, list) and not takes_instances:
            return instances, True
        return [document], False
    raise InvalidInput(
        'The JSON body must be an object (one item), a list of objects, or {"instances": [...]}.',
        [ErrorDetail((), f"got a JSON {type(document).__name__}")],
    )


def _form_item(request: Request, input_json_schema: Mapping[str, Any]) -> dict[str, Any]:
    fields = {name: request.form.getlist(name) for name in request.form}
    item, problems = coerce_fields(fields, input_json_schema)
    if problems:
        raise InvalidInput(
            "Some form fields cannot be converted to their declared types.", problems
        )
    return item


def _csv_items(
    body: bytes, input_json_schema: Mapping[str, Any], max_items: int
) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The CSV body is not UTF-8 text.") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    known = set(input_json_schema.get("properties", {}))
    header = reader.fieldnames or []
    if not header:
        raise InvalidInput("The CSV body has no header row naming the input fields.")
    unknown = [name for name in header if name not in known]
    if unknown and known:
        raise InvalidInput(
            "The CSV header names fields the model does not take.",
            [
                ErrorDetail((name,), "unexpected column (not in the input schema)")
                for name in unknown
            ],
        )
    items: list[dict[str, Any]] = []
    problems: list[ErrorDetail] = []
    try:
        for index, row in enumerate(reader):
            if index >= max_items:
                raise PayloadTooLarge(
                    f"The CSV body has more than {max_items} rows; this service accepts at most "
                    f"{max_items} per request. Split it into smaller files."
                )
            if None in row:
                problems.append(ErrorDetail((index,), "row has more cells than the header"))
                continue
            item, row_problems = coerce_fields(row, input_json_schema)
            problems.extend(ErrorDetail((index, *p.path), p.message) for p in row_problems)
            items.append(item)
    except csv.Error as error:
        raise InvalidInput(f"The CSV body cannot be read: {error}.") from None
    if problems:
        raise InvalidInput("Some CSV cells cannot be converted to their declared types.", problems)
    return items
