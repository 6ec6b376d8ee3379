#!/usr/bin/python3
"""Generate the compute-bound benchmark model examples/models/convnet.

Regenerate (from the repository root) with:

    /usr/bin/python3 examples/generate_convnet.py

Options:
    --out DIR   output folder (default: the ``models`` folder beside this script)

Requirements: the Debian packages python3-onnx and python3-numpy. No network
access and no onnxruntime are needed.

Model written:
    convnet/1/model.onnx   small ResNet-style convnet with random weights,
                           images float32 [batch, 3, 64, 64] -> scores float32
                           [batch, 10] (softmax probabilities)
    convnet/README.md      short description (signature, FLOPs, size)

The weights are random (seeded): the model exists to measure serving speed
on a compute-bound graph, not to classify anything.

Architecture (every Conv is followed by a folded batch norm, i.e. the
per-channel scale and shift are baked into the Conv weight and bias, so the
graph has no BatchNormalization nodes):

    stem     Conv 3x3 stride 2, 3 -> 32, Relu                 64x64 -> 32x32
    stage 1  1 basic block, 32 channels                       32x32
    stage 2  2 basic blocks, 64 channels, first has stride 2  16x16
    stage 3  2 basic blocks, 96 channels, first has stride 2   8x8
    head     GlobalAveragePool, Flatten, Gemm 96 -> 10, Softmax

A basic block is Conv3x3-Relu-Conv3x3 plus a skip connection (identity, or
a 1x1 stride-2 Conv projection where the shape changes), Add, Relu.

FLOP counting: one multiply-add counts as 2 FLOPs. Conv and Gemm FLOPs are
2 * (output elements) * (kernel_h * kernel_w * input channels), plus one FLOP
per output element for the bias add. Relu, Add, GlobalAveragePool and
Softmax are counted at one FLOP per element read (they are well under 1% of
the total). The script prints the per-layer table and the total.

Totals: 146.8 MFLOPs per sample (146.6 of them in Conv/Gemm), 462,506
parameters, a 1.86 MB model file.

Self-check (there is no onnxruntime here): a numpy im2col convolution is
first checked against a naive loop convolution; then the network is run in
numpy straight from the generated parameters and, separately, by
interpreting the serialized ONNX graph node by node, on 2 random images. The
two must agree, and the scores must be finite, sum to 1 and vary. This
checks the script's own math and graph wiring, not an ONNX runtime.

Running the script twice produces byte-identical files (seeded RNG, no
timestamps in the model).
"""

import os

# Pin BLAS to one thread before numpy is imported so that the numpy
# self-check does its floating-point reductions in a fixed order.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import hashlib  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

OPSET = 13
IR_VERSION = 7
PRODUCER = "grid-examples-generator"
PRODUCER_VERSION = "1"

SEED = 20240613
IMAGE_SIZE = 64
IN_CHANNELS = 3
NUM_CLASSES = 10
STEM_CHANNELS = 32
# (channels, number of basic blocks, stride of the first block)
STAGES = [(32, 1, 1), (64, 2, 2), (96, 2, 2)]
BN_EPS = 1e-5


# --------------------------------------------------------------------------
# Network description with random weights
# --------------------------------------------------------------------------

class Conv:
    """A Conv with batch norm already folded into (weight, bias)."""

    def __init__(self, name, weight, bias, stride, pad):
        self.name = name
        self.weight = weight  # float32 [out, in, kh, kw]
        self.bias = bias      # float32 [out]
        self.stride = stride
        self.pad = pad


def folded_conv(rng, name, c_in, c_out, k, stride, gamma_scale=1.0):
    """He-initialised conv followed by a random batch norm, folded together.

    gamma_scale < 1 damps the last conv of a residual branch so that the
    variance grows only mildly from block to block.
    """
    fan_in = c_in * k * k
    w = rng.standard_normal((c_out, c_in, k, k)) * np.sqrt(2.0 / fan_in)
    gamma = rng.uniform(0.8, 1.2, c_out) * gamma_scale
    beta = rng.normal(0.0, 0.05, c_out)
    mean = rng.normal(0.0, 0.05, c_out)
    var = rng.uniform(0.8, 1.2, c_out)
    scale = gamma / np.sqrt(var + BN_EPS)
    weight = (w * scale[:, None, None, None]).astype(np.float32)
    bias = (beta - mean * scale).astype(np.float32)
    return Conv(name, weight, bias, stride, k // 2)


def build_params(rng):
    stem = folded_conv(rng, "stem", IN_CHANNELS, STEM_CHANNELS, 3, 2)
    blocks = []
    c_in = STEM_CHANNELS
    for s, (c_out, n_blocks, first_stride) in enumerate(STAGES, start=1):
        for b in range(1, n_blocks + 1):
            stride = first_stride if b == 1 else 1
            prefix = "stage%d_block%d" % (s, b)
            conv1 = folded_conv(rng, prefix + "_conv1", c_in, c_out, 3, stride)
            conv2 = folded_conv(rng, prefix + "_conv2", c_out, c_out, 3, 1,
                                gamma_scale=0.5)
            proj = None
            if stride != 1 or c_in != c_out:
                proj = folded_conv(rng, prefix + "_proj", c_in, c_out, 1, stride)
            blocks.append((prefix, conv1, conv2, proj))
            c_in = c_out
    fc_w = (rng.standard_normal((NUM_CLASSES, c_in)) * np.sqrt(1.0 / c_in)).astype(np.float32)
    fc_b = rng.normal(0.0, 0.01, NUM_CLASSES).astype(np.float32)
    return stem, blocks, fc_w, fc_b


# --------------------------------------------------------------------------
# ONNX graph
# --------------------------------------------------------------------------

def float_init(name, array):
    return numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name)


