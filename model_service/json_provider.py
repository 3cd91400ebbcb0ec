"""Flask's JSON through orjson: several times faster than the standard library on our payloads."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import JSONProvider

OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _fallback(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps_bytes(value: Any) -> bytes:
    """Encode ``value`` as compact JSON bytes."""
    return orjson.dumps(value, default=_fallback, option=OPTIONS)


class OrjsonProvider(JSONProvider):
    """A :class:`JSONProvider` that encodes and decodes with orjson.

    orjson refuses NaN and Infinity when decoding, as strict JSON does, so a client sending them
    gets a 400 instead of a model seeing a number that is not one.
    """

    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps_bytes(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        value = self._prepare_response_obj(args, kwargs)
        return Response(dumps_bytes(value), mimetype=self.mimetype)
