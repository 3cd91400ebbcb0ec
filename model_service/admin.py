"""Model lifecycle API under ``/api/admin``: load, unload and reload models while serving.

* ``POST /api/admin/models`` with ``{"module_name": ..., "class_name": ...}`` or
  ``{"entry_point": name}`` loads a class beside the served models;
* ``DELETE /api/admin/models/<name>[/versions/<version>]`` stops serving it;
* ``POST /api/admin/models/<name>[/versions/<version>]/reload`` instantiates it again, so a
  retrained model re-reads its artifacts;
* ``/api/admin/models/<name>/routing`` reads and changes the model's routing policy (see
  :mod:`model_service.routing_api`); a version the policy names cannot be unloaded (409).

Every request needs ``Authorization: Bearer <ADMIN_TOKEN>`` (401 without, 403 when wrong; the
whole API answers 403 while no token is configured). Each change is swapped into the
:class:`~model_service.ModelManager` atomically: requests in flight finish on the model object
they already hold.

Several gunicorn workers are kept in step by a shared **change log**: the worker that handles an
admin call applies the change, then appends it to ``admin-changes.json`` in ``ADMIN_STATE_DIR``
(under a file lock, replaced atomically). Every worker compares the file's ``os.stat`` signature
before each request (about a microsecond) and replays the changes it has not applied yet. A
worker forked later (after a crash or a HUP) starts from the preloaded models and replays the
whole log, so it ends up with the same set. ``docs/security.md`` explains the choice.
"""

from __future__ import annotations

import fcntl
import hmac
import logging
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, request

from model_service.api.request_body import read_json_body
from model_service.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    ModelLoadError,
    ModelNotFound,
    ServingError,
    Unauthorized,
)
from model_service.model_manager import LoadFailure, import_model_class
from model_service.responses import json_response
from model_service.runtime import EXTENSION_KEY, ServiceRuntime

logger = logging.getLogger(__name__)

ADMIN_EXTENSION_KEY = "model_service_admin"
CHANGES_FILE = "admin-changes.json"
LOCK_FILE = "admin.lock"
Change = dict[str, Any]

admin = Blueprint("admin", __name__, url_prefix="/api/admin")


