#!/usr/bin/python3
"""Generate the example ONNX models served by Grid.

Regenerate (from the repository root) with:

    /usr/bin/python3 examples/generate_models.py

Options:
    --out DIR   output folder (default: the ``models`` folder beside this script)
    --data DIR  Fashion-MNIST idx files (default: /usr/share/datasets/fashion-mnist)

Requirements: the Debian packages python3-onnx, python3-numpy and
dataset-fashion-mnist. No network access is needed.

Models written:
    half_plus_two/123/model.onnx  y = 0.5 * x + 2, x/y float32 [batch, 1]
    fashion/1/model.onnx          linear softmax classifier (multinomial
                                  logistic regression), images float32
                                  [batch, 784] in [0, 1] -> scores float32
                                  [batch, 10] (softmax probabilities)
    fashion/2/model.onnx          MLP 784-256-10 with ReLU, same signature
    fashion/ACCURACY.md           accuracy on the Fashion-MNIST test set

Training is seeded and single-threaded, so running the script twice on the
same machine produces byte-identical files.
"""

import os

# Pin BLAS to one thread before numpy is imported so that floating-point
# reductions happen in a fixed order (reproducible weights).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gzip  # noqa: E402
import struct  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

OPSET = 13
IR_VERSION = 7
PRODUCER = "grid-examples-generator"
PRODUCER_VERSION = "1"

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


# --------------------------------------------------------------------------
# ONNX helpers
# --------------------------------------------------------------------------

def make_model(graph):
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version=PRODUCER_VERSION,
        doc_string="",
    )
    model.ir_version = IR_VERSION
    model.model_version = 1
    onnx.checker.check_model(model)
    return model


def save_model(model, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))


def float_init(name, array):
    return numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name)


def half_plus_two_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])
    nodes = [
        helper.make_node("Mul", ["x", "half"], ["x_half"], name="mul"),
        helper.make_node("Add", ["x_half", "two"], ["y"], name="add"),
    ]
    inits = [float_init("half", np.array([0.5])), float_init("two", np.array([2.0]))]
    graph = helper.make_graph(nodes, "half_plus_two", [x], [y], initializer=inits,
                              doc_string="y = 0.5 * x + 2")
    return make_model(graph)


def classifier_io():
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 784])
    scores = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 10])
    return images, scores


