"""Write the OpenAPI document for the configured models: ``make openapi``.

Usage: ``python scripts/generate_openapi.py [--output openapi.yaml] [--settings CLASS]``. The
app is built with the default settings (``APP_SETTINGS``, else ``config.DevelopmentConfig``: the
configured models plus every installed example model); the YAML has sorted keys, so the same
models always give the same file, and the tests compare the committed file with it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # config.py lives at the repository root

from model_service.openapi import openapi_command  # noqa: E402

if __name__ == "__main__":
    openapi_command.main(prog_name="generate_openapi.py")
