#!/usr/bin/python3
"""Generate the tiny ONNX models used by the Grid test suite.

Regenerate (from the repository root) with:

    /usr/bin/python3 tests/Grid.Testing/Models/generate_test_models.py

Option:
    --out DIR   output folder (default: the folder containing this script)

Requirements: the Debian package python3-onnx (onnx >= 1.12). Output is
deterministic: running the script twice produces byte-identical files.

Models written (opset 13, IR version 7):
    dtypes/1/model.onnx           <t>_in -> Identity -> <t>_out for
                                  t in float, double, int32, int64, uint8,
                                  int8, int16, bool; shape [batch, n]
    strings/1/model.onnx          text string [batch] -> echo (Identity),
                                  upper (StringNormalizer UPPER, locale C.UTF-8:
                                  present on every Debian, unlike en_US)
    multi_io/1/model.onnx         a, b float32 [batch, 2] -> sum = a + b,
                                  diff = a - b
    half_plus_three/1/model.onnx  x float32 [batch, 1] -> y = 0.5 * x + 3
    alloc_onnx/1/model.onnx       mib float32 [1, 1] -> bytes float32 [1, 1]: fills
                                  mib MiB with ones (ConstantOfShape) on its device
                                  and sums them (mib * 262144), so a request can
                                  ask a GPU for more memory than it has
"""

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 7
PRODUCER = "grid-test-models-generator"
PRODUCER_VERSION = "1"

DTYPES = [
    ("float", TensorProto.FLOAT),
    ("double", TensorProto.DOUBLE),
    ("int32", TensorProto.INT32),
    ("int64", TensorProto.INT64),
    ("uint8", TensorProto.UINT8),
    ("int8", TensorProto.INT8),
    ("int16", TensorProto.INT16),
    ("bool", TensorProto.BOOL),
]


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


def dtypes_model():
    inputs, outputs, nodes = [], [], []
    for name, elem in DTYPES:
        inputs.append(helper.make_tensor_value_info(name + "_in", elem, ["batch", "n"]))
        outputs.append(helper.make_tensor_value_info(name + "_out", elem, ["batch", "n"]))
        nodes.append(helper.make_node("Identity", [name + "_in"], [name + "_out"],
                                      name=name + "_identity"))
    graph = helper.make_graph(nodes, "dtypes", inputs, outputs,
                              doc_string="Identity for each supported element type")
    return make_model(graph)


def strings_model():
    text = helper.make_tensor_value_info("text", TensorProto.STRING, ["batch"])
    echo = helper.make_tensor_value_info("echo", TensorProto.STRING, ["batch"])
    upper = helper.make_tensor_value_info("upper", TensorProto.STRING, ["batch"])
    nodes = [
        helper.make_node("Identity", ["text"], ["echo"], name="echo_identity"),
        helper.make_node("StringNormalizer", ["text"], ["upper"], name="upper_normalizer",
                         case_change_action="UPPER", locale="C.UTF-8"),
    ]
    graph = helper.make_graph(nodes, "strings", [text], [echo, upper],
                              doc_string="String echo and upper-casing")
    return make_model(graph)


def multi_io_model():
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["batch", 2])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, ["batch", 2])
    s = helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["batch", 2])
    d = helper.make_tensor_value_info("diff", TensorProto.FLOAT, ["batch", 2])
    nodes = [
        helper.make_node("Add", ["a", "b"], ["sum"], name="add"),
        helper.make_node("Sub", ["a", "b"], ["diff"], name="sub"),
    ]
    graph = helper.make_graph(nodes, "multi_io", [a, b], [s, d],
                              doc_string="sum = a + b, diff = a - b")
    return make_model(graph)


def half_plus_three_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])
    nodes = [
        helper.make_node("Mul", ["x", "half"], ["x_half"], name="mul"),
        helper.make_node("Add", ["x_half", "three"], ["y"], name="add"),
    ]
    inits = [numpy_helper.from_array(np.array([0.5], dtype=np.float32), "half"),
             numpy_helper.from_array(np.array([3.0], dtype=np.float32), "three")]
    graph = helper.make_graph(nodes, "half_plus_three", [x], [y], initializer=inits,
                              doc_string="y = 0.5 * x + 3")
    return make_model(graph)


def batch_probe_model():
    """y = 2x + 1 per element; batch = the dimension 0 the engine saw, on every row.

    The batch output makes server-side batching observable from outside: a request that
    was merged with others (or padded) reads a batch size larger than its own row count.
    """
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "n"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "n"])
    batch = helper.make_tensor_value_info("batch", TensorProto.INT64, ["batch", 1])
    nodes = [
        helper.make_node("Mul", ["x", "two"], ["x2"], name="mul"),
        helper.make_node("Add", ["x2", "one"], ["y"], name="add"),
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Slice", ["shape", "zero_i", "one_i"], ["rows"], name="rows"),
        helper.make_node("Concat", ["rows", "one_i"], ["column_shape"], name="column_shape", axis=0),
        helper.make_node("Expand", ["rows", "column_shape"], ["batch"], name="expand"),
    ]
    inits = [numpy_helper.from_array(np.array([2.0], dtype=np.float32), "two"),
             numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one"),
             numpy_helper.from_array(np.array([0], dtype=np.int64), "zero_i"),
             numpy_helper.from_array(np.array([1], dtype=np.int64), "one_i")]
    graph = helper.make_graph(nodes, "batch_probe", [x], [y, batch], initializer=inits,
                              doc_string="y = 2x + 1; batch = rows in the engine call")
    return make_model(graph)


def alloc_onnx_model():
    """The ONNX twin of alloc_torch: one request allocates as many MiB as it asks for."""
    floats_per_mib = numpy_helper.from_array(np.array([262144.0], dtype=np.float32), "floats_per_mib")
    flat = numpy_helper.from_array(np.array([1], dtype=np.int64), "flat")
    out_shape = numpy_helper.from_array(np.array([1, 1], dtype=np.int64), "out_shape")
    nodes = [
        helper.make_node("Mul", ["mib", "floats_per_mib"], ["count_f"]),
        helper.make_node("Cast", ["count_f"], ["count"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["count", "flat"], ["shape"]),
        helper.make_node("ConstantOfShape", ["shape"], ["ones"],
                         value=numpy_helper.from_array(np.array([1.0], dtype=np.float32))),
        helper.make_node("ReduceSum", ["ones"], ["total"], keepdims=0),
        helper.make_node("Reshape", ["total", "out_shape"], ["bytes"]),
    ]
    graph = helper.make_graph(
        nodes, "alloc_onnx",
        [helper.make_tensor_value_info("mib", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("bytes", TensorProto.FLOAT, [1, 1])],
        initializer=[floats_per_mib, flat, out_shape])
    return make_model(graph)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=here)
    out = parser.parse_args().out
    save_model(dtypes_model(), os.path.join(out, "dtypes", "1", "model.onnx"))
    save_model(strings_model(), os.path.join(out, "strings", "1", "model.onnx"))
    save_model(multi_io_model(), os.path.join(out, "multi_io", "1", "model.onnx"))
    save_model(half_plus_three_model(), os.path.join(out, "half_plus_three", "1", "model.onnx"))
    save_model(batch_probe_model(), os.path.join(out, "batch_probe", "1", "model.onnx"))
    save_model(alloc_onnx_model(), os.path.join(out, "alloc_onnx", "1", "model.onnx"))


if __name__ == "__main__":
    main()
