"""Production monitoring: prediction capture, ground-truth feedback, drift and live quality.

This part sits beside the model layer and knows no Flask: :class:`Monitor` is given the
:class:`~model_service.ModelManager` and the settings; :mod:`model_service.monitoring_app` is the
one place the blueprints reach it from. See ``docs/monitoring.md``.
"""

from model_service.monitoring.monitor import Monitor
from model_service.monitoring.settings import MonitoringSettings
from model_service.monitoring.windows import parse_window

__all__ = ["Monitor", "MonitoringSettings", "parse_window"]
