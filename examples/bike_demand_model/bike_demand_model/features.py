"""The model's inputs and the feature engineering that the saved pipeline carries with it.

Everything that turns an input item into numbers lives in the pipeline built by
:func:`build_pipeline`, so training and serving cannot drift apart: the service hands the pipeline
the raw fields (a date string, category names, booleans and numbers) exactly as the client sent
them. :func:`calendar_features` is a module-level function so the fitted pipeline can be pickled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

SEASONS = ("winter", "spring", "summer", "autumn")
WEATHER = ("clear", "mist", "light_rain", "heavy_rain")
NUMBERS = ("temperature", "humidity", "wind_speed")
FLAGS = ("holiday", "working_day")
COLUMNS = ("date", "season", "weather", *FLAGS, *NUMBERS)
"""The input fields in the column order of the rows the pipeline takes."""


def calendar_features(dates: np.ndarray) -> np.ndarray:
    """Day of year (1-366) and weekday (Monday 0 - Sunday 6) of a column of ISO date strings."""
    days = np.asarray(dates).reshape(-1).astype("datetime64[D]")
    day_of_year = (days - days.astype("datetime64[Y]")).astype(np.int64) + 1
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01, day 0, was a Thursday
    return np.column_stack([day_of_year, weekday]).astype(float)


def to_rows(items: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """The rows the pipeline takes: one per item, the fields in :data:`COLUMNS` order."""
    return np.array([[item[name] for name in COLUMNS] for item in items], dtype=object)


def build_pipeline(seed: int) -> Pipeline:
    """Calendar features and one-hot categories, then gradient-boosted trees."""
    column = {name: index for index, name in enumerate(COLUMNS)}
    encode = ColumnTransformer(
        [
            ("calendar", FunctionTransformer(calendar_features), [column["date"]]),
            (
                "categories",
                OneHotEncoder(categories=[list(SEASONS), list(WEATHER)], sparse_output=False),
                [column["season"], column["weather"]],
            ),
            ("numbers", "passthrough", [column[name] for name in (*FLAGS, *NUMBERS)]),
        ]
    )
    regressor = GradientBoostingRegressor(
        n_estimators=200, learning_rate=0.06, max_depth=4, subsample=0.8, random_state=seed
    )
    return Pipeline([("encode", encode), ("regress", regressor)])