class ChangeLog:
    """The ordered list of admin changes every worker of one service applies, kept in a file.

    :param directory: where the log lives; created (mode 0700) on the first change.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / CHANGES_FILE

    def signature(self) -> tuple[int, int, int] | None:
        """What changes whenever the log is rewritten (inode, mtime, size); None: no log yet."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def read(self) -> list[Change]:
        try:
            changes: list[Change] = orjson.loads(self.path.read_bytes())["changes"]
        except FileNotFoundError:
            return []
        return changes

    @contextmanager
    def locked(self) -> Iterator[list[Change]]:
        """Hold the log's lock (across processes) and yield its changes; a change the caller
        appends to the yielded list is written when the block ends without an error."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.directory / LOCK_FILE, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                changes = self.read()
                known = len(changes)
                yield changes
                if len(changes) != known:
                    self._write(changes)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, changes: list[Change]) -> None:
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(orjson.dumps({"changes": changes}))
        os.replace(temporary, self.path)


class ModelSync:
    """Applies the change log to one process's :class:`ServiceRuntime` (its models and routing
    policies), exactly once per change."""

    def __init__(self, runtime: ServiceRuntime, log: ChangeLog) -> None:
        self.runtime = runtime
        self.log = log
        self._applied = 0
        self._seen: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def sync(self) -> None:
        """Replay the changes other workers made since the last look (cheap when none)."""
        signature = self.log.signature()
        if signature == self._seen:
            return
        with self._lock:
            self._catch_up(self.log.read())
            self._seen = signature

    def change(self, change: Change) -> Any:
        """Apply ``change`` here, then record it for the other workers; return its result.

        A change that fails here is not recorded, so no worker applies it.
        """
        with self.log.locked() as changes, self._lock:
            self._catch_up(changes)
            result = apply_change(self.runtime, change)
            changes.append(change)
            self._applied = len(changes)
        return result

    def _catch_up(self, changes: list[Change]) -> None:
        for change in changes[self._applied :]:
            try:
                apply_change(self.runtime, change, replaying=True)
            except (ServingError, ModelLoadError, LookupError) as error:
                logger.error("Admin change %s failed in worker %d: %s", change, os.getpid(), error)
                failure = LoadFailure(f"admin change {change}", str(error))
                self.runtime.manager.failures.append(failure)
        self._applied = max(self._applied, len(changes))


def apply_change(runtime: ServiceRuntime, change: Change, replaying: bool = False) -> Any:
    """Apply one ``{"action": "load" | "unload" | "reload" | "routing", ...}`` change.

    A ``routing`` change is ``{"name", "policy": document}`` (a new policy) or ``{"name",
    "rollback": true}``; see :mod:`model_service.routing_api`.
    """
    manager = runtime.manager
    action = change["action"]
    if action == "load":
        model_class, source = import_model_class(change["spec"])
        return manager.add_model_class(model_class, source, replace=replaying)
    if action == "routing":
        if change.get("rollback"):
            try:
                return runtime.rollback_routing(change["name"])
            except LookupError:
                raise Conflict(
                    f"{change['name']} has no earlier routing policy to roll back to.",
                    "no_previous_policy",
                ) from None
        return runtime.set_routing(change["name"], change["policy"])
    try:
        if action == "unload":
            return _unload(runtime, change["name"], change.get("version"))
        return manager.reload(change["name"], change.get("version"))
    except ModelNotFound:
        if replaying:  # already gone here: the log's end state is what counts
            return []
        raise


def _unload(runtime: ServiceRuntime, name: str, version: str | None) -> list[Any]:
    """Unload a version the routing policy does not name (409 otherwise), or a whole model
    (its policy goes with it)."""
    policy = runtime.routing.get(name)
    if version is not None and policy is not None and version in policy.versions():
        raise Conflict(
            f"{name} {version} is named by the model's routing policy "
            f"({orjson.dumps(policy.to_dict()).decode()}); change the policy before unloading it.",
            "routed_version",
        )
    removed = runtime.manager.unload(name, version)
    if version is None:
        runtime.forget_routing(name)
    return removed


# --- HTTP ------------------------------------------------------------------------------------


def require_admin_token() -> None:
    """Refuse the request unless it carries the admin token (see the module docstring)."""
    token: str | None = current_app.config.get("ADMIN_TOKEN")
    if not token:
        raise Forbidden(
            "The admin API is disabled: set the ADMIN_TOKEN setting "
            "(MODEL_SERVICE_ADMIN_TOKEN) to enable it."
        )
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not offered.strip():
        raise Unauthorized("Send the admin token as 'Authorization: Bearer <token>'.")
    if not hmac.compare_digest(offered.strip().encode(), token.encode()):
        raise Forbidden("The admin token is wrong.")


admin.before_request(require_admin_token)


def _model_sync() -> ModelSync:
    sync: ModelSync = current_app.extensions[ADMIN_EXTENSION_KEY]
    return sync


def _load_refused(message: str) -> ServingError:
    return ServingError(message, [], HTTPStatus.BAD_REQUEST, "model_load_error")


def run_change(change: Change) -> Any:
    try:
        return _model_sync().change(change)
    except ServingError:
        raise
    except ModelLoadError as error:
        raise _load_refused(str(error)) from None
    except Exception as error:  # a model module or class that breaks while importing or loading
        logger.exception("Admin change %s failed", change)
        raise _load_refused(f"The model failed to load: {type(error).__name__}: {error}") from None


def _load_spec() -> dict[str, str]:
    return check_load_spec(read_json_body(request, "Send the model to load as a JSON object."))


def check_load_spec(spec: Any) -> dict[str, str]:
    """``spec`` if it names a model class to load (see :func:`load_model`), else 400."""
    keys = ({"entry_point"}, {"module_name", "class_name"})
    valid = isinstance(spec, dict) and set(spec) in keys
    names_ok = valid and all(isinstance(v, str) and 0 < len(v) <= 200 for v in spec.values())
    if not names_ok:
        raise InvalidInput(
            'Name the model class as {"module_name": "package.module", "class_name": "Name"} '
            'or {"entry_point": "name"}.'
        )
    return dict(spec)


def _summaries(served: list[Any]) -> list[dict[str, Any]]:
    return [{**model.summary(), "source": model.source} for model in served]


@admin.post("/models")
def load_model() -> Response:
    """Load a model class beside the served ones; 201 with what is now served."""
    served = run_change({"action": "load", "spec": _load_spec()})
    return json_response({"loaded": _summaries([served])[0]}, status=201)


@admin.delete("/models/<name>", defaults={"version": None})
@admin.delete("/models/<name>/versions/<version>")
def unload_model(name: str, version: str | None) -> Response:
    """Stop serving every version of a model, or one."""
    removed = run_change({"action": "unload", "name": name, "version": version})
    return json_response({"unloaded": _summaries(removed)})


@admin.post("/models/<name>/reload", defaults={"version": None})
@admin.post("/models/<name>/versions/<version>/reload")
def reload_model(name: str, version: str | None) -> Response:
    """Instantiate a model again (re-reading its artifacts) and swap it in."""
    fresh = run_change({"action": "reload", "name": name, "version": version})
    return json_response({"reloaded": _summaries(fresh)})


def state_directory(settings: Mapping[str, Any]) -> Path:
    """``ADMIN_STATE_DIR``, or a fresh private path that workers forked from this process share."""
    configured = settings.get("ADMIN_STATE_DIR")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / f"model-service-admin-{uuid.uuid4().hex}"


def init_app(app: Flask) -> None:
    """Register the admin endpoints; with an ``ADMIN_TOKEN``, keep this worker in step with the
    change log before each request."""
    app.register_blueprint(admin)
    if not app.config.get("ADMIN_TOKEN"):
        return
    sync = ModelSync(app.extensions[EXTENSION_KEY], ChangeLog(state_directory(app.config)))
    app.extensions[ADMIN_EXTENSION_KEY] = sync
    app.before_request(sync.sync)
