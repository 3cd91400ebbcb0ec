"""Deployment settings: one class per environment, chosen by ``APP_SETTINGS`` (an import path).

``APP_SETTINGS=config.ProductionConfig model-service serve`` selects a class; any single setting can
then be overridden with an environment variable named ``MODEL_SERVICE_<SETTING>``, e.g.
``MODEL_SERVICE_MAX_BATCH_ITEMS=500`` or ``MODEL_SERVICE_MODELS='[{"module_name": ..., ...}]'``
(values are read as JSON when they parse as JSON, else as text). Settings are read once, at
start-up.
"""

from __future__ import annotations


class Config:
    """Defaults shared by every environment."""

    MODELS: list[dict[str, str]] = [
        {"module_name": "iris_model.model", "class_name": "IrisModel"},
    ]
    """Model classes to load, as ``{"module_name": ..., "class_name": ...}`` pairs."""

    MLFLOW_MODELS: list[str] = []
    """MLflow model directories (or ``file:``/``runs:/``/``models:/`` URIs) to serve as they are,
    besides ``MODELS`` (where ``{"mlflow_model": PATH, "qualified_name": ..., "version": ...}``
    entries work too); ``model-service serve --mlflow-model PATH`` adds to it. Needs the
    ``mlflow`` extra."""

    MLFLOW_TRUSTED_TYPES: list[str] = []
    """Types that skops does not trust by default but that this deployment trusts when loading
    MLflow scikit-learn models saved as skops (e.g. ``sklearn.tree._tree.Tree`` for tree
    models); a model needing any other is refused with the list. See docs/mlflow.md."""

    MLFLOW_TRACKING_URI: str | None = None
    """MLflow tracking store that ``runs:/`` and ``models:/`` URIs and the model card's run
    metrics and parameters are read from; unset: local directories only."""

    LOAD_ENTRY_POINTS = True
    """Also load every class registered under the entry-point group ``model_service.models``."""

    STRICT_MODEL_LOADING = False
    """When true, a model that fails to load stops the service instead of being reported."""

    DEFAULT_VERSIONS: dict[str, str] = {}
    """Pin the version served by ``/api/models/<name>/...`` per model; default: the highest."""

    ROUTING: dict[str, dict[str, object]] = {}
    """Routing policy per model for unversioned requests, e.g. ``{"iris_model": {"primary":
    "1.0.0", "canary": {"1.1.0": 10}, "shadow": {"1.2.0": 100}}}`` (see docs/rollout.md);
    changed at run time through ``/api/admin/models/<name>/routing``. Checked at start: a policy
    naming a version that is not loaded stops the service with an error naming the model."""

    SHADOW_QUEUE_SIZE = 1000
    """Items one worker holds for shadow versions; copies that do not fit are dropped (counted in
    ``model_service_shadow_dropped_total``)."""

    SHADOW_BATCH_SIZE = 32
    """Most items predicted in one call of a shadow version."""

    SHADOW_TIMEOUT_S = 5.0
    """A shadow prediction still running after this many seconds is abandoned and counted."""

    REQUIRED_MODELS: list[str] = []
    """Models that must be loaded for ``/api/health/ready`` to answer 200; empty: every model
    that configuration or entry points name must have loaded."""

    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    """Largest request body in bytes; a larger one gets 413."""

    MAX_BATCH_ITEMS = 1000
    """Most items in one batch request; a longer batch gets 413."""

    GRPC_PROCESSES = 0
    """gRPC server processes the launcher starts with ``serve --grpc-port`` (one port, shared);
    0: as many as HTTP workers. One process is bound by its GIL: 2 processes answered 2.3x the
    calls of 1 on 2 cores (docs/v2-protocol.md)."""

    GRPC_THREADS = 8
    """Threads of each gRPC server process: calls it works on at once."""

    GRPC_MAX_CONCURRENT_CALLS = 256
    """Calls one gRPC server process accepts at once (queued beyond its threads); more are
    refused with ``RESOURCE_EXHAUSTED``."""

    MAX_FORM_FIELDS = 1000
    """Most fields in a form-encoded body (werkzeug stops parsing past it)."""

    BATCHING_ENABLED = True
    """Gather concurrent single-item predictions for a model into one ``predict_batch`` call."""

    MAX_BATCH_SIZE = 64
    """Most items the batcher puts in one ``predict_batch`` call."""

    MAX_BATCH_LATENCY_MS = 0.0
    """How long the batcher waits for more items once one arrives; 0: never wait."""

    PREDICTION_TIMEOUT_S = 30.0
    """A prediction still running after this many seconds answers 504 to its client."""

    GC_FREEZE = True
    """Under the launcher, freeze the warmed-up heap out of garbage collection (in the master
    before forking, and in each worker after its warm-up), so collections under load only walk
    what requests create."""

    GC_THRESHOLDS = [10_000, 20, 10]
    """Under the launcher, ``gc.set_threshold`` for generations 0, 1 and 2 (Python's default is
    700, 10, 10): fewer young collections, each walking the objects of the requests in flight."""

    MAX_JSON_DEPTH = 32
    """Deepest nesting of arrays and objects accepted in a JSON body."""

    MAX_STRING_LENGTH = 10_000
    """Longest string accepted in any input field."""

    RATE_LIMIT: str | None = None
    """Per-client rate limit in Flask-Limiter notation (``"100/second"``); unset: no limit."""

    ADMIN_STATE_DIR: str | None = None
    """Directory of the admin API's change log, shared by every worker of one service; unset: a
    private temporary path chosen at start-up (shared by workers forked from the preloading
    master)."""

    CSP_OVERRIDES: dict[str, str] = {}
    """Content-Security-Policy per URL path prefix, replacing the strict default for those pages."""

    ADMIN_TOKEN: str | None = None
    """Bearer token that enables the model lifecycle API under ``/api/admin``; unset: disabled."""

    MONITORING_ENABLED = True
    """Capture every prediction (inputs, output, latency) for monitoring; a model class may opt
    out with ``monitoring_capture = False`` (see docs/monitoring.md)."""

    MONITORING_SAMPLE_RATE = 1.0
    """Share of predicted items captured (0-1); a model may set ``monitoring_sample_rate``."""

    MONITORING_EXCLUDED_FIELDS: list[str] = []
    """Input fields never stored (privacy), for every model; a model may add its own with
    ``monitoring_excluded_fields``."""

    MONITORING_RETENTION_DAYS = 30.0
    """Captured items older than this are deleted by the periodic clean-up; a model may keep
    fewer days with ``monitoring_retention_days``."""

    MONITORING_CLEANUP_INTERVAL_S = 3600.0
    """Seconds between two retention clean-ups in each worker; 0: never clean up."""

    MONITORING_STATE_DIR: str | None = None
    """Directory of the SQLite monitoring database; unset: ``$XDG_STATE_HOME/model-service``
    (``~/.local/state/model-service``). Ignored when ``MONITORING_DATABASE_URL`` is set."""

    MONITORING_DATABASE_URL: str | None = None
    """SQLAlchemy URL of a shared database, e.g. ``postgresql+psycopg://user:pw@host/db``, for
    several replicas; unset: the SQLite file in ``MONITORING_STATE_DIR``."""

    MONITORING_QUEUE_SIZE = 10_000
    """Captured items the writer holds while the database is slow or down (the writer process,
    or each worker without one); more are dropped (counted in
    ``model_service_capture_dropped_total``)."""

    MONITORING_WRITE_BATCH_SIZE = 500
    """Most captured items inserted in one database round trip."""

    MONITORING_FLUSH_INTERVAL_S = 1.0
    """Seconds between two writes of the capture queue (sooner when a batch is full)."""

    MONITORING_WRITER_PROCESS = True
    """Under ``model-service serve``, one process of its own writes every worker's captures
    (workers hand their rows over a local socket and never share their GIL with a writer);
    False: each worker writes its own from a background thread, as ``flask run`` does."""

    MONITORING_WRITER_NICENESS = 10
    """Nice value (0-19) of the capture writer thread (in the writer process, or in each worker
    without one): above 0, a saturated CPU answers requests first and the queue drops the
    captures the writer cannot keep up with (counted); 0 gives capture the same priority."""

    MONITORING_WRITER_IDLE = True
    """The capture writer process runs only on CPU time no request wants (Linux's
    ``SCHED_IDLE``): a worker woken by a request takes its core back at once, where at nice 10
    alone the writer's inserts (about 5 ms of CPU for a batch of 500) still delayed answers on a
    busy machine. False: only ``MONITORING_WRITER_NICENESS`` lowers it."""

    MONITORING_PSI_WATCH = 0.1
    """Population stability index from which a field's status is ``watch``."""

    MONITORING_PSI_DRIFT = 0.25
    """Population stability index above which a field's status is ``drift``."""

    MONITORING_GAUGE_REFRESH_S = 60.0
    """Seconds between two refreshes of the drift and quality gauges in ``/metrics``; 0: never."""

    MONITORING_GAUGE_WINDOW = "24h"
    """Window the drift and quality gauges are computed over."""

    MONITORING_GAUGE_MAX_ROWS = 5_000
    """Most recent captured items the gauges' drift and quality are computed from (the refresh
    runs beside the requests of one worker: 5,000 rows keep it to a fraction of a second)."""

    MONITORING_ANALYSIS_MAX_ROWS = 50_000
    """Most recent captured items a drift, latency, quality or timeline figure reads per window;
    the summary's counts of predictions and errors are always exact."""

    LOG_LEVEL = "INFO"
    """Level of the service's own log lines."""

    LOG_FORMAT = "text"
    """``text`` for people, ``json`` for log collectors (one JSON object per line)."""

    JSON_SORT_KEYS = False
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    """For a developer's machine (what ``make run`` uses); ``serve --debug`` adds debug logs."""


class TestingConfig(Config):
    """For the test suite: Flask's testing mode, no entry-point discovery unless a test asks."""

    TESTING = True
    LOAD_ENTRY_POINTS = False


class ProductionConfig(Config):
    """For production: JSON logs for collectors."""

    LOG_FORMAT = "json"
