#!/usr/bin/env python3
"""Generates the TorchScript test models (run with Debian's python3-torch: /usr/bin/python3).

tiny_torch/1: y = softmax(x W^T + b) over 3 classes for x of shape [batch, 4], with
W[i][j] = (4i + j) / 10 - 0.5 and b[i] = i / 10, so tests can compute the expected values.
Traced with torch.jit.trace; signature.json names the forward's input and output.
tiny_onnx/1: the same module exported to ONNX (input x, output probabilities), its twin for
tests that compare the engines or swap one for the other.
alloc_torch/1: a scripted module that allocates as many float32 elements as its input asks
(mebibytes [batch, 1], the first row counts) on the input's device and returns their sum per
row, so a test can make one request run out of memory (CPU or CUDA) and check that only that
request fails. Scripted with torch.jit.script: the size depends on the input's value.
"""
import json
import os

import torch


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor([[(4 * i + j) / 10 - 0.5 for j in range(4)] for i in range(3)]))
            self.fc.bias.copy_(torch.tensor([i / 10 for i in range(3)]))

    def forward(self, x):
        return torch.softmax(self.fc(x), dim=1)


class Alloc(torch.nn.Module):
    def forward(self, mebibytes: torch.Tensor) -> torch.Tensor:
        elements = int(mebibytes[0, 0].item()) * 262144
        block = torch.ones(elements, dtype=torch.float32, device=mebibytes.device)
        return (mebibytes * 0.0 + block.sum()).to(torch.float32)


def write_signature(out, inputs, outputs):
    signature = {"inputs": inputs, "outputs": outputs}
    with open(os.path.join(out, "signature.json"), "w") as f:
        json.dump(signature, f, indent=2)
        f.write("\n")


def alloc_model(here):
    out = os.path.join(here, "alloc_torch", "1")
    os.makedirs(out, exist_ok=True)
    torch.jit.script(Alloc().eval()).save(os.path.join(out, "model.pt"))
    write_signature(out, [{"name": "mebibytes", "dtype": "float32", "shape": [-1, 1]}],
                    [{"name": "sum", "dtype": "float32", "shape": [-1, 1]}])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    alloc_model(here)
    out = os.path.join(here, "tiny_torch", "1")
    os.makedirs(out, exist_ok=True)
    model = Tiny().eval()
    traced = torch.jit.trace(model, torch.zeros(2, 4))
    traced.save(os.path.join(out, "model.pt"))
    signature = {
        "inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 4]}],
        "outputs": [{"name": "probabilities", "dtype": "float32", "shape": [-1, 3]}],
    }
    with open(os.path.join(out, "signature.json"), "w") as f:
        json.dump(signature, f, indent=2)
        f.write("\n")
    onnx_out = os.path.join(here, "tiny_onnx", "1")
    os.makedirs(onnx_out, exist_ok=True)
    torch.onnx.export(model, torch.zeros(2, 4), os.path.join(onnx_out, "model.onnx"),
                      input_names=["x"], output_names=["probabilities"],
                      dynamic_axes={"x": {0: "batch"}, "probabilities": {0: "batch"}}, opset_version=13)


if __name__ == "__main__":
    main()
