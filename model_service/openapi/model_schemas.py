"""A model version's components: its schemas under collision-free names, and its examples.

Names derive from the qualified name and version (``iris_model_1_0_0_Input``), so two models or two
versions of one model never collide. The model's JSON schemas are published as they are (the
service's exporter writes JSON Schema 2020-12, the dialect of OpenAPI 3.1), with draft-07
spellings translated; the examples come from ``example_input()`` in every body form the service
reads, so Swagger UI's "Try it out" starts from a valid request.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from collections.abc import Mapping
from typing import Any

import orjson
from apispec import APISpec

from model_service.model_manager import ServedModel


def component_prefix(served: ServedModel) -> str:
    """``iris_model`` version ``1.0.0`` -> ``iris_model_1_0_0`` (a valid component name)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{served.qualified_name}_{served.version}")


def schema_ref(name: str) -> dict[str, str]:
    """A reference to ``components/schemas/<name>``."""
    return {"$ref": f"#/components/schemas/{name}"}


def takes_instances(input_schema: Mapping[str, Any]) -> bool:
    """Whether the model has an input field named ``instances`` (then ``{"instances": [...]}``
    is one item for it, not a batch)."""
    return "instances" in input_schema.get("properties", {})


def register_model_components(
    spec: APISpec, served: ServedModel, prefix: str, max_items: int
) -> None:
    """Register the model's input, output, request and response schemas and its examples.

    :param max_items: the largest batch the service accepts, published as ``maxItems``.
    """
    input_schema = openapi_json_schema(served.input_schema.json_schema)
    output_schema = openapi_json_schema(served.output_schema.json_schema)
    input_ref = schema_ref(f"{prefix}_Input")
    output_ref = schema_ref(f"{prefix}_Output")
    batch = {"type": "array", "items": input_ref, "maxItems": max_items}
    forms: list[dict[str, Any]] = [input_ref, batch]
    if not takes_instances(input_schema):
        forms.append(
            {
                "type": "object",
                "properties": {"instances": batch},
                "required": ["instances"],
                "additionalProperties": False,
            }
        )
    explanation_ref = schema_ref("Explanation")
    spec.components.schema(f"{prefix}_Input", input_schema)
    spec.components.schema(f"{prefix}_Output", output_schema)
    spec.components.schema(
        f"{prefix}_Request",
        {"description": "One item, a list of items, or {instances: [...]}.", "anyOf": forms},
    )
    spec.components.schema(
        f"{prefix}_Prediction",
        {"anyOf": [output_ref, {"type": "array", "items": output_ref}]},
    )
    spec.components.schema(
        f"{prefix}_Explanations",
        {"anyOf": [explanation_ref, {"type": "array", "items": explanation_ref}]},
    )
    for name, example in _examples(served, input_schema).items():
        spec.components.example(f"{prefix}_{name}", example)


def _examples(served: ServedModel, input_schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    example = served.example_input
    if example is None:
        return {}
    examples: dict[str, dict[str, Any]] = {
        "item": {"summary": "One item", "value": example},
        "items_as_list": {"summary": "A batch: a list of items", "value": [example]},
        "items_as_csv": {
            "summary": "CSV: a header row, then one row per item",
            "value": _csv_text(example),
        },
    }
    if not takes_instances(input_schema):
        examples["items_as_instances"] = {
            "summary": "A batch: {instances: [...]}",
            "value": {"instances": [example]},
        }
    return examples


def _csv_text(example: Mapping[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(example))
    writer.writerow([_csv_cell(value) for value in example.values()])
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return str(value)


def openapi_json_schema(json_schema: Mapping[str, Any]) -> dict[str, Any]:
    """A model's JSON schema as an OpenAPI 3.1 schema object (JSON Schema 2020-12).

    The service's exporter already writes 2020-12 keywords; this also translates the draft-07
    spellings a hand-written schema might use, and drops ``$schema``/``$id``, which would make
    the embedded schema a separate resource.
    """
    return _translate(copy.deepcopy(dict(json_schema)))


def _translate(node: Any) -> Any:
    if isinstance(node, list):
        return [_translate(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: value for key, value in node.items() if key not in ("$schema", "$id")}
    if isinstance(node.get("items"), list):
        node["prefixItems"] = node.pop("items")
        if "additionalItems" in node:
            node["items"] = node.pop("additionalItems")
    dependencies = node.pop("dependencies", None)
    if isinstance(dependencies, dict):
        for key, value in dependencies.items():
            target = "dependentRequired" if isinstance(value, list) else "dependentSchemas"
            node.setdefault(target, {})[key] = value
    if "definitions" in node:
        node["$defs"] = node.pop("definitions")
    return {key: _translate_keyword(key, value) for key, value in node.items()}


def _translate_keyword(keyword: str, value: Any) -> Any:
    if keyword in _SCHEMA_MAPS and isinstance(value, dict):
        return {name: _translate(schema) for name, schema in value.items()}
    if keyword in _SCHEMA_VALUED:
        return _translate(value)
    return value


_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
"""Keywords whose value maps names to schemas (the names themselves are data)."""

_SCHEMA_VALUED = frozenset(
    {
        "items",
        "prefixItems",
        "additionalProperties",
        "propertyNames",
        "contains",
        "not",
        "if",
        "then",
        "else",
        "allOf",
        "anyOf",
        "oneOf",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
"""Keywords whose value is a schema or a list of schemas; every other value is data."""
