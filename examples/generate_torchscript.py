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
    convnet_torch/1/model.pt        the TorchScript twin of convnet/1 (the compute-bound
                                    ResNet-style benchmark convnet, 146.8 MFLOPs per sample,
                                    1.9 MB of weights): images float32 [batch, 3, 64, 64] ->
                                    scores float32 [batch, 10]; built by replaying convnet/1's
                                    ONNX graph node by node with its initializers as buffers
    convnet_torch/1/signature.json  its input and output

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


class OnnxGraphReplay(torch.nn.Module):
    """Runs an ONNX graph's nodes in order with torch ops; the initializers become buffers.

    Only the operators convnet/1 uses are supported (Conv, Relu, Add, GlobalAveragePool,
    Flatten, Gemm, Softmax); anything else stops the script. Tracing it records the torch ops,
    so the saved module has no trace of ONNX left in it.
    """

    def __init__(self, graph):
        super().__init__()
        self.nodes = []
        self.names = {}
        for i, init in enumerate(graph.initializer):
            buffer = "w%d" % i
            self.register_buffer(buffer, torch.from_numpy(numpy_helper.to_array(init).copy()))
            self.names[init.name] = buffer
        for node in graph.node:
            if node.op_type not in ("Conv", "Relu", "Add", "GlobalAveragePool", "Flatten", "Gemm", "Softmax"):
                raise SystemExit("unsupported ONNX operator " + node.op_type)
            attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            self.nodes.append((node.op_type, list(node.input), list(node.output)[0], attributes))
        self.input = graph.input[0].name
        self.output = graph.output[0].name

    def forward(self, images):
        values = {self.input: images}

        def value(name):
            return getattr(self, self.names[name]) if name in self.names else values[name]

        for op, inputs, output, a in self.nodes:
            x = [value(n) for n in inputs]
            if op == "Conv":
                pads = a.get("pads", [0, 0, 0, 0])
                if pads[0] != pads[2] or pads[1] != pads[3]:
                    raise SystemExit("asymmetric Conv padding is not supported")
                y = torch.nn.functional.conv2d(x[0], x[1], x[2] if len(x) > 2 else None,
                                               stride=a.get("strides", [1, 1]), padding=pads[:2],
                                               dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
            elif op == "Relu":
                y = torch.relu(x[0])
            elif op == "Add":
                y = x[0] + x[1]
            elif op == "GlobalAveragePool":
                y = x[0].mean(dim=(2, 3), keepdim=True)
            elif op == "Flatten":
                y = torch.flatten(x[0], start_dim=a.get("axis", 1))
            elif op == "Gemm":
                w = x[1].t() if a.get("transB", 0) else x[1]
                a_ = x[0].t() if a.get("transA", 0) else x[0]
                y = a.get("alpha", 1.0) * (a_ @ w) + a.get("beta", 1.0) * x[2]
            else:
                y = torch.softmax(x[0], dim=a.get("axis", -1))
            values[output] = y
        return values[self.output]


def write_signature(out, input_shape, output_shape):
    signature = {
        "inputs": [{"name": "images", "dtype": "float32", "shape": input_shape}],
        "outputs": [{"name": "scores", "dtype": "float32", "shape": output_shape}],
    }
    with open(os.path.join(out, "signature.json"), "w") as f:
        json.dump(signature, f, indent=2)
        f.write("\n")


def convnet_twin(here):
    graph = onnx.load(os.path.join(here, "models", "convnet", "1", "model.onnx")).graph
    module = OnnxGraphReplay(graph).eval()
    out = os.path.join(here, "models", "convnet_torch", "1")
    os.makedirs(out, exist_ok=True)
    example = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        traced = torch.jit.trace(module, example)
        probe = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(7))
        difference = (traced(probe) - module(probe)).abs().max().item()
    if difference > 1e-6:
        raise SystemExit("the traced convnet differs from the replayed graph by %g" % difference)
    traced.save(os.path.join(out, "model.pt"))
    write_signature(out, [-1, 3, 64, 64], [-1, 10])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    onnx_model = onnx.load(os.path.join(here, "models", "fashion", "2", "model.onnx"))
    weights = {i.name: numpy_helper.to_array(i).copy() for i in onnx_model.graph.initializer}
    module = FashionMlp(weights["W1"], weights["b1"], weights["W2"], weights["b2"]).eval()
    out = os.path.join(here, "models", "fashion_torch", "2")
    os.makedirs(out, exist_ok=True)
    torch.jit.trace(module, torch.zeros(1, 784)).save(os.path.join(out, "model.pt"))
    write_signature(out, [-1, 784], [-1, 10])
    convnet_twin(here)


if __name__ == "__main__":
    main()