def linear_model(W, b):
    images, scores = classifier_io()
    nodes = [
        helper.make_node("MatMul", ["images", "W"], ["logits_mm"], name="matmul"),
        helper.make_node("Add", ["logits_mm", "b"], ["logits"], name="add"),
        helper.make_node("Softmax", ["logits"], ["scores"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "fashion_linear", [images], [scores],
        initializer=[float_init("W", W), float_init("b", b)],
        doc_string="Fashion-MNIST linear softmax classifier")
    return make_model(graph)


def mlp_model(W1, b1, W2, b2):
    images, scores = classifier_io()
    nodes = [
        helper.make_node("MatMul", ["images", "W1"], ["h_mm"], name="matmul1"),
        helper.make_node("Add", ["h_mm", "b1"], ["h_pre"], name="add1"),
        helper.make_node("Relu", ["h_pre"], ["h"], name="relu1"),
        helper.make_node("MatMul", ["h", "W2"], ["logits_mm"], name="matmul2"),
        helper.make_node("Add", ["logits_mm", "b2"], ["logits"], name="add2"),
        helper.make_node("Softmax", ["logits"], ["scores"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "fashion_mlp", [images], [scores],
        initializer=[float_init("W1", W1), float_init("b1", b1),
                     float_init("W2", W2), float_init("b2", b2)],
        doc_string="Fashion-MNIST MLP 784-256-10 (ReLU) classifier")
    return make_model(graph)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError("%s: unsupported idx header" % path)
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load_fashion(data_dir):
    def images(name):
        raw = read_idx(os.path.join(data_dir, name))
        return (raw.reshape(raw.shape[0], -1).astype(np.float32) / np.float32(255.0))

    def labels(name):
        return read_idx(os.path.join(data_dir, name)).astype(np.int64)

    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


# --------------------------------------------------------------------------
# Training (numpy, float32)
# --------------------------------------------------------------------------

def softmax(z):
    # Same arithmetic as ONNX Softmax: exp(z - max) / sum(exp(z - max)).
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Adam:
    def __init__(self, params, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = params
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        c1 = 1.0 - self.beta1 ** self.t
        c2 = 1.0 - self.beta2 ** self.t
        step = np.float32(self.lr * np.sqrt(c2) / c1)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            p -= step * m / (np.sqrt(v) + np.float32(self.eps))


def one_hot(y, n=10):
    out = np.zeros((y.shape[0], n), dtype=np.float32)
    out[np.arange(y.shape[0]), y] = 1.0
    return out


def train_linear(x, y, rng, epochs=8, batch=128, lr=1e-3, l2=1e-4):
    W = np.zeros((784, 10), dtype=np.float32)
    b = np.zeros((10,), dtype=np.float32)
    opt = Adam([W, b], lr)
    n = x.shape[0]
    for epoch in range(epochs):
        perm = rng.permutation(n)
        for start in range(0, n, batch):
            idx = perm[start:start + batch]
            xb, yb = x[idx], one_hot(y[idx])
            p = softmax(xb @ W + b)
            d = (p - yb) / np.float32(xb.shape[0])
            gW = xb.T @ d + np.float32(l2) * W
            gb = d.sum(axis=0)
            opt.step([gW, gb])
        opt.lr *= 0.7
        print("  linear epoch %d/%d done" % (epoch + 1, epochs))
    return W, b


def train_mlp(x, y, rng, hidden=256, epochs=12, batch=128, lr=1e-3, l2=1e-5):
    W1 = (rng.standard_normal((784, hidden)) * np.sqrt(2.0 / 784)).astype(np.float32)
    b1 = np.zeros((hidden,), dtype=np.float32)
    W2 = (rng.standard_normal((hidden, 10)) * np.sqrt(2.0 / hidden)).astype(np.float32)
    b2 = np.zeros((10,), dtype=np.float32)
    opt = Adam([W1, b1, W2, b2], lr)
    n = x.shape[0]
    for epoch in range(epochs):
        perm = rng.permutation(n)
        for start in range(0, n, batch):
            idx = perm[start:start + batch]
            xb, yb = x[idx], one_hot(y[idx])
            h_pre = xb @ W1 + b1
            h = np.maximum(h_pre, np.float32(0.0))
            p = softmax(h @ W2 + b2)
            d2 = (p - yb) / np.float32(xb.shape[0])
            gW2 = h.T @ d2 + np.float32(l2) * W2
            gb2 = d2.sum(axis=0)
            d1 = (d2 @ W2.T) * (h_pre > 0)
            gW1 = xb.T @ d1 + np.float32(l2) * W1
            gb1 = d1.sum(axis=0)
            opt.step([gW1, gb1, gW2, gb2])
        if epoch >= 3:
            opt.lr *= 0.75
        print("  mlp epoch %d/%d done" % (epoch + 1, epochs))
    return W1, b1, W2, b2


# Inference with exactly the graph's arithmetic (float32 throughout).
def predict_linear(x, W, b):
    return softmax(np.matmul(x, W) + b)


def predict_mlp(x, W1, b1, W2, b2):
    h = np.maximum(np.matmul(x, W1) + b1, np.float32(0.0))
    return softmax(np.matmul(h, W2) + b2)


def evaluate(scores, labels):
    pred = scores.argmax(axis=1)
    acc_all = float((pred == labels).mean())
    err_1000 = float((pred[:1000] != labels[:1000]).mean())
    return acc_all, err_1000


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "models"))
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    out = args.out
    t0 = time.time()

    save_model(half_plus_two_model(), os.path.join(out, "half_plus_two", "123", "model.onnx"))

    x_train, y_train, x_test, y_test = load_fashion(args.data)
    print("loaded Fashion-MNIST: train %s, test %s" % (x_train.shape, x_test.shape))

    results = []

    print("training fashion/1 (linear softmax, Adam)")
    W, b = train_linear(x_train, y_train, np.random.default_rng(1))
    save_model(linear_model(W, b), os.path.join(out, "fashion", "1", "model.onnx"))
    results.append((1, "Linear softmax (multinomial logistic regression), 784-10",
                    evaluate(predict_linear(x_test, W, b), y_test)))

    print("training fashion/2 (MLP 784-256-10, Adam)")
    params = train_mlp(x_train, y_train, np.random.default_rng(2))
    save_model(mlp_model(*params), os.path.join(out, "fashion", "2", "model.onnx"))
    results.append((2, "MLP 784-256-10, ReLU, softmax",
                    evaluate(predict_mlp(x_test, *params), y_test)))

    lines = [
        "# Fashion-MNIST example models: accuracy",
        "",
        "Generated by `/usr/bin/python3 examples/generate_models.py`. Both models are",
        "trained on the 60000-image Fashion-MNIST training set and evaluated here with",
        "numpy using the same float32 arithmetic as the ONNX graphs (argmax of `scores`).",
        "",
        "| Version | Model | Test-set accuracy (10000 images) | Error rate, first 1000 test images |",
        "|---|---|---|---|",
    ]
    for version, name, (acc, err) in results:
        print("fashion/%d: test accuracy %.4f (10000 images), error rate %.4f "
              "(first 1000 test images)" % (version, acc, err))
        lines.append("| %d | %s | %.2f%% | %.1f%% |" % (version, name, acc * 100, err * 100))
    lines.append("")
    md_path = os.path.join(out, "fashion", "ACCURACY.md")
    with open(md_path, "w") as f:
        f.write("\n".join(lines))
    print("wrote %s" % md_path)
    print("onnxruntime checks skipped (numpy evaluation only)")
    print("total time %.1f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