def build_model(params):
    stem, blocks, fc_w, fc_b = params
    nodes, inits = [], []

    def conv(c, x, y):
        inits.append(float_init(c.name + "_W", c.weight))
        inits.append(float_init(c.name + "_B", c.bias))
        k = c.weight.shape[2]
        nodes.append(helper.make_node(
            "Conv", [x, c.name + "_W", c.name + "_B"], [y], name=c.name,
            kernel_shape=[k, k], strides=[c.stride, c.stride],
            pads=[c.pad, c.pad, c.pad, c.pad], dilations=[1, 1], group=1))
        return y

    def relu(x, y, name):
        nodes.append(helper.make_node("Relu", [x], [y], name=name))
        return y

    x = relu(conv(stem, "images", "stem_out"), "stem_relu", "stem_relu")
    for prefix, conv1, conv2, proj in blocks:
        h = relu(conv(conv1, x, prefix + "_c1"), prefix + "_r1", prefix + "_relu1")
        h = conv(conv2, h, prefix + "_c2")
        skip = conv(proj, x, prefix + "_skip") if proj is not None else x
        nodes.append(helper.make_node("Add", [h, skip], [prefix + "_sum"], name=prefix + "_add"))
        x = relu(prefix + "_sum", prefix + "_out", prefix + "_relu2")

    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"], name="pool"))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["features"], name="flatten", axis=1))
    inits.append(float_init("fc_W", fc_w))
    inits.append(float_init("fc_B", fc_b))
    nodes.append(helper.make_node("Gemm", ["features", "fc_W", "fc_B"], ["logits"], name="fc",
                                  alpha=1.0, beta=1.0, transA=0, transB=1))
    nodes.append(helper.make_node("Softmax", ["logits"], ["scores"], name="softmax", axis=1))

    images = helper.make_tensor_value_info(
        "images", TensorProto.FLOAT, ["batch", IN_CHANNELS, IMAGE_SIZE, IMAGE_SIZE])
    scores = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", NUM_CLASSES])
    graph = helper.make_graph(
        nodes, "convnet", [images], [scores], initializer=inits,
        doc_string="ResNet-style benchmark convnet with random weights (not trained)")
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version=PRODUCER_VERSION,
        doc_string="",
    )
    model.ir_version = IR_VERSION
    model.model_version = 1
    onnx.checker.check_model(model, full_check=True)
    return model


# --------------------------------------------------------------------------
# numpy reference (float32)
# --------------------------------------------------------------------------

def conv2d(x, w, b, stride, pad):
    """im2col convolution, NCHW, float32."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (wd + 2 * pad - kw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c, kh, kw, ho, wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride]
    cols = cols.reshape(n, c * kh * kw, ho * wo)
    y = np.matmul(w.reshape(o, c * kh * kw), cols) + b[None, :, None]
    return y.reshape(n, o, ho, wo).astype(x.dtype)


def conv2d_naive(x, w, b, stride, pad):
    """Direct loops over output positions (float64); checks conv2d."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (wd + 2 * pad - kw) // stride + 1
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    y = np.zeros((n, o, ho, wo))
    for p in range(ho):
        for q in range(wo):
            patch = xp[:, :, p * stride:p * stride + kh, q * stride:q * stride + kw]
            y[:, :, p, q] = np.tensordot(patch, w.astype(np.float64), axes=([1, 2, 3], [1, 2, 3]))
    return y + b[None, :, None, None]


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def relu(x):
    return np.maximum(x, np.float32(0.0))


