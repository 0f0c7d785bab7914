#!/usr/bin/env python3
"""Writes model/model.bst for this example: a real XGBoost booster trained on the Iris data set.

    python3 make-model.py            # needs xgboost and scikit-learn (for load_iris)

One boosting round of depth-2 trees, one tree per class (multi:softprob), learning rate 1.0 so
that a single round already gives confident class probabilities. The booster is saved in
XGBoost's JSON format under the name the Vertex AI prebuilt XGBoost container loads, model.bst:
XGBoost reads a model file by its content (a JSON document starts with `{"`), not its extension.
"""
from pathlib import Path

import xgboost as xgb
from sklearn.datasets import load_iris

HERE = Path(__file__).resolve().parent

X, y = load_iris(return_X_y=True)
booster = xgb.train(
    {"objective": "multi:softprob", "num_class": 3, "max_depth": 2, "eta": 1.0, "seed": 0},
    xgb.DMatrix(X, label=y),
    num_boost_round=1,
)
# save_model picks the format by extension: write JSON, then give it the container's file name.
json_path = HERE / "model" / "model.json"
booster.save_model(str(json_path))
json_path.replace(HERE / "model" / "model.bst")

check = xgb.Booster(model_file=str(HERE / "model" / "model.bst"))
print(check.predict(xgb.DMatrix([[5.1, 3.5, 1.4, 0.2]])).tolist())  # [[0.8126..., 0.0943..., 0.0929...]]
