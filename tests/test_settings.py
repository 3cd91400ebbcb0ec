"""Settings: a config class chosen by APP_SETTINGS, single settings overridden by environment."""

from __future__ import annotations

import pytest

from model_service.settings import environment_overrides, import_object, load_settings


def test_app_settings_chooses_the_class() -> None:
    settings = load_settings(environ={"APP_SETTINGS": "config.ProductionConfig"})
    assert settings["LOG_FORMAT"] == "json"
    assert settings["SETTINGS_NAME"] == "config.ProductionConfig"


def test_default_is_the_development_class() -> None:
    assert load_settings(environ={})["SETTINGS_NAME"] == "config.DevelopmentConfig"


@pytest.mark.parametrize(
    ("variable", "text", "name", "expected"),
    [
        ("MODEL_SERVICE_MAX_BATCH_ITEMS", "50", "MAX_BATCH_ITEMS", 50),
        ("MODEL_SERVICE_MAX_BATCH_LATENCY_MS", "2", "MAX_BATCH_LATENCY_MS", 2.0),
        ("MODEL_SERVICE_BATCHING_ENABLED", "false", "BATCHING_ENABLED", False),
        ("MODEL_SERVICE_STRICT_MODEL_LOADING", "1", "STRICT_MODEL_LOADING", True),
        ("MODEL_SERVICE_ADMIN_TOKEN", "12345", "ADMIN_TOKEN", "12345"),
        ("MODEL_SERVICE_LOG_FORMAT", "json", "LOG_FORMAT", "json"),
        (
            "MODEL_SERVICE_MODELS",
            '[{"module_name": "a", "class_name": "B"}]',
            "MODELS",
            [{"module_name": "a", "class_name": "B"}],
        ),
    ],
)
def test_environment_overrides_take_the_setting_type(
    variable: str, text: str, name: str, expected: object
) -> None:
    settings = load_settings("config.Config", environ={variable: text})
    assert settings[name] == expected
    assert type(settings[name]) is type(expected)


def test_unknown_variables_are_ignored() -> None:
    assert environment_overrides({"A": 1}, {"MODEL_SERVICE_B": "2", "OTHER": "3"}) == {}


def test_overrides_passed_to_the_factory_win() -> None:
    settings = load_settings({"MAX_BATCH_ITEMS": 7}, environ={"MODEL_SERVICE_MAX_BATCH_ITEMS": "9"})
    assert settings["MAX_BATCH_ITEMS"] == 7


def test_bad_import_path_says_what_is_expected() -> None:
    with pytest.raises(ImportError, match=r"config\.ProductionConfig"):
        import_object("Production")