def forward(params, x, stats=None):
    """The network, straight from the Python parameter objects."""
    stem, blocks, fc_w, fc_b = params

    def run(c, t):
        return conv2d(t, c.weight, c.bias, c.stride, c.pad)

    x = relu(run(stem, x))
    if stats is not None:
        stats.append(("stem", x))
    for prefix, conv1, conv2, proj in blocks:
        h = run(conv2, relu(run(conv1, x)))
        skip = run(proj, x) if proj is not None else x
        x = relu(h + skip)
        if stats is not None:
            stats.append((prefix, x))
    features = x.mean(axis=(2, 3))
    logits = features @ fc_w.T + fc_b
    if stats is not None:
        stats.append(("logits", logits))
    return softmax(logits)


def run_graph(model, x):
    """Interpret the serialized ONNX graph with numpy (checks the wiring)."""
    env = {"images": x}
    for init in model.graph.initializer:
        env[init.name] = numpy_helper.to_array(init)
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        ins = [env[i] for i in node.input]
        if node.op_type == "Conv":
            assert attrs["group"] == 1 and list(attrs["dilations"]) == [1, 1]
            s, p = attrs["strides"], attrs["pads"]
            assert len(set(s)) == 1 and len(set(p)) == 1
            assert list(attrs["kernel_shape"]) == list(ins[1].shape[2:])
            out = conv2d(ins[0], ins[1], ins[2], s[0], p[0])
        elif node.op_type == "Relu":
            out = relu(ins[0])
        elif node.op_type == "Add":
            out = ins[0] + ins[1]
        elif node.op_type == "GlobalAveragePool":
            out = ins[0].mean(axis=(2, 3), keepdims=True)
        elif node.op_type == "Flatten":
            out = ins[0].reshape(ins[0].shape[0], -1)
        elif node.op_type == "Gemm":
            assert attrs["transB"] == 1 and attrs.get("transA", 0) == 0
            out = ins[0] @ ins[1].T + ins[2]
        elif node.op_type == "Softmax":
            assert attrs["axis"] == 1
            out = softmax(ins[0])
        else:
            raise ValueError("unexpected op " + node.op_type)
        env[node.output[0]] = out
    return env[model.graph.output[0].name]


# --------------------------------------------------------------------------
# FLOPs and parameters
# --------------------------------------------------------------------------

def layer_table(model):
    """Per-node (name, op, output shape, FLOPs, params) from shape inference."""
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + \
            list(inferred.graph.output):
        dims = [d.dim_value if d.HasField("dim_value") else 1
                for d in vi.type.tensor_type.shape.dim]
        shapes[vi.name] = dims
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    rows = []
    for node in model.graph.node:
        out_shape = shapes[node.output[0]]
        out_elems = int(np.prod(out_shape))
        in_elems = int(np.prod(shapes[node.input[0]]))
        params = sum(inits[i].size for i in node.input if i in inits)
        if node.op_type == "Conv":
            w = inits[node.input[1]]
            flops = out_elems * (2 * int(np.prod(w.shape[1:])) + 1)
        elif node.op_type == "Gemm":
            w = inits[node.input[1]]
            flops = out_elems * (2 * w.shape[1] + 1)
        elif node.op_type == "Add":
            flops = out_elems
        elif node.op_type == "Flatten":
            flops = 0
        else:
            flops = in_elems
        rows.append((node.name, node.op_type, out_shape[1:], flops, params))
    return rows


# --------------------------------------------------------------------------

def check_conv2d(rng):
    for stride, pad, k in ((1, 1, 3), (2, 1, 3), (2, 0, 1)):
        x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
        w = rng.standard_normal((4, 3, k, k)).astype(np.float32)
        b = rng.standard_normal(4).astype(np.float32)
        got = conv2d(x, w, b, stride, pad)
        want = conv2d_naive(x, w, b, stride, pad)
        assert got.shape == want.shape, (got.shape, want.shape)
        err = float(np.abs(got - want).max())
        assert err < 1e-4, err
    print("conv2d (im2col) matches the naive loop convolution")


