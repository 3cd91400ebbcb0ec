"""The production launcher: gunicorn's own ``BaseApplication`` serving :func:`create_app`.

What ``model-service serve`` sets up around gunicorn, and why:

* **Preloading** (default): the master process loads the models once, then forks the workers,
  which share the loaded pages copy-on-write. ``--no-preload`` makes each worker load its own
  copy instead, for models that do not survive a fork (a thread pool, a device context).
* **Warm-up**: each worker, once forked, runs every model once on its example input in the
  background (first calls are slow: lazy imports, caches, the batcher); ``/api/health/ready``
  answers 503 until it is done, so a readiness probe holds traffic back meanwhile. A preloading
  master compiles the templates and the URL map before it forks, so those pages are shared.
* **Garbage collection** (:mod:`model_service.garbage_collection`): the master freezes its warmed
  heap before forking and each worker freezes again after its warm-up, so collections under load
  only walk what requests create; ``GC_THRESHOLDS`` is applied in both, and every pause is timed.
* **Worker class**: ``gevent`` (the default) is :class:`model_service.workers.ServiceGeventWorker`,
  gunicorn's gevent worker writing each response in one ``send`` and yielding after each request.
* **Metrics**: prometheus-client's multiprocess mode, in a fresh directory per run, so that
  ``/metrics`` adds up every worker's samples; a dead worker's live gauges are dropped.
* **Logging**: the ``model_service`` loggers share gunicorn's error-log handlers
  (``--error-logfile``), with ``LOG_FORMAT`` (text or JSON) applied to both.
* **Signals** are gunicorn's: ``SIGTERM`` stops gracefully (in-flight requests get
  ``--graceful-timeout`` seconds), ``SIGHUP`` starts new workers and retires the old ones
  gracefully. With preloading the new workers fork from the master's already loaded app, so
  ``SIGHUP`` does not reload models; with ``--no-preload`` each new worker loads them afresh.
* **gRPC** (``--grpc-port``): the master also forks ``GRPC_PROCESSES`` gRPC server processes
  serving the V2 protocol (see :mod:`model_service.grpc_v2.processes`), restarts one that dies,
  and stops them with the workers (``SIGTERM``: calls in flight get the graceful timeout).
* **Capture writer** (``MONITORING_WRITER_PROCESS``, on with monitoring): the master also forks
  one process that writes every worker's monitoring captures (see
  :mod:`model_service.monitoring.sink`), restarts it if it dies, replaces it on ``SIGHUP`` and
  stops it after the workers, so their last captures are written.
* ``--debug``: one worker, debug logging, and a restart whenever Python code or a template changes.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask
from gunicorn import glogging, util
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from model_service import child_processes, connection_shares, prediction
from model_service.api.health import WARM_UP_KEY
from model_service.grpc_v2.processes import GrpcOptions, GrpcProcesses
from model_service.observability import configure_logging, make_formatter
from model_service.runtime import EXTENSION_KEY
from model_service.settings import load_settings

if TYPE_CHECKING:
    from model_service.monitoring.sink import CaptureProcess

logger = logging.getLogger(__name__)

METRICS_DIRECTORY_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client reads it when its first metric is made: set it before anything imports it."""

METRICS_DIRECTORY_PREFIX = "model-service-metrics-"
PACKAGE_DIRECTORY = Path(__file__).resolve().parent

GEVENT_WORKER = "model_service.workers.ServiceGeventWorker"
"""What ``--worker-class gevent`` runs (imported by gunicorn only when chosen)."""


@dataclass(frozen=True)
class ServeOptions:
    """What ``model-service serve`` was asked for (the defaults live on the click options)."""

    host: str
    port: int
    workers: int
    threads: int
    worker_class: str
    timeout: int
    graceful_timeout: int
    daemon: bool
    access_logfile: str | None
    error_logfile: str
    forwarded_allow_ips: str | None
    log_level: str | None
    settings: str | None
    preload: bool
    debug: bool
    mlflow_models: tuple[str, ...] = ()
    grpc_port: int | None = None


