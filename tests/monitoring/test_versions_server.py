"""The versions comparison under the real server (gunicorn, monitoring on, SQLite): the API's
``versions`` section and the monitoring page's Versions section after iris 1.0.0 answered and
1.1.0 answered one call to its versioned URL and shadow copies of the same items."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.monitoring.versions_traffic import (
    FLOWERS,
    SHADOW_LATENCY_MS,
    Traffic,
    serving_two_versions,
)
from tests.support import RunningService

pytestmark = [pytest.mark.server]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningService, Traffic]]:
    with serving_two_versions(tmp_path_factory.mktemp("versions")) as served:
        yield served


def test_the_api_compares_the_shadow_version_with_the_primary(
    served: tuple[RunningService, Traffic],
) -> None:
    service, traffic = served
    answer = requests.get(service.url("/api/models/iris_model/monitoring?window=1h"), timeout=10)

    assert answer.status_code == 200
    section = answer.json()["versions"]
    assert traffic.agreement == pytest.approx(3 / 5)  # the two long-sepalled flowers differ
    assert section["primary"] == "1.0.0" and section["kind"] == "classification"
    primary, shadow = section["compared"]
    assert primary["version"] == "1.0.0" and primary["is_primary"] is True
    assert primary["decisions"] == {"primary": len(FLOWERS)}
    assert shadow["version"] == "1.1.0" and shadow["decisions"]["shadow"] == len(FLOWERS)
    # the one call to the versioned URL is captured as "direct"
    assert shadow["decisions"] == {"shadow": len(FLOWERS), "direct": 1}
    assert (shadow["pairs"], shadow["unpaired"]) == (len(FLOWERS), 0)
    assert shadow["agreement"] == pytest.approx(traffic.agreement)
    assert shadow["latency_by_decision"]["shadow"] == {
        "p50": SHADOW_LATENCY_MS,
        "p99": SHADOW_LATENCY_MS,
    }
    labels = [*traffic.shadow_answers, traffic.direct_answer]
    expected_shares = {label: labels.count(label) / len(labels) for label in set(labels)}
    assert shadow["label_shares"] == pytest.approx(expected_shares)
    assert shadow["errors"] == {"count": 0, "rate": 0.0}
    # the same section on the versioned URL: it is the model's comparison
    versioned = requests.get(
        service.url("/api/models/iris_model/versions/1.1.0/monitoring?window=1h"), timeout=10
    ).json()
    assert versioned["versions"] == section


def test_the_page_shows_the_versions_table(served: tuple[RunningService, Traffic]) -> None:
    service, traffic = served
    page = requests.get(service.url("/models/iris_model/monitoring?window=1h"), timeout=10)

    assert page.status_code == 200
    assert 'id="versions-table"' in page.text and 'id="agreement-chart"' in page.text
    assert f"{traffic.agreement * 100:.1f} %" in page.text
