"""Whatever a client sends to /v2 infer, a bad request is a 4xx, never a 500."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model_service.v2.mapping import DATATYPES

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=12,
)
names = st.sampled_from(["sepal_length", "petal_width", "input-0", "x", "count", "item", "nope"])
tensors = st.fixed_dictionaries(
    {},
    optional={
        "name": names | json_values,
        "shape": st.lists(st.integers(min_value=-1, max_value=5), max_size=3) | json_values,
        "datatype": st.sampled_from(DATATYPES) | json_values,
        "data": st.lists(json_scalars, max_size=8)
        | st.lists(st.lists(json_scalars, max_size=4), max_size=3)
        | json_values,
        "parameters": json_values,
    },
)
requests = st.fixed_dictionaries(
    {"inputs": st.lists(tensors, max_size=5) | json_values},
    optional={
        "id": json_values,
        "outputs": st.lists(st.fixed_dictionaries({"name": names | json_values}), max_size=2)
        | json_values,
        "parameters": json_values,
    },
)
paths = st.sampled_from(
    [
        "/v2/models/iris_model/infer",
        "/v2/models/echo/versions/1.0.0/infer",
        "/v2/models/free_form/infer",
    ]
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=paths, body=requests)
def test_any_infer_request_is_answered_without_a_500(
    client: FlaskClient, path: str, body: dict[str, Any]
) -> None:
    response = client.post(path, json=body)
    assert response.status_code in (200, 400, 413), response.get_data(as_text=True)
    assert isinstance(response.get_json(), dict)
