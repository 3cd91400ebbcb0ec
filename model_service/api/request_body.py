"""Read a predict request's body into input items, whatever form the client sent it in.

* ``application/json``: one object (one item), a list, or ``{"instances": [...]}`` (a batch);
* ``application/x-www-form-urlencoded`` and ``multipart/form-data``: one item, fields converted by
  the input schema's types;
* ``text/csv``: a header row naming the fields, then one item per row (a batch).

Every body is held to :class:`InputLimits` before a model sees it: the byte size (werkzeug stops
reading past ``MAX_CONTENT_LENGTH``, chunked bodies included), items per batch, JSON nesting depth
and string length. A body over a limit is refused with 413 (size, items) or 400 (shape).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Request, current_app
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wsgi import get_content_length

from model_service.coercion import coerce_fields
from model_service.errors import ErrorDetail, InvalidInput, PayloadTooLarge, UnsupportedMediaType

JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSV_TYPES = ("text/csv",)
SUPPORTED_TYPES = [*JSON_TYPES, *FORM_TYPES, *CSV_TYPES]
LIMITS_KEY = "model_service.input_limits"
"""Where :func:`app_limits` keeps the app's limits (``app.extensions``)."""
MAX_ECHOED_CHARACTERS = 80
"""Longest piece of a client's own value (e.g. its content type) quoted back in an error."""


@dataclass(frozen=True)
class InputLimits:
    """How much structure one request body may carry (see ``config.py`` for each setting)."""

    max_items: int = 1000
    max_depth: int = 32
    max_string_length: int = 10_000
    max_form_fields: int = 1000

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> InputLimits:
        """Read ``MAX_BATCH_ITEMS``, ``MAX_JSON_DEPTH``, ``MAX_STRING_LENGTH`` and
        ``MAX_FORM_FIELDS``."""
        return cls(
            max_items=int(settings.get("MAX_BATCH_ITEMS", cls.max_items)),
            max_depth=int(settings.get("MAX_JSON_DEPTH", cls.max_depth)),
            max_string_length=int(settings.get("MAX_STRING_LENGTH", cls.max_string_length)),
            max_form_fields=int(settings.get("MAX_FORM_FIELDS", cls.max_form_fields)),
        )