def default_workers() -> int:
    """One worker per core this process may run on (its CPU affinity, when the OS tells)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class ModelServiceApplication(BaseApplication):
    """gunicorn application whose WSGI app is built by :func:`model_service.create_app`.

    :param options: gunicorn settings (``bind``, ``workers``, ``worker_class``, ``preload_app``...).
    :param overrides: settings applied on top of ``APP_SETTINGS`` (e.g. ``{"DEBUG": True}``).
    :param grpc: how to run the gRPC server processes, if any.
    :param capture_process: whether one process writes every worker's monitoring captures.
    """

    def __init__(
        self,
        options: Mapping[str, Any],
        overrides: Mapping[str, Any] | None = None,
        grpc: GrpcOptions | None = None,
        capture_process: bool = False,
    ) -> None:
        self.options = dict(options)
        self.overrides = dict(overrides or {})
        self.grpc = grpc
        self.capture_process = capture_process
        super().__init__()

    def load_config(self) -> None:
        # A setting this gunicorn does not know (control_socket_disable before 25.1) is skipped.
        for key, value in self.options.items():
            if value is not None and key in self.cfg.settings:
                self.cfg.set(key, value)

    def run(self) -> None:
        """Detach first with ``--daemon`` (gunicorn's ``BaseApplication`` leaves that to its
        command-line subclass), then run the arbiter."""
        if self.cfg.daemon:
            util.daemonize(self.cfg.enable_stdio_inheritance)
        try:
            ServiceArbiter(self).run()
        except RuntimeError as error:
            print(f"\nError: {error}\n", file=sys.stderr)
            sys.stderr.flush()
            sys.exit(1)

    def load(self) -> Flask:
        from model_service import create_app

        app = create_app(self.overrides)
        if self.cfg.preload_app:  # this is the master, about to fork the workers
            prepare_for_fork(app)
        return app


class ServiceArbiter(Arbiter):
    """gunicorn's arbiter, also running the capture writer process (when monitoring is on) and
    the gRPC server processes (when ``--grpc-port`` is set): started before the workers fork,
    kept up from the master's loop, stopped after the workers."""

    grpc: GrpcProcesses | None = None
    capture: CaptureProcess | None = None

    def start(self) -> None:
        super().start()
        if self.app.capture_process:
            # imported here: the monitoring package defines metrics, which must be made after
            # prepare_metrics_directory switched prometheus-client to multiprocess mode
            from model_service.monitoring.sink import CaptureProcess

            self.capture = CaptureProcess(self.app.wsgi)
            self.capture.start()
        options = self.app.grpc
        if options is not None:
            self.grpc = GrpcProcesses(options, self.app.wsgi)
            self.grpc.start()

    def manage_workers(self) -> None:
        super().manage_workers()
        if self.grpc is not None:
            self.grpc.maintain()
        if self.capture is not None:
            self.capture.maintain()

    def reload(self) -> None:
        super().reload()  # returns once the retired workers exited (their captures were sent)
        if self.capture is not None:
            self.capture.restart()

    def stop(self, graceful: bool = True) -> None:
        if self.grpc is not None:
            self.grpc.stop(graceful)
        started = time.monotonic()
        super().stop(graceful)
        if self.grpc is not None:
            left = self.cfg.graceful_timeout - (time.monotonic() - started)
            self.grpc.wait(max(left, 1.0) if graceful else 1.0)
        if self.capture is not None:  # last: the workers' and gRPC processes' captures are in
            self.capture.stop(timeout=max(self.cfg.graceful_timeout, CAPTURE_DRAIN_S))


def service_logger_class(log_format: str) -> type:
    """A gunicorn logger class whose error-log handlers also carry the service's own lines."""

    class ServiceLogger(glogging.Logger):
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            formatter = make_formatter(log_format)
            for handler in self.error_log.handlers:
                handler.setFormatter(formatter)
            configure_logging(cfg.loglevel, log_format, list(self.error_log.handlers))

    return ServiceLogger


# --- warm-up and garbage collection ------------------------------------------------------------


def predict_examples(app: Flask, run: prediction.PredictBatch) -> int:
    """Predict each model's example input once with ``run``; return how many were predicted.

    A failure is logged and does not hold readiness back: the model answers (or fails) the same
    way for clients, and the health endpoint reports load failures on its own.
    """
    runtime = app.extensions[EXTENSION_KEY]
    predicted = 0
    with app.app_context():
        for served in runtime.manager.served_models():
            if served.example_input is None:
                continue
            try:
                prediction.predict(served, [served.example_input], batch=False, run=run)
                predicted += 1
            except Exception as error:
                logger.warning(
                    "Warm-up prediction of %s %s failed: %s",
                    served.qualified_name,
                    served.version,
                    error,
                )
    return predicted


