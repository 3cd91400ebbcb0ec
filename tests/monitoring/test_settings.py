"""Monitoring settings: the service-wide values and each model class's overrides."""

from __future__ import annotations

from model_service.monitoring.settings import CapturePolicy, MonitoringSettings


class PrivateModel:
    monitoring_sample_rate = 0.25
    monitoring_excluded_fields = ("email",)
    monitoring_retention_days = 7


class SilentModel:
    monitoring_capture = False


def test_defaults_capture_every_item_for_thirty_days() -> None:
    settings = MonitoringSettings.from_settings({})
    assert settings.policy == CapturePolicy(True, 1.0, frozenset(), 30.0)
    assert (settings.psi_watch, settings.psi_drift) == (0.1, 0.25)


def test_a_model_class_narrows_the_policy() -> None:
    base = MonitoringSettings.from_settings(
        {"MONITORING_EXCLUDED_FIELDS": ["name"], "MONITORING_SAMPLE_RATE": 5}
    ).policy
    assert base.sample_rate == 1.0  # clamped to 0-1
    private = base.for_model(PrivateModel)
    assert private.excluded_fields == {"name", "email"}
    assert (private.sample_rate, private.retention_days) == (0.25, 7.0)
    assert base.for_model(SilentModel).enabled is False
    assert base.for_model(object()) == base


def test_the_writer_niceness_defaults_to_ten_and_stays_within_what_nice_allows() -> None:
    def niceness(value: object) -> int:
        settings = MonitoringSettings.from_settings({"MONITORING_WRITER_NICENESS": value})
        return settings.writer_niceness

    assert MonitoringSettings.from_settings({}).writer_niceness == 10
    assert (niceness(0), niceness(40), niceness(-5)) == (0, 19, 0)
