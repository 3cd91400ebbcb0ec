"""The benchmark's reference servers, as a user would write them by hand (no validation).

``gunicorn baselines:bare_app`` answers a fixed JSON document: the framework's own limit.
``gunicorn baselines:handwritten_app`` loads the iris pipeline and predicts the posted rows.
"""

from __future__ import annotations

import joblib
import numpy as np
from flask import Flask, jsonify, request

from iris_model.features import FEATURES, SPECIES
from iris_model.model import ARTIFACT

bare_app = Flask("bare")


@bare_app.post("/predict")
def fixed_answer():  # type: ignore[no-untyped-def]
    return jsonify({"species": "setosa", "probabilities": {"setosa": 0.97, "versicolor": 0.03}})


handwritten_app = Flask("handwritten")
pipeline = joblib.load(ARTIFACT)


@handwritten_app.post("/predict")
def predict():  # type: ignore[no-untyped-def]
    data = request.get_json()
    rows = data if isinstance(data, list) else [data]
    features = np.array([[row[name] for name in FEATURES] for row in rows], dtype=float)
    results = [
        {
            "species": SPECIES[int(p.argmax())],
            "probabilities": dict(zip(SPECIES, p.tolist(), strict=True)),
        }
        for p in pipeline.predict_proba(features)
    ]
    return jsonify(results if isinstance(data, list) else results[0])