def compile_lazily_built_parts(app: Flask) -> None:
    """Build what Flask builds on first use: every template and the URL matcher."""
    for name in app.jinja_env.list_templates(filter_func=lambda name: name.endswith(".html")):
        app.jinja_env.get_template(name)
    app.url_map.update()


def prepare_for_fork(app: Flask) -> None:
    """In a preloading master: build what Flask builds lazily, apply ``GC_THRESHOLDS`` and freeze
    the heap, so the workers inherit a heap that no collection walks (and whose pages stay
    shared). Models are not called here: a first prediction may start threads (a BLAS or OpenMP
    pool) that would not survive the fork, or wait on something only a worker has."""
    compile_lazily_built_parts(app)
    from model_service.garbage_collection import CollectorSettings

    collector = CollectorSettings.from_settings(app.config)
    collector.apply()
    frozen = collector.freeze_heap()
    logger.info("Master froze %d objects out of garbage collection before forking", frozen)


def warm_up(app: Flask, done: threading.Event) -> None:
    """In a worker: predict each model's example through the batcher, freeze what that created,
    start timing collections, then set ``done`` (readiness)."""
    started = time.perf_counter()
    compile_lazily_built_parts(app)
    predicted = predict_examples(app, app.extensions[EXTENSION_KEY].run_prediction)
    from model_service.garbage_collection import CollectorSettings, time_pauses

    collector = CollectorSettings.from_settings(app.config)
    collector.apply()
    frozen = collector.freeze_heap()
    time_pauses()
    done.set()
    logger.info(
        "Worker warmed up %d model(s) in %.2f s; %d objects frozen out of garbage collection",
        predicted,
        time.perf_counter() - started,
        frozen,
    )


def start_warm_up(worker: Any) -> None:
    """gunicorn ``post_worker_init`` hook: warm up in the background while serving health."""
    app: Flask = worker.wsgi
    done = threading.Event()
    app.extensions[WARM_UP_KEY] = done
    threading.Thread(target=warm_up, args=(app, done), name="warm-up", daemon=True).start()


def stop_while_booting(server: Any, worker: Any) -> None:
    """gunicorn ``post_fork`` hook: a stop signal ends a worker that is still booting.

    Until the worker installs its own handlers it runs the master's, which only queue the signal
    for a master loop that does not run in this process: a ``SIGTERM`` that arrives meanwhile
    (gevent's monkey-patching takes a moment) would be lost, and the master would wait the whole
    graceful timeout for a worker that never heard it. A booting worker serves nothing yet, so the
    default action (exit at once) is right.
    """
    for signal_number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(signal_number, signal.SIG_DFL)


CAPTURE_DRAIN_S = 15.0
"""The least time the capture writer process gets, after the workers stopped, to write what it
holds (its writer's own close waits up to 10 s)."""

SHADOW_DRAIN_S = 2.0
"""How long an exiting worker (or gRPC process) keeps predicting its queued shadow copies."""


def flush_monitoring(server: Any, worker: Any) -> None:
    """gunicorn ``worker_exit`` hook: :func:`flush_app` for the worker's app."""
    flush_app(getattr(worker, "wsgi", None))


def flush_app(app: Any) -> None:
    """At a worker's or gRPC process's exit: finish (or drop and count) its queued shadow
    predictions, then write its queued monitoring captures, shadow ones included."""
    from model_service.monitoring_app import flush_on_exit  # defines metrics: import it late
    from model_service.shadow import close_on_exit

    close_on_exit(app, timeout=SHADOW_DRAIN_S)
    flush_on_exit(app)


# --- multiprocess metrics -----------------------------------------------------------------------


def prepare_metrics_directory() -> Callable[[], None]:
    """Switch prometheus-client to multiprocess mode in an empty directory; return its clean-up.

    An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is kept (its stale ``*.db`` files from an
    earlier run are removed, as prometheus-client requires); otherwise a temporary directory is
    made and removed at exit.
    """
    given = os.environ.get(METRICS_DIRECTORY_ENV)
    if given:
        os.makedirs(given, exist_ok=True)
        for stale in glob.glob(os.path.join(given, "*.db")):
            os.remove(stale)
        cleanup: Callable[[], None] = lambda: None  # noqa: E731
    else:
        remove_abandoned_metrics_directories()
        created = tempfile.mkdtemp(prefix=f"{METRICS_DIRECTORY_PREFIX}{os.getpid()}-")
        os.environ[METRICS_DIRECTORY_ENV] = created
        cleanup = lambda: shutil.rmtree(created, ignore_errors=True)  # noqa: E731
    values: Any = sys.modules.get("prometheus_client.values")
    if values is not None:
        # Imported before the variable existed: metrics made from now on must still use files.
        values.ValueClass = values.MultiProcessValue()
    return cleanup


