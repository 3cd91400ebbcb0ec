"""What shadow traffic costs the answered requests: p99 at c=16 without a policy and with a 100 %
shadow of the iris candidate (1.1.0), in the same run.

One service (2 gevent workers, production settings, iris 1.0.0 pinned as the default and the
candidate 1.1.0 loaded beside it) is driven by wrk on the same machine, unpinned (wrk and the
workers share the cores). The routing policy is switched through the admin API between runs,
alternating no policy / shadow ``--runs`` times so both see the same minutes of a shared machine;
the medians are reported, with the shadow predictions counted by the service.

    python scripts/bench/shadow.py [--runs 5] [--seconds 5] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import LoadResult, free_port, post_json, run_wrk, serve

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PREDICT_PATH = "/api/models/iris_model/predict"
ROUTING_PATH = "/api/admin/models/iris_model/routing"
IRIS_ITEM = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
TOKEN = "bench-shadow"
POLICIES = {"no policy": {}, "shadow 100 %": {"shadow": {"1.1.0": 100}}}
MODELS = [
    {"module_name": "iris_model.model", "class_name": "IrisModel"},
    {"module_name": "iris_model.candidate", "class_name": "IrisCandidateModel"},
]


def put_policy(url: str, policy: dict[str, object]) -> None:
    request = urllib.request.Request(
        url + ROUTING_PATH,
        data=json.dumps(policy).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def shadow_predictions(url: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.findall(r"^model_service_shadow_predictions_total\{[^}]*\} (\S+)$", text, re.M)
    return sum(float(value) for value in found)


def summary(results: list[LoadResult]) -> dict[str, object]:
    return {
        "requests_per_s": round(statistics.median(r.requests_per_s for r in results)),
        "p50_ms": round(statistics.median(r.p50_ms for r in results), 2),
        "p99_ms": round(statistics.median(r.p99_ms for r in results), 2),
        "p99_runs_ms": [round(r.p99_ms, 1) for r in results],
        "errors": sum(r.errors for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-shadow-"))
    body = work / "one.json"
    body.write_text(json.dumps(IRIS_ITEM))
    port = free_port()
    argv = [str(BIN / "model-service"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", "2", "--worker-class", "gevent"]
    env = {
        "APP_SETTINGS": "config.ProductionConfig",
        "MODEL_SERVICE_MODELS": json.dumps(MODELS),
        "MODEL_SERVICE_DEFAULT_VERSIONS": json.dumps({"iris_model": "1.0.0"}),
        "MODEL_SERVICE_LOAD_ENTRY_POINTS": "false",
        "MODEL_SERVICE_ADMIN_TOKEN": TOKEN,
        "MODEL_SERVICE_ADMIN_STATE_DIR": str(work / "admin"),
        "MODEL_SERVICE_MONITORING_STATE_DIR": str(work / "monitoring"),
    }
    results: dict[str, list[LoadResult]] = {name: [] for name in POLICIES}
    shadowed = 0.0
    with serve(argv, "/api/health/ready", port, work / "server.log", env=env, cwd=REPO) as server:
        url = server.url + PREDICT_PATH
        post_json(url, body.read_bytes())
        run_wrk(url, body, options.connections, 1)  # warm up both workers
        for _ in range(options.runs):
            for name, policy in POLICIES.items():
                put_policy(server.url, policy)
                before = shadow_predictions(server.url)
                results[name].append(run_wrk(url, body, options.connections, options.seconds))
                shadowed += shadow_predictions(server.url) - before
    report: dict[str, object] = {name: summary(runs) for name, runs in results.items()}
    shadow_p99 = statistics.median(r.p99_ms for r in results["shadow 100 %"])
    plain_p99 = statistics.median(r.p99_ms for r in results["no policy"])
    report["p99_shadow_vs_none"] = round(shadow_p99 / plain_p99, 3)
    answered = sum(r.requests for r in results["shadow 100 %"])
    report["shadow_predictions_per_answer"] = round(shadowed / answered, 3) if answered else 0
    report["connections"] = options.connections
    report["placement"] = "wrk and the 2 workers unpinned on the same machine"
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