def shorten(text: str, limit: int = MAX_ECHOED_CHARACTERS) -> str:
    """``text`` cut to ``limit`` characters (with an ellipsis), to quote a client's value safely."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_items(
    request: Request,
    input_json_schema: Mapping[str, Any],
    limits: InputLimits | None = None,
) -> tuple[list[Any], bool]:
    """Return ``(items, is_batch)`` from the request body.

    :param limits: default: the current app's (:func:`app_limits`).
    :raises InvalidInput: the body cannot be read (malformed JSON, unconvertible fields, too deep,
        a string too long...).
    :raises UnsupportedMediaType: the content type is none of :data:`SUPPORTED_TYPES`.
    :raises PayloadTooLarge: the batch has more items than the limit.
    """
    limits = limits or app_limits()
    mimetype = request.mimetype
    if mimetype in JSON_TYPES or mimetype.endswith("+json"):
        items, batch = _json_items(read_body(request), input_json_schema, limits)
    elif mimetype in FORM_TYPES:
        items, batch = [_form_item(request, input_json_schema, limits)], False
    elif mimetype in CSV_TYPES:
        items, batch = _csv_items(read_body(request), input_json_schema, limits), True
    else:
        raise UnsupportedMediaType(shorten(request.content_type or ""), SUPPORTED_TYPES)
    check_item_count(len(items), limits.max_items)
    return items, batch


def app_limits() -> InputLimits:
    """The current app's :class:`InputLimits`, read from its configuration on first use (the
    settings are read once, at start-up; reading them on every request cost 2-4 us)."""
    extensions = current_app.extensions
    limits: InputLimits | None = extensions.get(LIMITS_KEY)
    if limits is None:
        limits = extensions[LIMITS_KEY] = InputLimits.from_settings(current_app.config)
    return limits


def read_body(request: Request, cache: bool = False) -> bytes:
    """The raw body, refused when it is (or, sent chunked, may be) over ``MAX_CONTENT_LENGTH``.

    werkzeug stops a chunked body (no ``Content-Length``) at the limit without complaint, so a
    body that fills the limit exactly is taken as cut short; a broken chunked encoding that the
    server raises on while we read is the client's error (400), not ours.

    A body whose length the client gave is read straight from the server's stream when the
    server bounds that stream (``wsgi.input_terminated``; gunicorn stops it at the
    ``Content-Length`` it parsed), after the same 413 check werkzeug makes: werkzeug's own path
    (a ``LimitedStream`` over that stream, and the header parsed again) cost about 10 us of
    every prediction. Chunked bodies, cached reads (forms) and other servers take werkzeug's.
    """
    environ = request.environ
    length = get_content_length(environ)
    limit = request.max_content_length
    if length is not None and limit is not None and length > limit:
        raise RequestEntityTooLarge()
    try:
        if length is not None and not cache and "wsgi.input_terminated" in environ:
            body: bytes = environ["wsgi.input"].read(length)
        else:
            body = request.get_data(cache=cache)
    except HTTPException:
        raise
    except Exception:
        raise InvalidInput(
            "The request body could not be read: its chunked encoding or length is broken."
        ) from None
    if length is None and limit is not None and len(body) >= limit:
        raise PayloadTooLarge(
            f"The request body is larger than this service accepts ({limit} bytes at most)."
        )
    return body


def check_item_count(count: int, max_items: int) -> None:
    """Raise :class:`PayloadTooLarge` when a batch has more than ``max_items`` items."""
    if count > max_items:
        raise PayloadTooLarge(
            f"The batch has {count} items; this service accepts at most {max_items} per "
            "request. Split it into smaller batches."
        )


def read_json_body(request: Request, refusal: str) -> Any:
    """The JSON document a request sent (see :func:`parse_json`); :class:`InvalidInput` with
    ``refusal`` (what to send) when its content type is not JSON."""
    if request.mimetype != "application/json":
        raise InvalidInput(refusal)
    return parse_json(request.get_data(cache=False))


def parse_json(body: bytes, limits: InputLimits | None = None) -> Any:
    """Decode strict JSON (no NaN or Infinity) within ``limits``, or raise :class:`InvalidInput`.

    orjson refuses NaN, Infinity, lone surrogates and invalid UTF-8, and stops at a nesting depth
    of 1024 on its own, so parsing is bounded before our tighter depth check runs.
    """
    if not body.strip():
        raise InvalidInput("The request body is empty; send one JSON object or a list of them.")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(
            f"The request body is not valid JSON: {error.msg} at line {error.lineno}, column "
            f"{error.colno}. NaN and Infinity are not JSON numbers."
        ) from None
    if limits is not None:
        long_body = len(body) > limits.max_string_length
        if long_body or body.count(b"[") + body.count(b"{") > limits.max_depth:
            check_structure(document, limits, strings=long_body)
    return document


def check_structure(document: Any, limits: InputLimits, strings: bool = True) -> None:
    """Raise :class:`InvalidInput` when ``document`` nests deeper than ``limits.max_depth`` or a
    key or string is longer than ``limits.max_string_length``.

    Walks level by level, touching only containers (and, when ``strings``, strings): a body of
    100 flat objects costs about 40 us instead of 116 us for a walk of every value. A caller may
    pass ``strings=False`` when the encoded body is no longer than the limit, since a decoded
    string is never longer than its encoding.
    """
    max_depth, max_length = limits.max_depth, limits.max_string_length
    level = [document] if type(document) in _CONTAINERS else []
    if strings and type(document) is str:
        _check_string(document, limits)
    depth = 0
    while level:
        if depth >= max_depth:
            raise InvalidInput(
                f"The JSON body nests arrays and objects more than {max_depth} levels "
                "deep; this service accepts at most that."
            )
        children: list[Any] = []
        for container in level:
            values = container.values() if type(container) is dict else container
            if strings:
                if type(container) is dict:
                    for key in container:
                        if len(key) > max_length:
                            _check_string(key, limits)
                for value in values:
                    if type(value) is str and len(value) > max_length:
                        _check_string(value, limits)
            children += [value for value in values if type(value) in _CONTAINERS]
        level = children
        depth += 1


_CONTAINERS = (list, dict)


def _check_string(value: str, limits: InputLimits) -> None:
    if len(value) > limits.max_string_length:
        raise InvalidInput(
            f"A string in the body has {len(value)} characters; this service accepts at most "
            f"{limits.max_string_length}."
        )


def _json_items(
    body: bytes, input_json_schema: Mapping[str, Any], limits: InputLimits
) -> tuple[list[Any], bool]:
    document = parse_json(body, limits)
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


def _form_item(
    request: Request, input_json_schema: Mapping[str, Any], limits: InputLimits
) -> dict[str, Any]:
    body = read_body(request, cache=True)  # the form parser reads it from the cache
    if request.mimetype == FORM_TYPES[0]:
        # werkzeug caps multipart parts (MAX_FORM_PARTS) but not url-encoded pairs: count them
        # on the raw bytes before anything is decoded.
        pairs = body.count(b"&") + 1
        if pairs > limits.max_form_fields:
            raise PayloadTooLarge(
                f"The form has {pairs} fields; this service accepts at most "
                f"{limits.max_form_fields}."
            )
    fields = {name: request.form.getlist(name) for name in request.form}
    for name, values in fields.items():
        for text in (name, *values):
            _check_string(text, limits)
    item, problems = coerce_fields(fields, input_json_schema)
    if problems:
        raise InvalidInput(
            "Some form fields cannot be converted to their declared types.", problems
        )
    return item


def _csv_items(
    body: bytes, input_json_schema: Mapping[str, Any], limits: InputLimits
) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The CSV body is not UTF-8 text.") from None
    if "\x00" in text:
        raise InvalidInput("The CSV body contains a NUL character.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as error:
        raise InvalidInput(f"The CSV body cannot be read: {error}.") from None
    _check_header(header, input_json_schema, limits)
    try:
        return _csv_rows(reader, input_json_schema, limits)
    except csv.Error as error:
        raise InvalidInput(f"The CSV body cannot be read: {error}.") from None


def _check_header(
    header: Sequence[str], input_json_schema: Mapping[str, Any], limits: InputLimits
) -> None:
    if not header:
        raise InvalidInput("The CSV body has no header row naming the input fields.")
    for name in header:
        _check_string(name, limits)
    known = set(input_json_schema.get("properties", {}))
    unknown = [name for name in header if name not in known]
    if unknown and known:
        raise InvalidInput(
            "The CSV header names fields the model does not take.",
            [
                ErrorDetail((shorten(name),), "unexpected column (not in the input schema)")
                for name in unknown[:20]
            ],
        )


def _csv_rows(
    reader: csv.DictReader[str], input_json_schema: Mapping[str, Any], limits: InputLimits
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    problems: list[ErrorDetail] = []
    for index, row in enumerate(reader):
        if index >= limits.max_items:
            raise PayloadTooLarge(
                f"The CSV body has more than {limits.max_items} rows; this service accepts at "
                f"most {limits.max_items} per request. Split it into smaller files."
            )
        if None in row:
            problems.append(ErrorDetail((index,), "row has more cells than the header"))
            continue
        for value in row.values():
            if isinstance(value, str):
                _check_string(value, limits)
        item, row_problems = coerce_fields(row, input_json_schema)
        problems.extend(ErrorDetail((index, *p.path), p.message) for p in row_problems)
        items.append(item)
    if problems:
        raise InvalidInput("Some CSV cells cannot be converted to their declared types.", problems)
    return items
