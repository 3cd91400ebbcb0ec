"""Monitoring settings: the service-wide ``MONITORING_*`` values and each model's overrides.

A model class may override, as optional class attributes: ``monitoring_capture`` (bool),
``monitoring_sample_rate`` (0-1), ``monitoring_excluded_fields`` (input fields never stored) and
``monitoring_retention_days``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CapturePolicy:
    """What is captured of one model's predictions and for how long it is kept."""

    enabled: bool = True
    sample_rate: float = 1.0
    excluded_fields: frozenset[str] = frozenset()
    retention_days: float = 30.0

    def for_model(self, model: Any) -> CapturePolicy:
        """This policy with the model class's ``monitoring_*`` attributes applied."""
        excluded = getattr(model, "monitoring_excluded_fields", None)
        return replace(
            self,
            enabled=self.enabled and bool(getattr(model, "monitoring_capture", True)),
            sample_rate=_rate(getattr(model, "monitoring_sample_rate", self.sample_rate)),
            excluded_fields=self.excluded_fields | frozenset(excluded or ()),
            retention_days=float(getattr(model, "monitoring_retention_days", self.retention_days)),
        )


@dataclass(frozen=True)
class MonitoringSettings:
    """Everything the monitoring part reads from the service's settings, once."""

    enabled: bool
    policy: CapturePolicy
    database_url: str | None
    state_directory: Path
    queue_size: int
    write_batch_size: int
    flush_interval_s: float
    writer_niceness: int
    writer_idle: bool
    cleanup_interval_s: float
    psi_watch: float
    psi_drift: float
    gauge_refresh_s: float
    gauge_window: str
    gauge_max_rows: int
    analysis_max_rows: int

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MonitoringSettings:
        policy = CapturePolicy(
            enabled=bool(settings.get("MONITORING_ENABLED", True)),
            sample_rate=_rate(settings.get("MONITORING_SAMPLE_RATE", 1.0)),
            excluded_fields=frozenset(settings.get("MONITORING_EXCLUDED_FIELDS") or ()),
            retention_days=float(settings.get("MONITORING_RETENTION_DAYS", 30)),
        )
        return cls(
            enabled=policy.enabled,
            policy=policy,
            database_url=settings.get("MONITORING_DATABASE_URL") or None,
            state_directory=Path(settings.get("MONITORING_STATE_DIR") or default_state_directory()),
            queue_size=max(1, int(settings.get("MONITORING_QUEUE_SIZE", 10_000))),
            write_batch_size=max(1, int(settings.get("MONITORING_WRITE_BATCH_SIZE", 500))),
            flush_interval_s=max(0.01, float(settings.get("MONITORING_FLUSH_INTERVAL_S", 1.0))),
            writer_niceness=min(19, max(0, int(settings.get("MONITORING_WRITER_NICENESS", 10)))),
            writer_idle=bool(settings.get("MONITORING_WRITER_IDLE", True)),
            cleanup_interval_s=float(settings.get("MONITORING_CLEANUP_INTERVAL_S", 3600)),
            psi_watch=float(settings.get("MONITORING_PSI_WATCH", 0.1)),
            psi_drift=float(settings.get("MONITORING_PSI_DRIFT", 0.25)),
            gauge_refresh_s=float(settings.get("MONITORING_GAUGE_REFRESH_S", 60)),
            gauge_window=str(settings.get("MONITORING_GAUGE_WINDOW", "24h")),
            gauge_max_rows=max(1, int(settings.get("MONITORING_GAUGE_MAX_ROWS", 5_000))),
            analysis_max_rows=max(1, int(settings.get("MONITORING_ANALYSIS_MAX_ROWS", 50_000))),
        )


def default_state_directory() -> Path:
    """``$XDG_STATE_HOME/model-service`` (``~/.local/state/model-service``)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local/state")
    return Path(base) / "model-service"


def _rate(value: Any) -> float:
    return min(1.0, max(0.0, float(value)))
