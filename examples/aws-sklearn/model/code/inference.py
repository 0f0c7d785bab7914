"""SageMaker scikit-learn container handlers (script mode) for a linear Iris scorer.

The container imports this file (SAGEMAKER_PROGRAM=inference.py) and calls model_fn once, then
input_fn / predict_fn / output_fn per request. The model is plain JSON, so the example needs no
pickle and loads in any scikit-learn container version.
"""
import json
import os

import numpy as np


def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        spec = json.load(f)
    return {"coef": np.array(spec["coef"]), "intercept": np.array(spec["intercept"]), "classes": spec["classes"]}


def input_fn(body, content_type):
    if content_type != "application/json":
        raise ValueError(f"unsupported content type {content_type}; send application/json")
    return np.array(json.loads(body)["instances"], dtype=float)


def predict_fn(rows, model):
    scores = rows @ model["coef"].T + model["intercept"]
    return [model["classes"][i] for i in scores.argmax(axis=1)]


def output_fn(predictions, accept):
    return json.dumps({"predictions": predictions}), "application/json"
