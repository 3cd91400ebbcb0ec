"""A model package of a user's own, outside ``examples/``, written to a directory by the test and
installed into an image derived from the project's one, as README's Production section shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE_NAME = "tally-model"
QUALIFIED_NAME = "tally_model"

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "tally-model"
version = "0.3.0"
requires-python = ">=3.11"
dependencies = ["model-service", "numpy"]

[project.entry-points."model_service.models"]
tally_model = "tally_model:TallyModel"

[tool.setuptools]
packages = ["tally_model"]
"""

MODULE = '''\
"""Sums and weights a list of counts; waits ``delay_s`` seconds first, so that a test can keep a
request in flight while the container is stopped."""

import time

import numpy
from schema import And, Schema

from model_service.fields import Length, Range
from model_service.ml_model import MLModel


class TallyModel(MLModel):
    qualified_name = "tally_model"
    display_name = "Tally"
    description = "Weighted sum of counts."
    version = "0.3.0"
    input_schema = Schema(
        {"counts": And([float], Length(1, 10)), "delay_s": And(float, Range(0, 20))}
    )
    output_schema = Schema({"total": float, "weighted": float})

    def predict(self, data):
        time.sleep(data["delay_s"])
        counts = numpy.asarray(data["counts"])
        weights = numpy.arange(1, len(counts) + 1)
        return {"total": float(counts.sum()), "weighted": float(counts @ weights)}

    def example_input(self):
        return {"counts": [1.0, 2.0, 3.5], "delay_s": 0.0}
'''

DERIVED_DOCKERFILE = """\
ARG BASE
FROM ${BASE}
USER root
COPY wheels /tmp/wheels
RUN pip install /tmp/wheels/*.whl && rm -rf /tmp/wheels
USER 10001:10001
"""
"""The README's derived Dockerfile, installing the package as a wheel built beforehand."""


def write_build_context(directory: Path) -> Path:
    """Write the package under ``directory``, build its wheel into ``directory/context/wheels``
    (as a user's CI would) and write the derived Dockerfile beside it; return the context."""
    package = directory / PACKAGE_NAME
    (package / "tally_model").mkdir(parents=True)
    (package / "pyproject.toml").write_text(PYPROJECT)
    (package / "tally_model" / "__init__.py").write_text(MODULE)
    context = directory / "context"
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run([*argv, "-q", "-w", str(context / "wheels"), str(package)], check=True)
    (context / "Dockerfile").write_text(DERIVED_DOCKERFILE)
    return context


def expected_prediction(counts: list[float]) -> dict[str, float]:
    """What :class:`TallyModel` answers, worked out independently of it."""
    return {
        "total": sum(counts),
        "weighted": sum(position * count for position, count in enumerate(counts, start=1)),
    }
