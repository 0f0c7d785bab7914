"""Azure ML scoring script for a linear Iris classifier in PyTorch.

The Azure ML inference server imports this file and calls init() once when the container starts,
then run(raw_data) for every request with the request body as a string. The weights are plain
JSON (a 4 -> 3 torch.nn.Linear), so the example needs no pickle and loads with any torch version.
"""
import json
import os

import torch

model = None
classes = None


def _weights_file():
    # The registered model folder is mounted below AZUREML_MODEL_DIR; find weights.json in it.
    root = os.getenv("AZUREML_MODEL_DIR", os.path.dirname(os.path.abspath(__file__)))
    for folder, _, files in os.walk(root):
        if "weights.json" in files:
            return os.path.join(folder, "weights.json")
    raise FileNotFoundError(f"weights.json not found under {root}")


def init():
    global model, classes
    with open(_weights_file()) as f:
        spec = json.load(f)
    layer = torch.nn.Linear(len(spec["weight"][0]), len(spec["weight"]))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(spec["weight"], dtype=torch.float32))
        layer.bias.copy_(torch.tensor(spec["bias"], dtype=torch.float32))
    model = layer.eval()
    classes = spec["classes"]


def run(raw_data):
    instances = json.loads(raw_data)["instances"]
    with torch.no_grad():
        scores = model(torch.tensor(instances, dtype=torch.float32))
    return {"predictions": [classes[i] for i in scores.argmax(dim=1).tolist()]}
