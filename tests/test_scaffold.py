"""``model-service new-model``: the scaffolded package is complete, lint-clean and serves.

The end-to-end test follows the package's README in a throwaway virtual environment (so the new
entry point never leaks into the other tests): ``pip install -e``, train, run the package's own
tests, serve it with the real server and predict over HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from model_service.cli import main
from tests.support import BIN, run_service

NAME = "wine_cultivar_model"
EXPECTED_FILES = {
    "README.md",
    "pyproject.toml",
    f"{NAME}/__init__.py",
    f"{NAME}/features.py",
    f"{NAME}/model.py",
    f"{NAME}/train.py",
    f"tests/test_{NAME}.py",
}


def scaffold(directory: Path, name: str = NAME) -> Path:
    result = CliRunner().invoke(main, ["new-model", name, "--directory", str(directory)])
    assert result.exit_code == 0, result.output
    return directory / name


def run(command: Sequence[str | Path], cwd: Path) -> str:
    """Run ``command`` and return its output; fail the test with the output when it fails."""
    finished = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, f"{command} failed:\n{finished.stdout}\n{finished.stderr}"
    return finished.stdout


def test_new_model_writes_a_complete_package(tmp_path: Path) -> None:
    package = scaffold(tmp_path)
    written = {str(path.relative_to(package)) for path in package.rglob("*") if path.is_file()}
    assert written == EXPECTED_FILES
    pyproject = (package / "pyproject.toml").read_text()
    assert '[project.entry-points."model_service.models"]' in pyproject
    assert f'{NAME} = "{NAME}.model:WineCultivarModel"' in pyproject
    assert "$" not in "".join(path.read_text() for path in package.rglob("*.py"))


def test_generated_code_passes_the_linter(tmp_path: Path) -> None:
    package = scaffold(tmp_path)
    run([BIN / "ruff", "check", "--no-cache", "."], cwd=package)
    run([BIN / "ruff", "format", "--no-cache", "--check", "."], cwd=package)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Bad-Name", "lower-case Python identifier"),
        ("2nd_model", "lower-case Python identifier"),
        ("churn model", "lower-case Python identifier"),
        ("class", "lower-case Python identifier"),
        ("numpy", "already an importable module"),
    ],
)
def test_an_unusable_name_is_refused_with_the_rule(tmp_path: Path, name: str, reason: str) -> None:
    result = CliRunner().invoke(main, ["new-model", name, "--directory", str(tmp_path)])
    assert result.exit_code == 2
    assert reason in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    existing = tmp_path / NAME
    existing.mkdir()
    (existing / "model.py").write_text("mine")
    result = CliRunner().invoke(main, ["new-model", NAME, "--directory", str(tmp_path)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert [path.name for path in existing.iterdir()] == ["model.py"]
    assert (existing / "model.py").read_text() == "mine"


def isolated_python(tmp_path: Path) -> Path:
    """A fresh virtual environment that sees the service's environment but installs elsewhere."""
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    script = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site_packages = Path(run([python, "-c", script], cwd=tmp_path).strip())
    service_site = sysconfig.get_paths()["purelib"]
    # addsitedir, unlike a bare path line, also runs the .pth files of editable installs there
    line = f"import site; site.addsitedir({service_site!r})\n"
    (site_packages / "model_service_environment.pth").write_text(line)
    return python


def editable_installs_work_offline() -> bool:
    major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1)  # older setuptools needs the separate `wheel` package


@pytest.mark.server
@pytest.mark.slow
def test_scaffolded_package_serves_after_the_documented_steps(tmp_path: Path) -> None:
    if not editable_installs_work_offline():
        pytest.skip(f"setuptools {version('setuptools')} cannot build an editable install offline")
    package = scaffold(tmp_path)
    python = isolated_python(tmp_path)
    pip: list[str | Path] = [
        sys.executable,
        "-m",
        "pip",
        "--disable-pip-version-check",
        "--python",
        python,
    ]
    run([*pip, "install", "-q", "--no-deps", "--no-build-isolation", "-e", package], cwd=tmp_path)
    run([python, "-m", f"{NAME}.train"], cwd=tmp_path)
    run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=package)
    in_process = "import json; from {0}.model import WineCultivarModel as M; m = M(); " + (
        "print(json.dumps([m.example_input(), m.predict(m.example_input())]))"
    )
    example, expected = json.loads(run([python, "-c", in_process.format(NAME)], cwd=tmp_path))

    serve = [python, "-c", "from model_service.cli import main; main()", "serve"]
    serve += ["--host", "127.0.0.1", "--port", "{port}", "--workers", "1"]
    environment = {"MODEL_SERVICE_LOAD_ENTRY_POINTS": "true", "MODEL_SERVICE_MODELS": "[]"}
    with run_service(command=[str(part) for part in serve], env=environment) as service:
        listed = requests.get(service.url("/api/models"), timeout=10).json()["models"]
        assert NAME in [model["qualified_name"] for model in listed], service.log()
        metadata = requests.get(service.url(f"/api/models/{NAME}/metadata"), timeout=10).json()
        assert metadata["input_schema"]["properties"]["alcohol"]["maximum"] == 18.0
        assert metadata["example_input"] == example
        answer = requests.post(service.url(f"/api/models/{NAME}/predict"), json=example, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json() == expected
        refused = requests.post(
            service.url(f"/api/models/{NAME}/predict"), json={**example, "alcohol": 99}, timeout=10
        )
        assert refused.status_code == 400
        assert [detail["path"] for detail in refused.json()["error"]["details"]] == [["alcohol"]]
