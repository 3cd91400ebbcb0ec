"""The ``/v2`` blueprint: the Open Inference Protocol (V2) REST API of KServe, MLServer, Triton.

Every loaded model is served on the same ModelManager, validation and batching as ``/api``; only
the wire format differs: named tensors instead of JSON objects (see :mod:`.mapping`).
"""

from flask import Blueprint, Flask

v2 = Blueprint("v2", __name__, url_prefix="/v2")

from model_service.v2 import errors, repository, routes  # noqa: E402,F401  (registers the views)

errors.register_error_handlers(v2)


def init_app(app: Flask) -> None:
    """Register the ``/v2`` blueprint on ``app``."""
    app.register_blueprint(v2)
