"""ModelManager: loading from configuration and entry points, failures, versions, look-ups."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from model_service import model_manager as manager_module
from model_service.errors import InvalidModelClass, ModelLoadError, ModelNotFound
from model_service.model_manager import ModelManager, version_key
from tests.fixtures import (
    EchoModel,
    EchoModelV2,
    FailingLoadModel,
    NotAModel,
    WrongOutputModel,
    entry,
)


def loaded(*classes: type, **options: Any) -> ModelManager:
    manager = ModelManager(**options)
    manager.load([entry(cls) for cls in classes], discover_entry_points=False)
    return manager


def test_configured_classes_are_loaded_once() -> None:
    manager = loaded(EchoModel, WrongOutputModel, EchoModel)
    names = [model["qualified_name"] for model in manager.get_models()]
    assert names == ["echo", "wrong_output"]
    assert manager.failures == []


def test_entry_points_are_discovered(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeEntryPoint:
        name, value = "echo", "tests.fixtures:EchoModel"

        def load(self) -> type:
            return EchoModel

    monkeypatch.setattr(
        manager_module, "entry_points", lambda group: [FakeEntryPoint()] if group else []
    )
    manager = ModelManager()
    manager.load([], discover_entry_points=True)
    assert manager.get_model("echo").source.startswith("entry point 'echo'")


def test_class_named_both_ways_is_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeEntryPoint:
        name, value = "echo", "tests.fixtures:EchoModel"

        def load(self) -> type:
            return EchoModel

    monkeypatch.setattr(manager_module, "entry_points", lambda group: [FakeEntryPoint()])
    manager = ModelManager()
    manager.load([entry(EchoModel)], discover_entry_points=True)
    assert len(manager.served_models()) == 1
    assert manager.failures == []


def test_non_model_class_is_refused_by_name() -> None:
    manager = loaded(NotAModel, EchoModel)
    assert [failure.source for failure in manager.failures] == ["tests.fixtures.NotAModel"]
    assert "not a subclass of model_service.MLModel" in manager.failures[0].error
    with pytest.raises(InvalidModelClass, match="NotAModel"):
        ModelManager().add_model_class(NotAModel)


def test_failing_model_is_recorded_and_others_still_load() -> None:
    manager = loaded(FailingLoadModel, EchoModel)
    assert [model.qualified_name for model in manager.served_models()] == ["echo"]
    (failure,) = manager.failures
    assert failure.qualified_name == "failing_load"
    assert "FileNotFoundError" in failure.error and "missing.joblib" in failure.error


def test_strict_mode_makes_a_failure_fatal() -> None:
    with pytest.raises(ModelLoadError, match=r"failing_load|FailingLoadModel"):
        loaded(FailingLoadModel, EchoModel, strict=True)


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        ({"module_name": "no_such_module_xyz", "class_name": "X"}, "Cannot import module"),
        ({"module_name": "tests.fixtures", "class_name": "Missing"}, "has no class 'Missing'"),
        ({"module_name": "tests.fixtures"}, "needs both"),
    ],
)
def test_bad_configuration_entries_are_explained(configured: dict[str, str], message: str) -> None:
    manager = ModelManager()
    manager.load([configured], discover_entry_points=False)
    assert message in manager.failures[0].error


def test_versions_side_by_side_default_to_the_highest() -> None:
    manager = loaded(EchoModel, EchoModelV2)
    assert manager.get_model("echo").version == "2.0.0"
    assert manager.get_model("echo", "1.0.0").version == "1.0.0"
    (summary,) = manager.get_models()
    assert summary["version"] == "2.0.0"
    assert summary["versions"] == ["2.0.0", "1.0.0"]


def test_a_pinned_default_version_wins() -> None:
    manager = loaded(EchoModel, EchoModelV2, default_versions={"echo": "1.0.0"})
    assert manager.get_model("echo").version == "1.0.0"


def test_the_same_version_twice_is_a_load_failure() -> None:
    twin = type("EchoTwin", (EchoModel,), {})
    manager = loaded(EchoModel)
    with pytest.raises(ModelLoadError, match="already serves"):
        manager.add_model_class(twin)
    assert manager.get_model("echo").model.__class__ is EchoModel


@pytest.mark.parametrize(("name", "version"), [("nope", None), ("echo", "9.9.9")])
def test_unknown_name_or_version_raises_not_found(name: str, version: str | None) -> None:
    with pytest.raises(ModelNotFound):
        loaded(EchoModel).get_model(name, version)


def test_metadata_has_schemas_card_and_example() -> None:
    metadata = loaded(EchoModel).get_model_metadata("echo")
    assert metadata["input_schema"]["properties"]["x"]["maximum"] == 100
    assert metadata["output_schema"]["type"] == "object"
    assert metadata["example_input"] == EchoModel().example_input()
    assert metadata["model_card"] is None


def test_unload_one_version_keeps_the_other() -> None:
    manager = loaded(EchoModel, EchoModelV2)
    manager.unload("echo", "2.0.0")
    assert manager.get_model("echo").version == "1.0.0"
    manager.unload("echo")
    with pytest.raises(ModelNotFound):
        manager.get_model("echo")


def test_the_default_version_follows_loads_and_unloads() -> None:
    manager = loaded(EchoModel)
    assert manager.get_model("echo").version == "1.0.0"
    manager.add_model_class(EchoModelV2)
    assert manager.get_model("echo").version == "2.0.0"
    manager.unload("echo", "2.0.0")
    last = weakref.ref(manager.get_model("echo"))
    assert last().version == "1.0.0"  # type: ignore[union-attr]
    manager.unload("echo")
    gc.collect()
    assert last() is None, "the manager still holds a model it no longer serves"


def test_version_order_is_semantic() -> None:
    versions = ["1.9.0", "1.10.0", "1.10.0-rc1", "0.2.0"]
    assert sorted(versions, key=version_key) == ["0.2.0", "1.9.0", "1.10.0-rc1", "1.10.0"]
