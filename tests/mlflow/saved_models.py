"""Models saved by the real MLflow library, as a data scientist would save them.

Used by the MLflow tests here and by the browser and server tests: each function trains a small
scikit-learn model and writes its MLflow directory under ``root``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

IRIS_SPECIES = ("setosa", "versicolor", "virginica")
TREE_TYPE = "sklearn.tree._tree.Tree"


def iris_frame() -> tuple[pd.DataFrame, pd.Series]:
    """scikit-learn's iris data with its own column names ("sepal length (cm)", ...)."""
    from sklearn.datasets import load_iris

    features, target = load_iris(return_X_y=True, as_frame=True)
    species = target.map(dict(enumerate(IRIS_SPECIES))).rename("species")
    return features, species


def save_with_signature(
    model: Any, path: Path, features: Any, example: Any, target: str | None = None, **options: Any
) -> Path:
    """Save ``model`` with the signature MLflow infers from ``features`` and its predictions
    (named ``target`` when given) and ``example`` as the input example."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    predictions = model.predict(features)
    if target is not None:
        predictions = pd.Series(predictions, name=target)
    signature = infer_signature(features, predictions)
    mlflow.sklearn.save_model(model, path, signature=signature, input_example=example, **options)
    return path


def save_iris_classifier(root: Path) -> Path:
    """A logistic regression with a signature and an input example (skops, MLflow's default)."""
    from sklearn.linear_model import LogisticRegression

    features, species = iris_frame()
    model = LogisticRegression(max_iter=500).fit(features, species)
    return save_with_signature(
        model, root / "iris_classifier", features, features.iloc[[0, 60]], target="species"
    )


def save_iris_forest(root: Path) -> Path:
    """A random forest: skops needs the tree type trusted to load it."""
    from sklearn.ensemble import RandomForestClassifier

    features, species = iris_frame()
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(features, species)
    return save_with_signature(
        model, root / "iris_forest", features, features.head(1), skops_trusted_types=[TREE_TYPE]
    )


def save_iris_tensor(root: Path) -> Path:
    """A classifier fitted on a NumPy array: its signature is one unnamed tensor of 4 numbers."""
    from sklearn.linear_model import LogisticRegression

    features = iris_frame()[0].to_numpy()
    targets = np.repeat([0, 1, 2], 50)
    model = LogisticRegression(max_iter=500).fit(features, targets)
    return save_with_signature(model, root / "iris_tensor", features, features[:2])


def rentals_frame(rows: int = 200) -> tuple[pd.DataFrame, np.ndarray]:
    """Bike rentals by moment, weather and temperature (synthetic, seeded)."""
    generator = np.random.default_rng(7)
    moments = pd.Timestamp("2026-01-01") + pd.to_timedelta(
        generator.integers(0, 365 * 24, rows), unit="h"
    )
    weather = generator.choice(["clear", "cloudy", "rain"], rows)
    temperature = generator.uniform(-5, 35, rows)
    frame = pd.DataFrame({"moment": moments, "weather": weather, "temperature": temperature})
    rentals = (
        50
        + 4 * temperature
        + 30 * (frame["moment"].dt.hour.between(7, 19))
        - 40 * (weather == "rain")
        + generator.normal(0, 5, rows)
    )
    return frame, np.asarray(rentals)


def hour_of_day(frame: pd.DataFrame) -> Any:
    """The feature the rentals pipeline derives from the datetime column."""
    return frame["moment"].dt.hour.to_frame()


def save_rentals_regressor(root: Path) -> Path:
    """A pipeline on a datetime, a string and a number column (cloudpickle: it holds a
    function of this module)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    frame, rentals = rentals_frame()
    features = ColumnTransformer(
        [
            ("hour", FunctionTransformer(hour_of_day), ["moment"]),
            ("weather", OneHotEncoder(handle_unknown="ignore"), ["weather"]),
            ("temperature", "passthrough", ["temperature"]),
        ]
    )
    model = Pipeline([("features", features), ("regress", Ridge())]).fit(frame, rentals)
    return save_with_signature(
        model, root / "rentals_regressor", frame, frame.head(2), serialization_format="cloudpickle"
    )


def save_without_signature(root: Path) -> Path:
    """A model saved with neither a signature nor an input example."""
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    features, species = iris_frame()
    path = root / "unsigned"
    mlflow.sklearn.save_model(LogisticRegression(max_iter=500).fit(features, species), path)
    return path
