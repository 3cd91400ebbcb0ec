"""How the launcher configures gunicorn and prometheus-client (without starting a server)."""

from __future__ import annotations

import dataclasses
import glob
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from prometheus_client import values

from model_service import server

DEBUG_OPTIONS = server.ServeOptions(
    host="::1", port=5000, workers=4, threads=8, worker_class="gevent", timeout=60,
    graceful_timeout=30, daemon=False, access_logfile=None, error_logfile="-",
    forwarded_allow_ips=None, log_level=None, settings=None, preload=True, debug=True,
)  # fmt: skip


def test_debug_runs_one_reloading_worker_watching_the_templates() -> None:
    settings = server.gunicorn_settings(DEBUG_OPTIONS, "debug", "text")
    assert settings["bind"] == ["[::1]:5000"]
    assert (settings["workers"], settings["preload_app"], settings["reload"]) == (1, False, True)
    watched = {
        Path(path)
        for pattern in settings["reload_extra_files"]
        for path in glob.glob(pattern, recursive=True)
    }
    templates = set(server.PACKAGE_DIRECTORY.glob("**/templates/**/*.html"))
    assert templates, "the package has templates"
    assert templates <= watched


@pytest.mark.parametrize(("worker_class", "threads"), [("sync", 1), ("gthread", 8), ("gevent", 1)])
def test_threads_only_apply_to_gthread(worker_class: str, threads: int) -> None:
    """gunicorn silently runs gthread when the sync worker is given several threads."""
    options = dataclasses.replace(DEBUG_OPTIONS, worker_class=worker_class, debug=False)
    assert server.gunicorn_settings(options, "info", "text")["threads"] == threads


@pytest.fixture
def temporary_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_abandoned_metrics_directories_are_removed(temporary_directory: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    dead = temporary_directory / f"{server.METRICS_DIRECTORY_PREFIX}{finished.stdout.strip()}-a"
    alive = temporary_directory / f"{server.METRICS_DIRECTORY_PREFIX}{os.getpid()}-b"
    dead.mkdir()
    alive.mkdir()
    server.remove_abandoned_metrics_directories()
    assert not dead.exists()
    assert alive.exists()


def test_an_operators_metrics_directory_is_kept_but_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.setenv(server.METRICS_DIRECTORY_ENV, str(tmp_path))
    # The launcher switches an already imported prometheus-client over; undo that afterwards.
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)
    cleanup = server.prepare_metrics_directory()
    cleanup()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