def write_readme(path, rows, total_flops, n_params, file_size, sha):
    conv_rows = [r for r in rows if r[1] in ("Conv", "Gemm")]
    mac_flops = sum(r[3] for r in conv_rows)
    lines = [
        "# convnet: compute-bound benchmark model",
        "",
        "A small ResNet-style convolutional network with **random weights** (seeded,",
        "not trained): it exists to measure serving speed on a compute-bound graph;",
        "its predictions mean nothing.",
        "",
        "Generated by `/usr/bin/python3 examples/generate_convnet.py` (byte-identical",
        "on every run). ONNX opset %d, IR version %d." % (OPSET, IR_VERSION),
        "",
        "| | |",
        "|---|---|",
        "| Input | `images` float32 `[batch, 3, 64, 64]` (batch is dynamic) |",
        "| Output | `scores` float32 `[batch, 10]` (softmax probabilities) |",
        "| Compute | %.1f MFLOPs per sample (multiply-add = 2 FLOPs; Conv/Gemm "
        "%.1f, element-wise ops the rest) |" % (total_flops / 1e6, mac_flops / 1e6),
        "| Parameters | %d (float32 initializers) |" % n_params,
        "| File size | %d bytes (`1/model.onnx`) |" % file_size,
        "| sha256 | `%s` |" % sha,
        "",
        "Architecture (batch norm folded into the Conv weights and biases):",
        "",
        "- stem: Conv 3x3 stride 2, 3 -> %d, Relu (64x64 -> 32x32)" % STEM_CHANNELS,
    ]
    for s, (c, n, stride) in enumerate(STAGES, start=1):
        lines.append("- stage %d: %d basic block%s, %d channels%s" % (
            s, n, "s" if n > 1 else "", c, ", first block stride 2 with a 1x1 projection skip" if stride == 2 else ""))
    lines += [
        "- head: GlobalAveragePool, Flatten, Gemm %d -> 10, Softmax" % STAGES[-1][0],
        "",
        "A basic block is Conv3x3-Relu-Conv3x3 plus a skip (identity or 1x1 projection),",
        "Add, Relu.",
        "",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print("wrote %s" % path)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "models"))
    args = parser.parse_args()

    check_conv2d(np.random.default_rng(0))

    params = build_params(np.random.default_rng(SEED))
    model = build_model(params)
    data = model.SerializeToString()
    model_path = os.path.join(args.out, "convnet", "1", "model.onnx")
    os.makedirs(os.path.dirname(model_path), exist_ok=True)
    with open(model_path, "wb") as f:
        f.write(data)
    sha = hashlib.sha256(data).hexdigest()
    print("wrote %s (%d bytes, sha256 %s)" % (model_path, len(data), sha))

    # Reload from disk and check again (full check incl. strict shape inference).
    reloaded = onnx.load(model_path)
    onnx.checker.check_model(reloaded, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(reloaded, check_type=True, strict_mode=True)
    out_dims = [d.dim_param or d.dim_value
                for d in inferred.graph.output[0].type.tensor_type.shape.dim]
    print("checker (full_check) and strict shape inference ok; scores shape %s" % out_dims)

    rows = layer_table(reloaded)
    print("%-22s %-18s %-14s %12s %9s" % ("layer", "op", "output", "FLOPs", "params"))
    for name, op, shape, flops, n in rows:
        print("%-22s %-18s %-14s %12d %9d" % (name, op, "x".join(map(str, shape)), flops, n))
    total_flops = sum(r[3] for r in rows)
    mac_flops = sum(r[3] for r in rows if r[1] in ("Conv", "Gemm"))
    n_params = sum(numpy_helper.to_array(i).size for i in reloaded.graph.initializer)
    print("total: %.2f MFLOPs per sample (Conv/Gemm %.2f MFLOPs), %d parameters"
          % (total_flops / 1e6, mac_flops / 1e6, n_params))

    # Self-check: the numpy network from the parameters vs. the serialized graph.
    x = np.random.default_rng(1).uniform(0.0, 1.0, (2, IN_CHANNELS, IMAGE_SIZE, IMAGE_SIZE)) \
        .astype(np.float32)
    stats = []
    want = forward(params, x, stats)
    got = run_graph(reloaded, x)
    err = float(np.abs(got - want).max())
    print("activation std by layer (2 uniform [0, 1) images):")
    for name, t in stats:
        print("  %-16s std %.4f  max %.4f" % (name, float(t.std()), float(np.abs(t).max())))
    np.set_printoptions(precision=5, suppress=True, linewidth=120)
    print("scores for 2 random images:")
    print(got)
    assert got.shape == (2, NUM_CLASSES) and got.dtype == np.float32
    assert np.all(np.isfinite(got)), "non-finite scores"
    assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5), "rows do not sum to 1"
    assert float(np.ptp(got, axis=1).min()) > 1e-3, "scores are (nearly) constant within a row"
    assert float(np.abs(got[0] - got[1]).max()) > 1e-5, "both images give the same scores"
    assert err < 1e-6, "graph and numpy reference disagree: %g" % err
    print("graph interpretation matches the numpy reference (max abs diff %.3g)" % err)

    write_readme(os.path.join(args.out, "convnet", "README.md"), rows, total_flops, n_params,
                 len(data), sha)


if __name__ == "__main__":
    main()
