"""Schemathesis against the real service: every response conforms to the document, none is a 5xx.

Cases are generated from the committed ``openapi.yaml`` (which ``test_document.py`` proves equal
to what the live service serves) and sent to the real server on 127.0.0.1. The run is bounded by
``OPENAPI_FUZZ_EXAMPLES`` generated examples per operation (default 20, on top of schemathesis'
examples and coverage cases), derandomised so CI is repeatable, and not shrunk; raise the number
locally for a deeper search, e.g. ``OPENAPI_FUZZ_EXAMPLES=500``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from tests.support import REPO_ROOT, RunningService

EXAMPLES_PER_OPERATION = int(os.environ.get("OPENAPI_FUZZ_EXAMPLES", "20"))

TEXT_BODIES = {"text/csv", "application/x-www-form-urlencoded", "multipart/form-data"}
"""Bodies whose fields are text: the service converts them by the declared types (``0`` is a
boolean, a CSV needs a header row), which JSON schema cannot express. For them the run checks
conformance and server errors, not whether an arbitrary string was accepted or rejected."""

REJECTIONS = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
"""What may answer a request that breaks the document: schemathesis' default list plus 413, the
service's answer to a batch longer than the documented ``maxItems``."""

config = schemathesis.Config.from_dict(
    {
        "cache": {"enabled": False},  # no .schemathesis/ directory in the work tree
        "checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}},
    }
)
schema = schemathesis.openapi.from_path(REPO_ROOT / "openapi.yaml", config=config)

bounded = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure costs no extra minutes
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def lenient_checks(case: schemathesis.Case) -> list[Any]:
    """The heuristic checks that do not apply to this case (see the reasons below)."""
    excluded = []
    if case.media_type in TEXT_BODIES:
        excluded += [checks.positive_data_acceptance, checks.negative_data_rejection]
    if case.operation.path.startswith("/v2/"):
        # V2 tensors constrain each other (data length = product of shape, the model's input
        # names), which JSON schema cannot say: a schema-valid tensor may still be refused.
        excluded.append(checks.positive_data_acceptance)
    if case.operation.path.endswith("/feedback"):
        # A schema-valid label still names a prediction that was never captured (a 400 listing
        # it): only the store knows which request ids exist.
        excluded.append(checks.positive_data_acceptance)
    if case.operation.path.endswith("/health/ready"):
        excluded.append(checks.not_a_server_error)  # its documented "not ready" answer is a 503
    return excluded


def call_and_check(
    case: schemathesis.Case, service: RunningService, http: requests.Session
) -> None:
    __tracebackhide__ = True
    case.call_and_validate(
        base_url=service.base_url, session=http, excluded_checks=lenient_checks(case), timeout=30
    )


@pytest.mark.server
@pytest.mark.slow
@schema.include(path_regex=r"^/(api|metrics)").parametrize()
@bounded
def test_rest_api_conforms_to_its_document_and_never_fails(
    case: schemathesis.Case, live_service: RunningService, http: requests.Session
) -> None:
    call_and_check(case, live_service, http)


@pytest.mark.server
@pytest.mark.slow
@schema.include(path_regex=r"^/v2").parametrize()
@bounded
def test_v2_api_conforms_to_its_document_and_never_fails(
    case: schemathesis.Case, live_service: RunningService, http: requests.Session
) -> None:
    call_and_check(case, live_service, http)
