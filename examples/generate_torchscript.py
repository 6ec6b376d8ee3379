#!/usr/bin/python3
"""Generate the TorchScript example models served by Grid's libtorch engine.

Regenerate (from the repository root, after examples/generate_models.py) with:

    /usr/bin/python3 examples/generate_torchscript.py

Requirements: the Debian packages python3-torch and python3-onnx. No network access.

Models written:
    fashion_torch/2/model.pt        the TorchScript twin of fashion/2 (MLP 784-256-10 with
                                    ReLU and softmax), its weights read from fashion/2's
                                    model.onnx: images float32 [batch, 784] -> scores float32
                                    [batch, 10], so the same clients work
    fashion_torch/2/signature.json  the forward's input and output, for Grid's metadata

The weights are copied, not trained, and the module is traced, so the file is the same on
every run.
"""

import json
import os

import onnx
import torch
from onnx import numpy_helper


class FashionMlp(torch.nn.Module):
    """scores = softmax(relu(images W1 + b1) W2 + b2), exactly fashion/2's ONNX graph."""

    def __init__(self, w1, b1, w2, b2):
        super().__init__()
        self.w1 = torch.nn.Parameter(torch.from_numpy(w1), requires_grad=False)
        self.b1 = torch.nn.Parameter(torch.from_numpy(b1), requires_grad=False)
        self.w2 = torch.nn.Parameter(torch.from_numpy(w2), requires_grad=False)
        self.b2 = torch.nn.Parameter(torch.from_numpy(b2), requires_grad=False)

    def forward(self, images):
        hidden = torch.relu(images @ self.w1 + self.b1)
        return torch.softmax(hidden @ self.w2 + self.b2, dim=1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    onnx_model = onnx.load(os.path.join(here, "models", "fashion", "2", "model.onnx"))
    weights = {i.name: numpy_helper.to_array(i).copy() for i in onnx_model.graph.initializer}
    module = FashionMlp(weights["W1"], weights["b1"], weights["W2"], weights["b2"]).eval()
    out = os.path.join(here, "models", "fashion_torch", "2")
    os.makedirs(out, exist_ok=True)
    torch.jit.trace(module, torch.zeros(1, 784)).save(os.path.join(out, "model.pt"))
    signature = {
        "inputs": [{"name": "images", "dtype": "float32", "shape": [-1, 784]}],
        "outputs": [{"name": "scores", "dtype": "float32", "shape": [-1, 10]}],
    }
    with open(os.path.join(out, "signature.json"), "w") as f:
        json.dump(signature, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
