"""Iris species classifier: the first example model package for model-service."""

from iris_model.model import IrisModel

__all__ = ["IrisModel"]
