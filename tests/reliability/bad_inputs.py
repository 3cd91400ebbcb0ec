"""The bad-input corpus: stored files (``tests/data/bad_inputs/manifest.json``) plus large or
structured cases generated here, each with the status the service must answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad_inputs"
PREDICT = "/api/models/echo/predict"
VALID = {"x": 1.5, "count": 2, "flag": True, "colour": "red"}
JSON, CSV, FORM = "application/json", "text/csv", "application/x-www-form-urlencoded"
CSV_HEADER = b"x,count,flag,colour\n"
CSV_ROW = b"1.5,2,true,red\n"


@dataclass(frozen=True)
class BadRequest:
    """One hostile request and the status it must get (always a 4xx in the one error shape)."""

    name: str
    status: int
    make_body: Callable[[], bytes]
    content_type: str | None = JSON
    method: str = "POST"
    path: str = PREDICT
    oversized_head: bool = False
    """The request line or a header is over gunicorn's own limits, so gunicorn answers it
    (414 or 431, not in our error shape) before the app sees it."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type} if self.content_type else {}


def _json(value: object) -> Callable[[], bytes]:
    return lambda: json.dumps(value).encode()


def _nested(depth: int, opening: str = "[", closing: str = "]") -> Callable[[], bytes]:
    return lambda: (opening * depth + closing * depth).encode()


def _nested_objects(depth: int) -> Callable[[], bytes]:
    return lambda: ('{"a":' * depth + "1" + "}" * depth).encode()


def _multipart(parts: int) -> Callable[[], bytes]:
    def body() -> bytes:
        chunk = b'--B\r\nContent-Disposition: form-data; name="f"\r\n\r\n1\r\n'
        return chunk * parts + b"--B--\r\n"

    return body


def stored_cases() -> list[BadRequest]:
    """The files of ``tests/data/bad_inputs``, as its manifest describes them."""
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    return [
        BadRequest(
            f"{case['file']}[{case['content_type']}]",
            case["status"],
            (lambda path=CORPUS / case["file"]: path.read_bytes()),
            case["content_type"],
        )
        for case in manifest["cases"]
    ]


def generated_cases() -> list[BadRequest]:
    """Cases too large or too regular to store: sizes, depths, counts and hostile metadata."""
    mega = "a" * 1_000_000
    return [
        BadRequest("string_1mb", 400, _json({**VALID, "note": mega})),
        BadRequest("key_1mb", 400, _json({**VALID, mega: 1})),
        BadRequest("string_1mb_csv", 400, lambda: CSV_HEADER + b"1.5,2,true," + mega.encode(), CSV),
        BadRequest("string_1mb_form", 400, lambda: b"colour=" + mega.encode(), FORM),
        BadRequest("body_10mb", 413, _json([VALID] * 200_000)),
        BadRequest("nested_lists_100", 400, _nested(100)),
        BadRequest("nested_objects_100", 400, _nested_objects(100)),
        BadRequest("nested_in_field_100", 400, _json({**VALID, "values": [[[[[[1.0]]]]]] * 1})),
        BadRequest("nested_lists_5000", 400, _nested(5000)),
        BadRequest("unbalanced_brackets_100k", 400, lambda: b"[" * 100_000),
        BadRequest("batch_10000", 413, _json([VALID] * 10_000)),
        BadRequest("instances_10000", 413, _json({"instances": [VALID] * 10_000})),
        BadRequest("csv_10000_rows", 413, lambda: CSV_HEADER + CSV_ROW * 10_000, CSV),
        BadRequest(
            "many_unknown_keys", 400, _json({**VALID, **{f"k{i}": i for i in range(50_000)}})
        ),
        BadRequest("many_invalid_items", 400, _json([{"x": "bad"}] * 1000)),
        BadRequest("form_5000_fields", 413, lambda: b"&".join([b"a=1"] * 5000), FORM),
        BadRequest(
            "multipart_5000_parts", 413, _multipart(5000), "multipart/form-data; boundary=B"
        ),
        BadRequest(
            "content_type_10kb", 415, _json(VALID), "text/" + "x" * 10_000, oversized_head=True
        ),
        BadRequest("get_predict", 405, lambda: b"", None, method="GET"),
        BadRequest("unknown_model", 404, _json(VALID), path="/api/models/nope/predict"),
        BadRequest(
            "model_name_5kb",
            404,
            _json(VALID),
            path=f"/api/models/{'m' * 5000}/predict",
            oversized_head=True,
        ),
        BadRequest(
            "version_unicode",
            404,
            _json(VALID),
            path="/api/models/echo/versions/%F0%9F%92%A5/predict",
        ),
    ]


def all_cases() -> list[BadRequest]:
    return stored_cases() + generated_cases()


def chunks(body: bytes, size: int = 65_536) -> Iterator[bytes]:
    """``body`` in pieces, so ``requests`` sends it chunked (no Content-Length)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]
