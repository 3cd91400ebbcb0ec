"""The /v2 part of the OpenAPI document: valid, per-model tensor schemas, usable examples."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from model_service.openapi.components import register_components
from model_service.runtime import current_runtime
from model_service.v2.openapi import add_v2_paths


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    spec = APISpec(title="v2", version="1", openapi_version="3.1.0", plugins=[MarshmallowPlugin()])
    register_components(spec)
    with app.app_context():
        add_v2_paths(spec, current_runtime().manager.served_models())
    return spec.to_dict()


def test_the_v2_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_every_model_version_has_its_paths_and_the_default_its_unversioned_ones(
    document: dict[str, Any],
) -> None:
    paths = set(document["paths"])
    assert {"/v2", "/v2/health/live", "/v2/health/ready"} <= paths
    for base in (
        "/v2/models/echo",
        "/v2/models/echo/versions/1.0.0",
        "/v2/models/echo/versions/2.0.0",
    ):
        assert {base, f"{base}/ready", f"{base}/infer"} <= paths
    assert "2.0.0" in document["paths"]["/v2/models/echo/infer"]["post"]["summary"]


def test_infer_documents_the_mapping_table(document: dict[str, Any]) -> None:
    description = document["paths"]["/v2/models/iris_model/infer"]["post"]["description"]
    assert (
        "| output | `probabilities` | FP64 | `[-1, 3]` | columns: setosa, versicolor, virginica |"
        in description
    )
    assert "`input-0`" in description


@pytest.mark.parametrize(
    ("name", "prefix"), [("iris_model", "iris_model_1_0_0"), ("echo", "echo_2_0_0")]
)
def test_the_model_example_fits_its_schema_and_the_service_answers_it(
    document: dict[str, Any], client: FlaskClient, name: str, prefix: str
) -> None:
    schemas = document["components"]["schemas"]
    example = document["components"]["examples"][f"{prefix}_V2InferExample"]["value"]
    jsonschema.validate(example, schemas[f"{prefix}_V2InferRequest"])
    response = client.post(f"/v2/models/{name}/infer", json=example)
    assert response.status_code == 200, response.get_data(as_text=True)
    jsonschema.validate(response.get_json(), schemas[f"{prefix}_V2InferResponse"])


def test_the_request_schema_refuses_an_unknown_tensor(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["iris_model_1_0_0_V2InferRequest"]
    bad = {"inputs": [{"name": "colour", "shape": [1], "datatype": "FP64", "data": [1]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_the_metadata_example_is_what_the_endpoint_answers(
    document: dict[str, Any], client: FlaskClient
) -> None:
    path = "/v2/models/iris_model/versions/1.0.0"
    documented = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    assert documented["example"] == client.get(path).get_json()


def test_the_service_document_includes_the_v2_paths(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    assert "/v2/models/iris_model/versions/1.0.0/infer" in document["paths"]
    assert "iris_model_1_0_0_V2InferRequest" in document["components"]["schemas"]
