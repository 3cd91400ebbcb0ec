"""What the service refuses to serve, and why: each refusal says what to do."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from model_service.cli import main
from model_service.errors import ModelLoadError
from model_service.model_manager import ModelManager
from model_service.settings import load_settings, model_entries
from tests.mlflow import saved_models

pyfunc = pytest.importorskip("mlflow.pyfunc", reason="the mlflow extra is not installed")


def load_strictly(*entries: dict[str, Any]) -> ModelManager:
    manager = ModelManager(strict=True)
    manager.load(list(entries), discover_entry_points=False)
    return manager


def copy_with_metadata(source: Path, target: Path, **flavor_changes: Any) -> Path:
    """A copy of the model directory whose sklearn flavor records ``flavor_changes``."""
    shutil.copytree(source, target)
    metadata = yaml.safe_load((target / "MLmodel").read_text())
    metadata["flavors"]["sklearn"].update(flavor_changes)
    (target / "MLmodel").write_text(yaml.safe_dump(metadata))
    return target


def test_a_model_without_signature_is_refused_saying_how_to_add_one(
    saved: dict[str, Path],
) -> None:
    with pytest.raises(ModelLoadError, match="no signature") as refusal:
        load_strictly({"mlflow_model": str(saved["unsigned"])})

    assert "infer_signature" in str(refusal.value)


def test_a_directory_without_mlmodel_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not an MLflow model directory"):
        load_strictly({"mlflow_model": str(tmp_path)})


def test_untrusted_skops_types_are_refused_with_the_list_and_the_setting(
    saved: dict[str, Path],
) -> None:
    with pytest.raises(ModelLoadError) as refusal:
        load_strictly({"mlflow_model": str(saved["forest"])})

    message = str(refusal.value)
    assert saved_models.TREE_TYPE in message
    assert "MLFLOW_TRUSTED_TYPES" in message


def test_the_authors_own_trust_list_is_not_enough(saved: dict[str, Path]) -> None:
    """MLflow recorded skops_trusted_types when saving; the operator still decides."""
    metadata = yaml.safe_load((saved["forest"] / "MLmodel").read_text())
    assert metadata["flavors"]["sklearn"]["skops_trusted_types"] == [saved_models.TREE_TYPE]

    with pytest.raises(ModelLoadError, match="does not trust"):
        load_strictly({"mlflow_model": str(saved["forest"])})


def test_the_setting_trusts_the_listed_types(saved: dict[str, Path]) -> None:
    settings = {
        **load_settings("config.TestingConfig"),
        "MODELS": [],
        "MLFLOW_MODELS": [str(saved["forest"])],
        "MLFLOW_TRUSTED_TYPES": [saved_models.TREE_TYPE],
    }

    manager = load_strictly(*model_entries(settings))

    assert manager.get_model("iris_forest").version == "1.0.0"


def test_a_model_saved_with_another_scikit_learn_is_refused(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    copy = copy_with_metadata(saved["classifier"], tmp_path / "old", sklearn_version="0.24.2")

    with pytest.raises(ModelLoadError, match=r"trained with scikit-learn 0\.24\.2") as refusal:
        load_strictly({"mlflow_model": str(copy)})

    assert "scikit-learn==0.24.2" in str(refusal.value)


def test_without_the_extra_the_service_names_it(
    saved: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what an environment without it imports

    manager = ModelManager()
    manager.load([{"mlflow_model": str(saved["classifier"])}], discover_entry_points=False)

    assert not manager.served_models()
    assert "pip install 'model-service[mlflow]'" in manager.failures[0].error


def test_name_version_and_file_uri(saved: dict[str, Path]) -> None:
    uri = saved["classifier"].resolve().as_uri()

    manager = load_strictly({"mlflow_model": uri, "qualified_name": "flowers", "version": "2.1.0"})

    served = manager.get_model("flowers", "2.1.0")
    assert served.model.display_name == "Flowers"
    assert manager.get_model("flowers") is served


def test_a_registry_uri_needs_a_tracking_store() -> None:
    with pytest.raises(ModelLoadError, match="MLFLOW_TRACKING_URI"):
        load_strictly({"mlflow_model": "models:/churn/3"})


def test_a_batch_is_one_call_without_mlflow_schema_enforcement(
    saved: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    served = load_strictly({"mlflow_model": str(saved["regressor"])}).get_model("rentals_regressor")
    calls: list[int] = []
    predict = served.model._predict
    monkeypatch.setattr(
        served.model, "_predict", lambda frame: calls.append(len(frame)) or predict(frame)
    )

    def enforcement(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("MLflow's schema enforcement ran again")

    monkeypatch.setattr(pyfunc, "_validate_prediction_input", enforcement)
    items = [served.example_input] * 5

    results = served.model.predict_batch(items)

    assert calls == [5]
    assert len(results) == 5


def test_reload_reads_the_directory_again(saved: dict[str, Path], tmp_path: Path) -> None:
    copy = shutil.copytree(saved["classifier"], tmp_path / "iris")
    manager = load_strictly({"mlflow_model": str(copy)})
    before = manager.get_model("iris").model_card["saved_model"]["artifact_sha256"]
    (copy / "README.txt").write_text("retrained\n")

    manager.reload("iris")

    assert manager.get_model("iris").model_card["saved_model"]["artifact_sha256"] != before


def test_models_command_lists_mlflow_models(saved: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        main,
        ["models", "--settings", "config.TestingConfig", "--mlflow-model", str(saved["regressor"])],
    )

    lines = [line for line in result.output.splitlines() if line.startswith("rentals_regressor")]
    assert lines and "loaded in" in lines[0], result.output
    assert f"MLflow model {saved['regressor']}" in lines[0]


def test_a_tensor_signature_is_an_array_of_its_shape(saved: dict[str, Path]) -> None:
    served = load_strictly({"mlflow_model": str(saved["tensor"])}).get_model("iris_tensor")
    features = saved_models.iris_frame()[0].to_numpy()[::25]

    field = served.input_schema.json_schema["properties"]["input"]
    results = served.model.predict_batch([{"input": row.tolist()} for row in features])

    shape = (field["type"], field["items"]["type"], field["minItems"], field["maxItems"])
    assert shape == ("array", "number", 4, 4)
    assert [r["prediction"] for r in results] == list(
        pyfunc.load_model(str(saved["tensor"])).predict(features)
    )
    assert served.input_schema.validate({"input": [1.0, 2.0, 3.0]})[1][0].path == ("input",)


def test_example_reference_data_and_baseline_come_from_the_input_example(
    saved: dict[str, Path],
) -> None:
    model = load_strictly({"mlflow_model": str(saved["classifier"])}).get_model("iris_classifier")
    rows = saved_models.iris_frame()[0].iloc[[0, 60]].to_dict(orient="records")

    assert model.example_input == rows[0]
    assert model.model.reference_data() == rows
    baseline = model.model.baseline()
    assert baseline == {name: (rows[0][name] + rows[1][name]) / 2 for name in rows[0]}


def test_the_file_pyfunc_loads_is_checked_too(saved: dict[str, Path], tmp_path: Path) -> None:
    """An MLmodel naming a harmless file for sklearn and another for pyfunc is still checked."""
    crafted = shutil.copytree(saved["classifier"], tmp_path / "crafted")
    shutil.copy(saved["forest"] / "model.skops", crafted / "other.skops")
    metadata = yaml.safe_load((crafted / "MLmodel").read_text())
    metadata["flavors"]["python_function"]["model_path"] = "other.skops"
    (crafted / "MLmodel").write_text(yaml.safe_dump(metadata))

    with pytest.raises(ModelLoadError, match=saved_models.TREE_TYPE.replace(".", r"\.")):
        load_strictly({"mlflow_model": str(crafted)})
