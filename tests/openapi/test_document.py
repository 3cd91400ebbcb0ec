"""The OpenAPI document: valid 3.1, up to date with the committed file, precise for every model."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from schema import Schema

from model_service.ml_model import MLModel
from model_service.model_manager import ENTRY_POINT_GROUP, ModelManager, ServedModel
from model_service.openapi import build_document, openapi_command
from model_service.openapi.model_schemas import component_prefix, openapi_json_schema
from model_service.openapi.views import to_yaml
from tests.fixtures import EchoModel
from tests.support import REPO_ROOT

COMMITTED = REPO_ROOT / "openapi.yaml"
EXAMPLE_MODELS = sorted(point.name for point in entry_points(group=ENTRY_POINT_GROUP))


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping inside ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` (local references only) until a plain object."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


# --- the committed file and the live document --------------------------------------------------


def test_committed_document_is_valid_openapi_3_1() -> None:
    document = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_live_document_is_valid_openapi_3_1(example_document: dict[str, Any]) -> None:
    validate(example_document)


def test_committed_document_is_up_to_date(example_document: dict[str, Any]) -> None:
    committed = COMMITTED.read_text(encoding="utf-8")
    assert yaml.safe_load(committed) == example_document, (
        "openapi.yaml is out of date: regenerate it with `make openapi`."
    )
    assert committed == to_yaml(example_document), "openapi.yaml was not written by make openapi"


@pytest.mark.parametrize("name", EXAMPLE_MODELS)
def test_every_example_model_has_its_own_schemas_and_paths(
    example_app: Flask, example_document: dict[str, Any], name: str
) -> None:
    manager: ModelManager = example_app.extensions["model_service"].manager
    served = manager.get_model(name)
    prefix = component_prefix(served)
    schemas = example_document["components"]["schemas"]
    assert schemas[f"{prefix}_Input"] == openapi_json_schema(served.input_schema.json_schema)
    assert schemas[f"{prefix}_Output"] == openapi_json_schema(served.output_schema.json_schema)
    for base in (f"/api/models/{name}", f"/api/models/{name}/versions/{served.version}"):
        predict = example_document["paths"][f"{base}/predict"]["post"]
        body = predict["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{prefix}_Request"}
        assert resolve(example_document, body["examples"]["item"])["value"] == (
            served.example_input
        )
        assert f"{base}/metadata" in example_document["paths"]


def test_the_service_serves_the_document_it_builds(client: FlaskClient, app: Flask) -> None:
    as_json = client.get("/api/openapi.json")
    as_yaml = client.get("/api/openapi.yaml")

    assert as_json.status_code == 200 and as_json.mimetype == "application/json"
    assert as_yaml.status_code == 200 and as_yaml.mimetype == "application/yaml"
    assert as_json.get_json() == build_document(app) == yaml.safe_load(as_yaml.data)


def test_the_document_follows_models_loaded_at_run_time(
    client: FlaskClient, manager: ModelManager
) -> None:
    before = client.get("/api/openapi.json").get_json()
    manager.add_model_class(NotExplainableModel)
    after = client.get("/api/openapi.json").get_json()

    assert "/api/models/quiet/predict" not in before["paths"]
    assert "/api/models/quiet/predict" in after["paths"]


# --- what each model's paths say ---------------------------------------------------------------


class NotExplainableModel(MLModel):
    qualified_name = "quiet"
    display_name = "Quiet"
    description = "Declares that it cannot be explained."
    version = "0.2.0-rc.1"
    explainable = False
    input_schema = Schema({"x": float})
    output_schema = Schema({"y": float})

    def predict(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"y": data["x"]}


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    return build_document(app)


def test_default_paths_describe_the_highest_version_and_each_version_has_its_own(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]
    default = paths["/api/models/echo/predict"]["post"]["requestBody"]["content"]
    assert default["application/json"]["schema"]["$ref"].endswith("/echo_2_0_0_Request")
    for version in ("1_0_0", "2_0_0"):
        dotted = version.replace("_", ".")
        pinned = paths[f"/api/models/echo/versions/{dotted}/predict"]["post"]
        json_body = pinned["requestBody"]["content"]["application/json"]
        assert json_body["schema"]["$ref"].endswith(f"/echo_{version}_Request")


def test_predict_takes_one_item_a_list_or_instances_as_json_and_text_forms(
    document: dict[str, Any], app: Flask
) -> None:
    echo = app.extensions["model_service"].manager.get_model("echo")
    content = document["paths"]["/api/models/echo/predict"]["post"]["requestBody"]["content"]
    request = resolve(document, content["application/json"]["schema"])
    item = {"$ref": "#/components/schemas/echo_2_0_0_Input"}
    batch = {"type": "array", "items": item, "maxItems": app.config["MAX_BATCH_ITEMS"]}

    assert request["anyOf"] == [
        item,
        batch,
        {
            "type": "object",
            "properties": {"instances": batch},
            "required": ["instances"],
            "additionalProperties": False,
        },
    ]
    assert set(content) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "text/csv",
    }
    csv_example = resolve(document, content["text/csv"]["examples"]["items_as_csv"])["value"]
    assert csv_example == "x,count,flag,colour\n1.5,2,true,red\n"
    assert resolve(document, content["application/json"]["examples"]["items_as_list"])["value"] == [
        echo.example_input
    ]


def test_predict_answers_the_output_schema_or_a_list_of_it(document: dict[str, Any]) -> None:
    responses = document["paths"]["/api/models/echo/predict"]["post"]["responses"]
    answer = resolve(document, responses["200"]["content"]["application/json"]["schema"])
    output = {"$ref": "#/components/schemas/echo_2_0_0_Output"}

    assert answer == {"anyOf": [output, {"type": "array", "items": output}]}
    assert set(responses) == {"200", "400", "404", "413", "415", "500", "503", "504"}


def test_every_rest_error_response_has_the_one_error_shape(document: dict[str, Any]) -> None:
    checked = 0
    for path, _, operation in operations(document):
        if not path.startswith("/api/"):  # /v2 answers in the V2 protocol's own error shape
            continue
        for status, response in operation["responses"].items():
            if int(status) < 400 or path == "/api/health/ready":
                continue
            body = resolve(document, response)["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, (path, status)
            checked += 1
    assert checked > 10


def test_a_model_without_an_example_gets_no_example(document: dict[str, Any]) -> None:
    content = document["paths"]["/api/models/error_model/predict"]["post"]["requestBody"]
    assert all("examples" not in media for media in content["content"].values())


def test_explain_is_documented_only_for_explainable_models(
    app: Flask, manager: ModelManager
) -> None:
    manager.add_model_class(NotExplainableModel)
    document = build_document(app)

    assert "/api/models/echo/explain" in document["paths"]
    assert "/api/models/quiet/predict" in document["paths"]
    assert not any(
        path.startswith("/api/models/quiet/") and path.endswith("/explain")
        for path in document["paths"]
    )
    assert "quiet_0_2_0-rc_1_Input" in document["components"]["schemas"]


def test_model_schemas_carry_no_draft_07_or_openapi_3_0_keywords(
    example_document: dict[str, Any],
) -> None:
    forbidden = {"$schema", "definitions", "dependencies", "nullable", "x-nullable"}
    for node in walk(example_document["components"]["schemas"]):
        properties = set(node.get("properties", {}))
        assert not (set(node) - properties) & forbidden, node


@pytest.mark.parametrize(
    ("draft_07", "openapi_3_1"),
    [
        (
            {"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"},
            {"type": "string"},
        ),
        (
            {"type": "array", "items": [{"type": "number"}], "additionalItems": False},
            {"type": "array", "prefixItems": [{"type": "number"}], "items": False},
        ),
        (
            {"type": "object", "dependencies": {"a": ["b"], "c": {"required": ["d"]}}},
            {
                "type": "object",
                "dependentRequired": {"a": ["b"]},
                "dependentSchemas": {"c": {"required": ["d"]}},
            },
        ),
        ({"definitions": {"n": {"type": "number"}}}, {"$defs": {"n": {"type": "number"}}}),
        (
            {"type": "object", "properties": {"dependencies": {"type": "string"}}},
            {"type": "object", "properties": {"dependencies": {"type": "string"}}},
        ),
        (
            {"enum": [{"$schema": "data"}], "x-unit": "cm", "format": "date"},
            {"enum": [{"$schema": "data"}], "x-unit": "cm", "format": "date"},
        ),
    ],
)
def test_draft_07_spellings_become_openapi_3_1(
    draft_07: dict[str, Any], openapi_3_1: dict[str, Any]
) -> None:
    assert openapi_json_schema(draft_07) == openapi_3_1


def test_component_names_never_collide_across_models_and_versions(app: Flask) -> None:
    manager: ModelManager = app.extensions["model_service"].manager
    served: list[ServedModel] = manager.served_models()
    prefixes = [component_prefix(model) for model in served]
    assert len(set(prefixes)) == len(prefixes)
    assert component_prefix(manager.get_model("echo", "1.0.0")) == "echo_1_0_0"


# --- the command and the script ----------------------------------------------------------------


def test_openapi_command_writes_the_document_of_the_configured_models(tmp_path: Path) -> None:
    output = tmp_path / "openapi.yaml"
    result = CliRunner().invoke(
        openapi_command, ["--output", str(output), "--settings", "config.TestingConfig"]
    )

    assert result.exit_code == 0, result.output
    written = yaml.safe_load(output.read_text(encoding="utf-8"))
    validate(written)
    assert "/api/models/iris_model/predict" in written["paths"]


def test_echo_schema_keeps_its_bounds_and_formats(document: dict[str, Any]) -> None:
    properties = document["components"]["schemas"]["echo_1_0_0_Input"]["properties"]
    assert properties["x"]["minimum"] == 0 and properties["x"]["maximum"] == 100
    assert properties["day"] == {"type": "string", "format": "date"}
    assert EchoModel.qualified_name == "echo"
