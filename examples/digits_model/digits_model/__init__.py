"""Handwritten digit classifier on 8x8 images: an example model package for model-service."""

from digits_model.model import DigitsModel

__all__ = ["DigitsModel"]
