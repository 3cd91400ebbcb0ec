"""With ``--grpc-port`` on, readiness includes whether the gRPC server accepts connections."""

from __future__ import annotations

import socket
from typing import Any

from model_service import create_app
from tests.support import free_port


def _ready(settings: dict[str, Any], port: int) -> Any:
    app = create_app({**settings, "GRPC_PORT": port, "GRPC_HOST": "127.0.0.1"})
    return app.test_client().get("/api/health/ready")


def test_not_ready_while_nothing_listens_on_the_grpc_port(settings: dict[str, Any]) -> None:
    port = free_port()
    response = _ready(settings, port)
    assert response.status_code == 503
    assert (
        f"the gRPC server on port {port} does not accept connections"
        in (response.get_json()["reasons"])
    )


def test_ready_when_the_grpc_port_accepts(settings: dict[str, Any]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        response = _ready(settings, port)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["grpc"] == {"port": port, "accepting": True}


def test_without_grpc_readiness_does_not_mention_it(settings: dict[str, Any]) -> None:
    assert "grpc" not in create_app(settings).test_client().get("/api/health/ready").get_json()