def remove_abandoned_metrics_directories() -> None:
    """Remove the temporary metrics directories of launchers that died without cleaning up
    (killed with ``SIGKILL``): their names carry the launcher's pid."""
    pattern = os.path.join(tempfile.gettempdir(), f"{METRICS_DIRECTORY_PREFIX}*-*")
    for directory in glob.glob(pattern):
        pid = os.path.basename(directory)[len(METRICS_DIRECTORY_PREFIX) :].split("-")[0]
        if pid.isdigit() and not connection_shares.process_exists(int(pid)):
            shutil.rmtree(directory, ignore_errors=True)


def forget_worker(server: Any, worker: Any) -> None:
    """gunicorn ``child_exit`` hook: drop the exited worker's live gauges and connection count."""
    child_processes.forget_metrics(worker.pid)
    connection_shares.forget_worker(worker.pid)


# --- assembling the gunicorn settings -----------------------------------------------------------


def bind_address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def template_patterns() -> list[str]:
    """Glob patterns of every template in the package, watched by ``--debug``."""
    return [str(PACKAGE_DIRECTORY / "**" / "templates" / "**" / "*")]


def gunicorn_settings(options: ServeOptions, log_level: str, log_format: str) -> dict[str, Any]:
    """The gunicorn settings for ``options``; ``--debug`` forces one worker, no preloading and
    the reloader."""
    return {
        "bind": [bind_address(options.host, options.port)],
        "workers": 1 if options.debug else options.workers,
        # gunicorn would turn "sync" into "gthread" when given more than one thread.
        "threads": options.threads if options.worker_class == "gthread" else 1,
        "worker_class": GEVENT_WORKER if options.worker_class == "gevent" else options.worker_class,
        "timeout": options.timeout,
        "graceful_timeout": options.graceful_timeout,
        "daemon": options.daemon,
        "accesslog": options.access_logfile,
        "errorlog": options.error_logfile,
        "forwarded_allow_ips": options.forwarded_allow_ips,
        "loglevel": log_level,
        "preload_app": options.preload and not options.debug,
        "reload": options.debug,
        "reload_extra_files": template_patterns() if options.debug else [],
        "logger_class": service_logger_class(log_format),
        "proc_name": "model-service",
        # Signals do what gunicornc would; one shared socket path would clash between instances.
        "control_socket_disable": True,
        "post_fork": stop_while_booting,
        "post_worker_init": start_warm_up,
        "child_exit": forget_worker,
        "worker_exit": flush_monitoring,
    }


def run(options: ServeOptions) -> None:
    """Serve with gunicorn until stopped (``SIGTERM``/``SIGINT``)."""
    if options.settings:
        os.environ["APP_SETTINGS"] = options.settings
    settings = load_settings()
    log_level = (options.log_level or ("debug" if options.debug else settings["LOG_LEVEL"])).lower()
    overrides: dict[str, Any] = {"LOG_LEVEL": log_level.upper()}
    if options.debug:
        overrides["DEBUG"] = True
    if options.mlflow_models:
        overrides["MLFLOW_MODELS"] = [*settings["MLFLOW_MODELS"], *options.mlflow_models]
    grpc = None
    if options.grpc_port is not None:
        overrides["GRPC_PORT"] = options.grpc_port
        overrides["GRPC_HOST"] = options.host
        grpc = GrpcOptions.from_settings(
            options.host, options.grpc_port, settings, options.graceful_timeout, options.workers
        )
    cleanup = prepare_metrics_directory()
    gunicorn_options = gunicorn_settings(options, log_level, settings["LOG_FORMAT"])
    gunicorn_options["on_exit"] = lambda server: cleanup()
    capture_process = bool(settings["MONITORING_ENABLED"] and settings["MONITORING_WRITER_PROCESS"])
    ModelServiceApplication(gunicorn_options, overrides, grpc, capture_process).run()
