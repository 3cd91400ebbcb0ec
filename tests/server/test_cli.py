"""The ``model-service`` commands: serve's options, ``models`` and ``predict``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from model_service import server
from model_service.cli import main
from tests.fixtures import EchoModel, FailingLoadModel, NotAModel, entry
from tests.server.conftest import IRIS, IRIS_ITEM
from tests.support import REPO_ROOT

SERVE_OPTIONS = [
    ("--host", "HOST"),
    ("--port", "PORT"),
    ("--workers", "WORKERS"),
    ("--worker-class", "WORKER_CLASS"),
    ("--threads", "THREADS"),
    ("--timeout", "TIMEOUT"),
    ("--graceful-timeout", "GRACEFUL_TIMEOUT"),
    ("--preload / --no-preload", "PRELOAD"),
    ("--settings", "SETTINGS"),
    ("--log-level", "LOG_LEVEL"),
    ("--access-logfile", "ACCESS_LOGFILE"),
    ("--error-logfile", "ERROR_LOGFILE"),
    ("--forwarded-allow-ips", "FORWARDED_ALLOW_IPS"),
    ("--daemon", "DAEMON"),
    ("--debug", "DEBUG"),
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def served_with(monkeypatch: pytest.MonkeyPatch) -> list[server.ServeOptions]:
    """Replace the gunicorn launch with a recorder of the options ``serve`` resolved."""
    calls: list[server.ServeOptions] = []
    monkeypatch.setattr(server, "run", calls.append)
    return calls


def test_serve_help_documents_every_option_with_its_environment_variable(
    runner: CliRunner,
) -> None:
    text = " ".join(runner.invoke(main, ["serve", "--help"]).output.split())
    for option, variable in SERVE_OPTIONS:
        assert option in text
        assert f"MODEL_SERVICE_{variable}" in text


def test_serve_defaults(runner: CliRunner, served_with: list[server.ServeOptions]) -> None:
    assert runner.invoke(main, ["serve"]).exit_code == 0
    (options,) = served_with
    assert (options.host, options.port, options.worker_class) == ("127.0.0.1", 5000, "gevent")
    assert options.workers == server.default_workers()
    assert options.preload and not options.debug and not options.daemon


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("MODEL_SERVICE_PORT", "6001", "port", 6001),
        ("MODEL_SERVICE_SERVE_PORT", "6002", "port", 6002),
        ("MODEL_SERVICE_WORKERS", "3", "workers", 3),
        ("MODEL_SERVICE_WORKER_CLASS", "sync", "worker_class", "sync"),
        ("MODEL_SERVICE_PRELOAD", "false", "preload", False),
        ("MODEL_SERVICE_DEBUG", "1", "debug", True),
        ("MODEL_SERVICE_LOG_LEVEL", "WARNING", "log_level", "warning"),
        (
            "MODEL_SERVICE_SETTINGS",
            "config.ProductionConfig",
            "settings",
            "config.ProductionConfig",
        ),
    ],
)
def test_serve_options_come_from_the_environment_too(
    runner: CliRunner,
    served_with: list[server.ServeOptions],
    variable: str,
    value: str,
    field: str,
    expected: Any,
) -> None:
    assert runner.invoke(main, ["serve"], env={variable: value}).exit_code == 0
    assert getattr(served_with[0], field) == expected


def test_serve_rejects_an_unknown_worker_class(runner: CliRunner) -> None:
    result = runner.invoke(main, ["serve", "--worker-class", "eventlet"])
    assert result.exit_code == 2
    assert "eventlet" in result.output


def models_env(*models: dict[str, str]) -> dict[str, str]:
    return {"MODEL_SERVICE_MODELS": json.dumps(list(models))}


def test_models_lists_what_loads_and_what_fails(runner: CliRunner) -> None:
    env = models_env(IRIS, entry(FailingLoadModel), entry(NotAModel))
    result = runner.invoke(main, ["models"], env=env)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "SOURCE", "STATUS"]
    iris = next(line for line in lines if line.startswith("iris_model"))
    assert "1.0.0" in iris and "iris_model.model.IrisModel" in iris and "loaded in" in iris
    failing = next(line for line in lines if "FailingLoadModel" in line)
    assert "failed:" in failing and "missing.joblib" in failing
    assert any("NotAModel" in line and "not a subclass" in line for line in lines)


def test_models_exits_zero_when_everything_loads(runner: CliRunner) -> None:
    result = runner.invoke(main, ["models"], env=models_env(IRIS))
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2


@pytest.fixture
def predict_env() -> dict[str, str]:
    return {**models_env(IRIS, entry(EchoModel)), "MODEL_SERVICE_BATCHING_ENABLED": "false"}


def test_predict_reads_a_json_file(
    runner: CliRunner, tmp_path: Path, predict_env: dict[str, str]
) -> None:
    body = tmp_path / "items.json"
    virginica = {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}
    body.write_text(json.dumps([IRIS_ITEM, virginica]))
    result = runner.invoke(main, ["predict", "iris_model", "--input", str(body)], env=predict_env)
    assert result.exit_code == 0, result.output
    assert [r["species"] for r in json.loads(result.stdout)] == ["setosa", "virginica"]


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_predict_reads_csv(
    runner: CliRunner, tmp_path: Path, predict_env: dict[str, str], via: str
) -> None:
    text = "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n"
    if via == "file":
        (tmp_path / "items.csv").write_text(text)
        args, stdin = ["--input", str(tmp_path / "items.csv")], None
    else:
        args, stdin = ["--format", "csv"], text
    result = runner.invoke(
        main, ["predict", "iris_model", "--version", "1.0.0", *args], input=stdin, env=predict_env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["species"] == "setosa"


def test_predict_explains_invalid_input_and_fails(
    runner: CliRunner, predict_env: dict[str, str]
) -> None:
    bad = json.dumps({"x": 500, "count": 1, "flag": True, "colour": "purple"})
    result = runner.invoke(main, ["predict", "echo"], input=bad, env=predict_env)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Error 400 (invalid_input)" in result.stderr
    assert "  x: " in result.stderr and "  colour: " in result.stderr


def test_predict_names_an_unknown_model(runner: CliRunner, predict_env: dict[str, str]) -> None:
    result = runner.invoke(main, ["predict", "nope"], input="{}", env=predict_env)
    assert result.exit_code == 1
    assert "Error 404 (model_not_found)" in result.stderr


def test_loading_the_cli_leaves_prometheus_client_unimported() -> None:
    """``serve`` must switch prometheus-client to multiprocess mode before its first import,
    or each worker's samples would stay in its own memory, invisible to ``/metrics``."""
    code = "import sys, model_service.cli; sys.exit('prometheus_client' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT).returncode == 0
