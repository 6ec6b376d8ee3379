#!/usr/bin/python3
"""Reference outputs for the real TensorFlow SavedModels, computed without TensorFlow.

WHAT IT DOES
    For each model in ../shared/fixtures/savedmodels (see CATALOG.md there) this script
      1. reads the checkpoint itself: variables/variables.index is a LevelDB-format table
         (footer + index block + data blocks, prefix-compressed keys with restart points,
         optionally snappy-compressed blocks, each block CRC32C-checked) whose values are
         BundleEntryProto messages (dtype, shape, shard_id, offset, size, crc32c) pointing
         into the variables.data-NNNNN-of-NNNNN shards; every tensor used is CRC32C-checked;
      2. reads each Keras model's saved config (layer classes, connections, activation,
         padding, strides, epsilon, ...) from the model's own metadata (keras_metadata.pb,
         or the object graph in saved_model.pb for TF 2.0 models) with a small protobuf
         wire-format decoder, finds each layer's variables by their full names in the
         checkpoint's object graph, and stops unless the layer sequence is the one
         CATALOG.md documents (MODELS below). The TF1 model has no Keras config: its graph
         is walked from the signature output and its few ops (MatMul, AddV2, Relu,
         variable reads) are evaluated;
      3. runs the layers as a plain numpy forward pass (float64, so the reference itself
         has no float32 accumulation error): Dense, Conv2D and SeparableConv2D (NHWC,
         SAME/VALID as TensorFlow pads), MaxPooling2D, BatchNormalization (inference),
         Activation, Add, Flatten (row-major NHWC), Dropout (identity), Embedding,
         GlobalAveragePooling1D/2D, LSTM (Keras gate order i, f, c, o);
      4. writes savedmodel-references/<model>.json:
             {"model", "signature": "serving_default", "input": <input alias>,
              "output": <output alias>, "instances": [...], "outputs": [...]}
         with a few deterministic inputs (seeded numpy RNG) in the model's documented
         input range: smooth random images quantised to k/255, plus, for the MNIST and
         Fashion-MNIST models, two test-set images picked by the same RNG; instances are
         written as the shortest decimals of their float32 values, outputs as float64;
      5. sanity-checks the weights and the forward passes against labelled data where a
         dataset exists (accuracy over the 10,000 test images, printed).

    It shares no code with Grid's C# SavedModel importer (which converts the GraphDef to
    ONNX): nothing here reads the GraphDef's compute ops except the TF1 model's graph,
    which is only walked to confirm its layer chain. Only Python's standard library and
    numpy are used.

RERUN (from the repository root; the fixtures live next to the repository in ../shared):

    /usr/bin/python3 tests/Grid.Testing/Models/savedmodel_reference.py

    Options: --fixtures DIR (default ../shared/fixtures/savedmodels), --out DIR (default
    savedmodel-references next to this script), --no-datasets (skip the accuracy checks),
    --only NAME[,NAME...].
    Requires numpy (Debian: apt-get install python3-numpy). Output is deterministic.

RESULTS (last run; accuracy of this reference over the 10,000 test images):
        mnist_mlp_dotnet  MNIST test set, gray / 255                          0.9758
        mnist_cnn_bn      MNIST test set, tf.keras.utils.normalize(x, axis=1)  0.9939
        fashion_cnn       Fashion-MNIST test set, gray / 255                  0.9636
    (a wrong layer, weight layout or preprocessing gives ~0.1). The other models have no
    labelled data here; they share the layer code checked by these three.
    Running the same forward passes in float32 instead of float64 moves every reference
    output by at most 2.3e-6 absolute / 5.3e-6 relative (LSTMs included): the size of the
    float32 rounding a server's answers may show.

MODELS
    tabular_mlp13, mnist_mlp_dotnet, fashion_cnn, mnist_cnn_bn, text_embed_gap,
    tf1_graph_resvar_mlp, fer_mini_xception, stock_lstm_relu, crypto_lstm_bn.
    Not covered: tf1_mnist_softmax and tf1_estimator_wide_deep (their serving_default
    signatures take serialized tf.Example strings, not a float tensor).
"""

import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------
# Protobuf wire format (generic decoder: field number -> list of raw values)
# ---------------------------------------------------------------------------

def read_varint(buf, pos):
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def pb_fields(buf):
    """Decodes one message into {field_number: [values]}: varints as int, fixed32/64 as
    int, length-delimited as bytes (the caller decides if it is a string or a message)."""
    fields = {}
    pos = 0
    n = len(buf)
    while pos < n:
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 1:
            value = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            value = bytes(buf[pos:pos + length])
            pos += length
        elif wire == 5:
            value = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        fields.setdefault(number, []).append(value)
    return fields


def pb_one(fields, number, default=None):
    values = fields.get(number)
    return values[-1] if values else default


# ---------------------------------------------------------------------------
# CRC32C (Castagnoli), as LevelDB and the tensor bundle use it (masked)
# ---------------------------------------------------------------------------

def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()
# Slicing-by-4 tables (pure Python; fast enough for a few MB).
_CRC_T = [_CRC_TABLE]
for _k in range(1, 4):
    _prev = _CRC_T[-1]
    _CRC_T.append([(_prev[i] >> 8) ^ _CRC_TABLE[_prev[i] & 0xFF] for i in range(256)])


def crc32c(data, crc=0):
    t0, t1, t2, t3 = _CRC_T
    crc ^= 0xFFFFFFFF
    n = len(data)
    head = n - n % 4
    words = np.frombuffer(bytes(data[:head]), dtype="<u4").tolist() if head else []
    for w in words:
        crc ^= w
        crc = t3[crc & 0xFF] ^ t2[(crc >> 8) & 0xFF] ^ t1[(crc >> 16) & 0xFF] ^ t0[crc >> 24]
    for b in data[head:]:
        crc = t0[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc32c_unmask(masked):
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# ---------------------------------------------------------------------------
# Snappy decompression (raw format, as LevelDB stores compressed blocks)
# ---------------------------------------------------------------------------

def snappy_decompress(buf):
    length, pos = read_varint(buf, 0)
    out = bytearray()
    n = len(buf)
    while pos < n:
        tag = buf[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal
            size = tag >> 2
            if size >= 60:
                extra = size - 59
                size = int.from_bytes(buf[pos:pos + extra], "little")
                pos += extra
            size += 1
            out += buf[pos:pos + size]
            pos += size
            continue
        if kind == 1:
            size = ((tag >> 2) & 7) + 4
            offset = ((tag >> 5) << 8) | buf[pos]
            pos += 1
        elif kind == 2:
            size = (tag >> 2) + 1
            offset = int.from_bytes(buf[pos:pos + 2], "little")
            pos += 2
        else:
            size = (tag >> 2) + 1
            offset = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        if offset == 0 or offset > len(out):
            raise ValueError("snappy: bad copy offset")
        start = len(out) - offset
        for i in range(size):  # copies may overlap their own output
            out.append(out[start + i])
    if len(out) != length:
        raise ValueError("snappy: length %d, expected %d" % (len(out), length))
    return bytes(out)


# ---------------------------------------------------------------------------
# LevelDB table (variables.index)
# ---------------------------------------------------------------------------

TABLE_MAGIC = 0xDB4775248B80FB57


def _read_block(data, handle):
    offset, pos = read_varint(handle, 0)
    size, _ = read_varint(handle, pos)
    contents = data[offset:offset + size]
    kind = data[offset + size]
    stored = struct.unpack_from("<I", data, offset + size + 1)[0]
    actual = crc32c(data[offset:offset + size + 1])
    if crc32c_unmask(stored) != actual:
        raise ValueError("index block at %d: CRC32C mismatch" % offset)
    if kind == 0:
        return contents
    if kind == 1:
        return snappy_decompress(contents)
    raise ValueError("unknown block compression %d" % kind)


def _block_entries(block):
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * num_restarts
    pos = 0
    key = b""
    while pos < end:
        shared, pos = read_varint(block, pos)
        unshared, pos = read_varint(block, pos)
        value_len, pos = read_varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        yield key, block[pos:pos + value_len]
        pos += value_len


def read_table(path):
    with open(path, "rb") as f:
        data = f.read()
    footer = data[-48:]
    if struct.unpack_from("<Q", footer, 40)[0] != TABLE_MAGIC:
        raise ValueError(path + ": not a LevelDB table")
    _, pos = read_varint(footer, 0)  # metaindex handle: offset
    _, pos = read_varint(footer, pos)  # metaindex handle: size
    index_handle = footer[pos:]
    entries = {}
    for _, handle in _block_entries(_read_block(data, index_handle)):
        for key, value in _block_entries(_read_block(data, handle)):
            entries[key] = value
    return entries


# ---------------------------------------------------------------------------
# Tensor bundle (variables.index + variables.data-*)
# ---------------------------------------------------------------------------

DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 9: np.int64, 10: np.bool_}


class Checkpoint:
    def __init__(self, variables_dir):
        self.dir = variables_dir
        table = read_table(os.path.join(variables_dir, "variables.index"))
        header = pb_fields(table.pop(b"", b""))
        self.num_shards = pb_one(header, 1, 1)
        self.entries = {}
        for key, value in table.items():
            f = pb_fields(value)
            shape = []
            shape_msg = pb_one(f, 2)
            if shape_msg is not None:
                for dim in pb_fields(shape_msg).get(2, []):
                    shape.append(pb_one(pb_fields(dim), 1, 0))
            self.entries[key.decode()] = {
                "dtype": pb_one(f, 1, 0),
                "shape": shape,
                "shard": pb_one(f, 3, 0),
                "offset": pb_one(f, 4, 0),
                "size": pb_one(f, 5, 0),
                "crc32c": pb_one(f, 6),
                "slices": len(f.get(7, [])),
            }
        self._shards = {}

    def keys(self):
        return sorted(self.entries)

    def _shard(self, i):
        if i not in self._shards:
            name = "variables.data-%05d-of-%05d" % (i, self.num_shards)
            with open(os.path.join(self.dir, name), "rb") as f:
                self._shards[i] = f.read()
        return self._shards[i]

    def tensor(self, key):
        e = self.entries[key]
        if e["dtype"] not in DTYPES or e["slices"]:
            raise ValueError("%s: unsupported entry %r" % (key, e))
        raw = self._shard(e["shard"])[e["offset"]:e["offset"] + e["size"]]
        if e["crc32c"] is not None and crc32c(raw) != crc32c_unmask(e["crc32c"]):
            raise ValueError(key + ": CRC32C mismatch")
        array = np.frombuffer(raw, dtype=np.dtype(DTYPES[e["dtype"]]).newbyteorder("<"))
        return array.reshape(e["shape"]).astype(np.float64 if e["dtype"] == 1 else array.dtype)

    def keras(self, layer, name):
        return self.tensor("layer_with_weights-%d/%s/.ATTRIBUTES/VARIABLE_VALUE" % (layer, name))

    def var(self, index):
        return self.tensor("variables/%d/.ATTRIBUTES/VARIABLE_VALUE" % index)


def checkpoint_object_paths(ckpt):
    """checkpoint key -> (object paths, full variable name), from the checkpoint's own
    TrackableObjectGraph (_CHECKPOINTABLE_OBJECT_GRAPH): shows e.g. that variables/7 is
    layer_with_weights-2/cell/kernel, named lstm_10/lstm_cell_10/kernel."""
    key = "_CHECKPOINTABLE_OBJECT_GRAPH"
    if key not in ckpt.entries:
        return {}
    e = ckpt.entries[key]
    raw = ckpt._shard(e["shard"])[e["offset"]:e["offset"] + e["size"]]
    # A scalar DT_STRING tensor: varint length(s), (crc32c of lengths), then the bytes.
    length, pos = read_varint(raw, 0)
    blob = raw[len(raw) - length:]
    nodes = [pb_fields(n) for n in pb_fields(blob).get(1, [])]
    paths = {0: [""]}
    order = [0]
    while order:
        i = order.pop(0)
        for child in nodes[i].get(1, []):
            c = pb_fields(child)
            cid, name = pb_one(c, 1, 0), pb_one(c, 2, b"").decode()
            if cid not in paths:
                paths[cid] = []
                order.append(cid)
            for p in paths[i]:
                if len(paths[cid]) < 8:
                    paths[cid].append((p + "/" + name).lstrip("/"))
    result = {}
    for i, node in enumerate(nodes):
        for attr in node.get(2, []):
            a = pb_fields(attr)
            ck = pb_one(a, 3, b"").decode()
            result[ck] = (paths.get(i, []), pb_one(a, 2, b"").decode())
    return result


def keras_layer_metadata(model_dir):
    """Object path ('root.layer_with_weights-0', ...) -> Keras metadata JSON (dict), from
    keras_metadata.pb (TF >= 2.5) or the SavedObjectGraph user objects in saved_model.pb."""
    result = {}
    meta_path = os.path.join(model_dir, "keras_metadata.pb")
    if os.path.exists(meta_path):
        with open(meta_path, "rb") as f:
            for node in pb_fields(f.read()).get(1, []):
                n = pb_fields(node)
                path, text = pb_one(n, 3, b"").decode(), pb_one(n, 5)
                if text:
                    result[path] = json.loads(text)
        return result
    with open(os.path.join(model_dir, "saved_model.pb"), "rb") as f:
        saved_model = pb_fields(f.read())
    meta_graph = pb_fields(saved_model[2][0])
    graph = pb_one(meta_graph, 7)
    if graph is None:
        return result
    nodes = [pb_fields(n) for n in pb_fields(graph).get(1, [])]
    paths = {0: "root"}
    order = [0]
    while order:
        i = order.pop(0)
        for child in nodes[i].get(1, []):
            c = pb_fields(child)
            cid = pb_one(c, 1, 0)
            if cid not in paths:
                paths[cid] = paths[i] + "." + pb_one(c, 2, b"").decode()
                order.append(cid)
    for i, node in enumerate(nodes):
        user = pb_one(node, 4)
        if user is not None and i in paths:
            text = pb_one(pb_fields(user), 3)
            if text:
                try:
                    result[paths[i]] = json.loads(text)
                except ValueError:
                    pass
    return result


def layer_weights(ckpt, layer_name):
    """{attribute: array} of one Keras layer, found by the variables' own full names in the
    checkpoint (e.g. conv2d_1/kernel, lstm_9/lstm_cell_9/recurrent_kernel)."""
    weights = {}
    if not hasattr(ckpt, "object_paths"):
        ckpt.object_paths = checkpoint_object_paths(ckpt)
    for key, (_, full_name) in ckpt.object_paths.items():
        if ".OPTIMIZER_SLOT" in key or not full_name.startswith(layer_name + "/"):
            continue
        attr = full_name.split("/")[-1].split(":")[0]
        if attr in weights:
            raise ValueError("%s: two variables named %s" % (layer_name, attr))
        weights[attr] = ckpt.tensor(key)
    return weights


# ---------------------------------------------------------------------------
# Keras layers in numpy (float64, NHWC like TensorFlow)
# ---------------------------------------------------------------------------

def activation(name, x):
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError("activation " + name)


def tuple_value(v):
    """Keras >= 2.5 writes tuples as {"class_name": "__tuple__", "items": [...]}."""
    if isinstance(v, dict) and v.get("class_name") == "__tuple__":
        return list(v["items"])
    return list(v) if isinstance(v, (list, tuple)) else v


def same_padding(size, kernel, stride):
    """TensorFlow's SAME padding: (before, after), the extra pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_nhwc(x, kernel, strides, padding, value=0.0):
    if padding == "valid":
        return x
    (pt, pb), (pl, pr) = [same_padding(x.shape[1 + i], kernel[i], strides[i]) for i in range(2)]
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=value)


def patches(x, kh, kw, sh, sw):
    """[N, OH, OW, kh, kw, C] windows of an (already padded) NHWC tensor."""
    n, h, w, c = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = x.strides
    view = np.lib.stride_tricks.as_strided(
        x, (n, oh, ow, kh, kw, c), (s[0], s[1] * sh, s[2] * sw, s[1], s[2], s[3]), writeable=False)
    return view


def conv2d(x, kernel, strides, padding):
    """NHWC x, HWIO kernel (TF Conv2D)."""
    kh, kw = kernel.shape[:2]
    p = patches(pad_nhwc(x, (kh, kw), strides, padding), kh, kw, strides[0], strides[1])
    return np.einsum("nhwijc,ijco->nhwo", p, kernel, optimize=True)


def depthwise_conv2d(x, kernel, strides, padding):
    """NHWC x, kernel [kh, kw, C, multiplier]; output channel c * multiplier + m."""
    kh, kw, c, mult = kernel.shape
    p = patches(pad_nhwc(x, (kh, kw), strides, padding), kh, kw, strides[0], strides[1])
    out = np.einsum("nhwijc,ijcm->nhwcm", p, kernel, optimize=True)
    return out.reshape(out.shape[:3] + (c * mult,))


def max_pool(x, pool, strides, padding):
    p = patches(pad_nhwc(x, pool, strides, padding, value=-np.inf), pool[0], pool[1], strides[0], strides[1])
    return p.max(axis=(3, 4))


def lstm(x, kernel, recurrent_kernel, bias, act, recurrent_act, return_sequences):
    """Keras LSTM (implementation 2, zero initial state): gates i, f, c, o in that order."""
    n, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = np.zeros((n, units), dtype=x.dtype)
    c = np.zeros((n, units), dtype=x.dtype)
    xw = np.einsum("ntd,dk->ntk", x, kernel) + bias
    outputs = []
    for t in range(steps):
        z = xw[:, t] + h @ recurrent_kernel
        i = activation(recurrent_act, z[:, :units])
        f = activation(recurrent_act, z[:, units:2 * units])
        g = activation(act, z[:, 2 * units:3 * units])
        o = activation(recurrent_act, z[:, 3 * units:])
        c = f * c + i * g
        h = o * activation(act, c)
        outputs.append(h)
    return np.stack(outputs, axis=1) if return_sequences else h


def apply_layer(cls, cfg, w, inputs):
    x = inputs[0]
    if cls == "InputLayer" or cls == "Dropout":  # Dropout is the identity at inference
        return x
    if cls == "Dense":
        y = x @ w["kernel"]  # on 3-D input: the last axis, as Keras' Tensordot does
        if cfg["use_bias"]:
            y = y + w["bias"]
        return activation(cfg["activation"], y)
    if cls == "Activation":
        return activation(cfg["activation"], x)
    if cls == "Flatten":
        assert cfg.get("data_format", "channels_last") == "channels_last"
        return x.reshape(x.shape[0], -1)  # row-major over NHWC
    if cls == "Add":
        return sum(inputs[1:], inputs[0])
    if cls in ("Conv2D", "SeparableConv2D"):
        assert cfg["data_format"] == "channels_last" and tuple_value(cfg["dilation_rate"]) == [1, 1]
        assert cfg.get("groups", 1) == 1
        strides, padding = tuple_value(cfg["strides"]), cfg["padding"]
        if cls == "Conv2D":
            y = conv2d(x, w["kernel"], strides, padding)
        else:
            y = depthwise_conv2d(x, w["depthwise_kernel"], strides, padding)
            y = conv2d(y, w["pointwise_kernel"], [1, 1], "valid")
        if cfg["use_bias"]:
            y = y + w["bias"]
        return activation(cfg["activation"], y)
    if cls == "MaxPooling2D":
        assert cfg["data_format"] == "channels_last"
        return max_pool(x, tuple_value(cfg["pool_size"]), tuple_value(cfg["strides"]), cfg["padding"])
    if cls == "BatchNormalization":
        axis = tuple_value(cfg["axis"])
        axis = axis if isinstance(axis, list) else [axis]
        assert len(axis) == 1 and axis[0] in (-1, x.ndim - 1), "BatchNormalization on the last axis only"
        y = (x - w["moving_mean"]) / np.sqrt(w["moving_variance"] + cfg["epsilon"])
        if cfg["scale"]:
            y = y * w["gamma"]
        if cfg["center"]:
            y = y + w["beta"]
        return y
    if cls == "GlobalAveragePooling2D":
        assert not cfg.get("keepdims", False)
        return x.mean(axis=(1, 2))
    if cls == "GlobalAveragePooling1D":
        assert not cfg.get("keepdims", False)
        return x.mean(axis=1)
    if cls == "Embedding":
        assert not cfg["mask_zero"]
        ids = np.trunc(x).astype(np.int64)  # Keras casts float ids to int32 (truncation)
        table = w["embeddings"]
        if ids.min() < 0 or ids.max() >= table.shape[0]:
            raise ValueError("token id out of range")
        return table[ids]
    if cls == "LSTM":
        assert not cfg["go_backwards"] and not cfg["stateful"] and not cfg["return_state"]
        assert not cfg.get("time_major", False) and cfg["use_bias"]
        return lstm(x, w["kernel"], w["recurrent_kernel"], w["bias"], cfg["activation"],
                    cfg["recurrent_activation"], cfg["return_sequences"])
    raise ValueError("layer " + cls)


class KerasModel:
    """A Keras Sequential or Functional model run from its saved config and checkpoint."""

    def __init__(self, model_dir):
        meta = keras_layer_metadata(model_dir)
        self.root = meta["root"]
        self.ckpt = Checkpoint(os.path.join(model_dir, "variables"))
        config = self.root["config"]
        self.kind = self.root["class_name"]
        self.layers = []  # (class_name, config, weights, inbound names)
        previous = None
        for layer in config["layers"]:
            cfg = layer["config"]
            if self.kind == "Sequential":
                inbound = [previous] if previous else []
            else:
                nodes = layer.get("inbound_nodes") or []
                assert len(nodes) <= 1, "shared layers are not supported"
                inbound = [i[0] for i in nodes[0]] if nodes else []
            self.layers.append((layer["class_name"], cfg, layer_weights(self.ckpt, cfg["name"]), cfg["name"], inbound))
            previous = cfg["name"]
        if self.kind != "Sequential":
            self.outputs = [o[0] for o in config["output_layers"]]
            assert len(self.outputs) == 1
        else:
            self.outputs = [previous]

    def summary(self):
        return [cls for cls, *_ in self.layers if cls != "InputLayer"]

    def __call__(self, x):
        values = {}
        for cls, cfg, w, name, inbound in self.layers:
            inputs = [values[i] for i in inbound] if inbound else [x]
            values[name] = apply_layer(cls, cfg, w, inputs)
        return values[self.outputs[0]]


# ---------------------------------------------------------------------------
# TF1 graph (tf1_graph_resvar_mlp): walked from the signature output to confirm the chain
# ---------------------------------------------------------------------------

def tf1_graph(model_dir):
    with open(os.path.join(model_dir, "saved_model.pb"), "rb") as f:
        meta_graph = pb_fields(pb_fields(f.read())[2][0])
    nodes = {}
    for raw in pb_fields(pb_one(meta_graph, 2)).get(1, []):
        n = pb_fields(raw)
        attrs = {}
        for entry in n.get(5, []):
            e = pb_fields(entry)
            attrs[pb_one(e, 1, b"").decode()] = pb_fields(pb_one(e, 2, b""))
        nodes[pb_one(n, 1).decode()] = {
            "op": pb_one(n, 2, b"").decode(),
            "inputs": [i.decode() for i in n.get(3, [])],
            "attrs": attrs,
        }
    return nodes


def tf1_evaluate(nodes, ckpt, output, feeds):
    """Evaluates the few ops of a TF1 MLP graph (Placeholder, VarHandleOp, ReadVariableOp,
    Identity, MatMul, Add/AddV2, Relu); anything else stops the script."""
    cache = {}

    def value(name):
        name = name.split(":")[0]
        if name in feeds:
            return feeds[name]
        if name in cache:
            return cache[name]
        node = nodes[name]
        op = node["op"]
        inputs = [i for i in node["inputs"] if not i.startswith("^")]
        if op == "VarHandleOp":
            result = ckpt.tensor(pb_one(node["attrs"]["shared_name"], 2).decode())
        elif op in ("ReadVariableOp", "Identity"):
            result = value(inputs[0])
        elif op == "MatMul":
            a, b = value(inputs[0]), value(inputs[1])
            if pb_one(node["attrs"].get("transpose_a", {}), 5, 0):
                a = a.T
            if pb_one(node["attrs"].get("transpose_b", {}), 5, 0):
                b = b.T
            result = a @ b
        elif op in ("Add", "AddV2"):
            result = value(inputs[0]) + value(inputs[1])
        elif op == "Relu":
            result = np.maximum(value(inputs[0]), 0.0)
        else:
            raise ValueError("TF1 op %s (%s) not evaluated here" % (op, name))
        cache[name] = result
        return result

    return value(output)


def tf1_chain(nodes, output, stop):
    """The compute ops on the path from the output back to the fed placeholder."""
    chain = []
    name = output.split(":")[0]
    while name != stop:
        node = nodes[name]
        if node["op"] not in ("Identity", "ReadVariableOp"):
            chain.append(node["op"])
        data = [i for i in node["inputs"] if not i.startswith("^")]
        # follow the activation path (the operand that is not a variable read)
        nxt = [i for i in data if nodes[i.split(":")[0]]["op"] not in ("ReadVariableOp", "VarHandleOp")]
        name = nxt[0].split(":")[0]
    return list(reversed(chain))


def serving_signature(model_dir, key="serving_default"):
    """(input alias, input tensor, output alias, output tensor) of a one-in one-out signature."""
    with open(os.path.join(model_dir, "saved_model.pb"), "rb") as f:
        meta_graph = pb_fields(pb_fields(f.read())[2][0])
    for entry in meta_graph.get(5, []):
        e = pb_fields(entry)
        if pb_one(e, 1, b"").decode() != key:
            continue
        sig = pb_fields(pb_one(e, 2))
        ends = []
        for field in (1, 2):
            items = [pb_fields(i) for i in sig.get(field, [])]
            assert len(items) == 1, "one input and one output expected"
            alias = pb_one(items[0], 1).decode()
            tensor = pb_one(pb_fields(pb_one(items[0], 2)), 1).decode()
            ends += [alias, tensor]
        return tuple(ends)
    raise KeyError(key)


# ---------------------------------------------------------------------------
# Datasets (IDX, gzip)
# ---------------------------------------------------------------------------

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def keras_normalize_axis1(x):
    """tf.keras.utils.normalize(x, axis=1) on [N, 28, 28]: every image column vector (along
    axis 1, the rows) divided by its L2 norm (zero norms left as 1)."""
    norm = np.linalg.norm(x, 2, axis=1)
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, 1)


def accuracy(model, images, labels, batch=500):
    hits = 0
    for start in range(0, len(images), batch):
        out = model(images[start:start + batch])
        hits += int((out.argmax(axis=-1) == labels[start:start + batch]).sum())
    return hits / len(images)


# ---------------------------------------------------------------------------
# Inputs: deterministic, in each model's documented range; float32-exact
# ---------------------------------------------------------------------------

def f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def pixels(rng, shape):
    """Smooth random gray images in [0, 1] quantised to k/255 like real pixels (a noise field
    blurred by box filters, so conv nets see edges and blobs rather than white noise)."""
    x = rng.random(shape[:3])
    for _ in range(2):
        x = (x + np.roll(x, 1, 1) + np.roll(x, -1, 1) + np.roll(x, 1, 2) + np.roll(x, -1, 2)) / 5
    x = (x - x.min(axis=(1, 2), keepdims=True)) / np.ptp(x, axis=(1, 2), keepdims=True)
    x = np.round(x * 255) / 255
    return f32(x.reshape(shape))


def dataset_images(rng, images, count):
    picks = rng.choice(len(images), size=count, replace=False)
    return images[np.sort(picks)].astype(np.float64)


def make_inputs(name, rng, data):
    if name == "tabular_mlp13":  # StandardScaler output
        return f32(rng.standard_normal((4, 13)))
    if name == "tf1_graph_resvar_mlp":  # MinMaxScaler output
        return f32(rng.random((4, 9)))
    if name == "mnist_mlp_dotnet":  # gray / 255, [N, 28, 28]
        x = np.concatenate([pixels(rng, (2, 28, 28)), dataset_images(rng, data["mnist"][0], 2) / 255])
        return f32(x)
    if name == "mnist_cnn_bn":  # tf.keras.utils.normalize(x, axis=1), [N, 28, 28, 1]
        raw = np.concatenate([pixels(rng, (2, 28, 28)) * 255, dataset_images(rng, data["mnist"][0], 2)])
        return f32(keras_normalize_axis1(raw)[..., None])
    if name == "fashion_cnn":  # /255, [N, 28, 28, 1]
        x = np.concatenate([pixels(rng, (2, 28, 28)), dataset_images(rng, data["fashion"][0], 2) / 255])
        return f32(x[..., None])
    if name == "fer_mini_xception":  # face crop / 255, [N, 48, 48, 1]
        return pixels(rng, (2, 48, 48, 1))
    if name == "text_embed_gap":  # token ids as floats, pre-padded with 0 like pad_sequences
        x = np.zeros((4, 73))
        for i, length in enumerate((73, 40, 12, 1)):
            x[i, 73 - length:] = rng.integers(1, 10000, size=length)
        return f32(x)
    if name == "stock_lstm_relu":  # 100 MinMax-scaled closing prices: a random walk in [0, 1]
        walk = np.cumsum(rng.standard_normal((4, 100)), axis=1)
        walk = (walk - walk.min(axis=1, keepdims=True)) / np.ptp(walk, axis=1, keepdims=True)
        return f32(walk[..., None])
    if name == "crypto_lstm_bn":  # 60 steps x 8 standardised pct_change columns
        return f32(rng.standard_normal((4, 60, 8)))
    raise KeyError(name)


MODELS = {
    # name: the architecture CATALOG.md documents (layer classes, in order)
    "tabular_mlp13": ["Dense", "Dense", "Dense"],
    "mnist_mlp_dotnet": ["Flatten", "Dense", "Dropout", "Dense"],
    "fashion_cnn": ["Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense", "Dense"],
    "mnist_cnn_bn": ["Conv2D", "BatchNormalization", "MaxPooling2D"] * 2
    + ["Conv2D", "BatchNormalization", "Flatten", "Dense", "Dropout", "Dense"],
    "text_embed_gap": ["Embedding", "GlobalAveragePooling1D", "Dense", "Dense", "Dropout", "Dense"],
    "tf1_graph_resvar_mlp": ["MatMul", "AddV2", "Relu"] * 3 + ["MatMul", "AddV2"],
    "fer_mini_xception": ["Conv2D", "BatchNormalization", "Activation"] * 2
    + ["SeparableConv2D", "BatchNormalization", "Activation", "SeparableConv2D", "BatchNormalization",
       "Conv2D", "MaxPooling2D", "BatchNormalization", "Add"] * 4
    + ["Conv2D", "GlobalAveragePooling2D", "Activation"],
    "stock_lstm_relu": ["LSTM", "Dropout"] * 4 + ["Dense"],
    "crypto_lstm_bn": ["LSTM", "Dropout", "BatchNormalization"] * 3 + ["Dense", "Dropout", "Dense"],
}


def load_model(name, model_dir):
    if name.startswith("tf1_"):
        nodes = tf1_graph(model_dir)
        _, in_tensor, _, out_tensor = serving_signature(model_dir)
        placeholder = in_tensor.split(":")[0]
        chain = tf1_chain(nodes, out_tensor, placeholder)
        ckpt = Checkpoint(os.path.join(model_dir, "variables"))
        return (lambda x: tf1_evaluate(nodes, ckpt, out_tensor, {placeholder: x})), chain
    model = KerasModel(model_dir)
    return model, model.summary()


def fmt32(v):
    """Shortest decimal that reads back as the same float32."""
    s = np.format_float_positional(np.float32(v), unique=True, trim="-")
    return s if len(s) <= 12 else np.format_float_scientific(np.float32(v), unique=True, trim="-")


def fmt64(v):
    return repr(float(v))


def nested(array, fmt):
    if array.ndim == 0:
        return fmt(array)
    return "[" + ",".join(nested(a, fmt) for a in array) + "]"


def write_reference(path, name, sig, inputs, outputs):
    text = (
        "{\n"
        '  "model": %s,\n  "signature": "serving_default",\n  "input": %s,\n  "output": %s,\n'
        '  "instances": [\n    %s\n  ],\n  "outputs": [\n    %s\n  ]\n}\n'
        % (json.dumps(name), json.dumps(sig[0]), json.dumps(sig[2]),
           ",\n    ".join(nested(x, fmt32) for x in inputs),
           ",\n    ".join(nested(y, fmt64) for y in outputs)))
    check = json.loads(text)  # the file reads back to exactly these numbers
    assert np.array_equal(np.array(check["instances"], dtype=np.float32), inputs.astype(np.float32))
    with open(path, "w") as f:
        f.write(text)
    return len(text)


def self_test():
    assert crc32c(b"123456789") == 0xE3069283
    # "abc", a overlapping 1-byte-offset copy of 9, "X", then a 2-byte-offset copy of 4
    stream = bytes([17, 0x08]) + b"abc" + bytes([0x15, 3, 0x00]) + b"X" + bytes([0x0E, 13, 0])
    assert snappy_decompress(stream) == b"abcabcabcabcXabca", snappy_decompress(stream)


def main():
    self_test()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
    parser.add_argument("--fixtures", default=os.path.join(root, "..", "shared", "fixtures", "savedmodels"))
    parser.add_argument("--datasets", default=os.path.join(root, "..", "shared", "fixtures", "datasets"))
    parser.add_argument("--fashion", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--out", default=os.path.join(HERE, "savedmodel-references"))
    parser.add_argument("--no-datasets", action="store_true")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    data = {
        "mnist": (read_idx(os.path.join(args.datasets, "mnist", "t10k-images-idx3-ubyte.gz")),
                  read_idx(os.path.join(args.datasets, "mnist", "t10k-labels-idx1-ubyte.gz"))),
        "fashion": (read_idx(os.path.join(args.fashion, "t10k-images-idx3-ubyte.gz")),
                    read_idx(os.path.join(args.fashion, "t10k-labels-idx1-ubyte.gz"))),
    }
    evaluations = {
        "mnist_mlp_dotnet": ("MNIST", lambda: (data["mnist"][0] / 255.0, data["mnist"][1])),
        "mnist_cnn_bn": ("MNIST", lambda: (keras_normalize_axis1(data["mnist"][0].astype(np.float64))[..., None],
                                           data["mnist"][1])),
        "fashion_cnn": ("Fashion-MNIST", lambda: (data["fashion"][0][..., None] / 255.0, data["fashion"][1])),
    }

    only = [n for n in args.only.split(",") if n]
    for index, (name, architecture) in enumerate(MODELS.items()):
        if only and name not in only:
            continue
        model_dir = os.path.join(args.fixtures, name, "1")
        model, layers = load_model(name, model_dir)
        if layers != architecture:
            sys.exit("%s: saved architecture %s differs from the documented %s" % (name, layers, architecture))
        sig = serving_signature(model_dir)
        rng = np.random.default_rng(20260 + index)
        inputs = make_inputs(name, rng, data)
        outputs = model(inputs)
        size = write_reference(os.path.join(args.out, name + ".json"), name, sig, inputs, outputs)
        line = "%-22s %s -> %s  instances %s  outputs %s  %d bytes" % (
            name, sig[0], sig[2], list(inputs.shape), list(outputs.shape), size)
        if outputs.ndim == 2 and outputs.shape[1] > 1:
            line += "  argmax %s" % outputs.argmax(axis=1).tolist()
        print(line, flush=True)
        if name in evaluations and not args.no_datasets:
            dataset, load = evaluations[name]
            images, labels = load()
            print("    accuracy on the %s test set (%d images): %.4f" % (
                dataset, len(images), accuracy(model, images, labels)), flush=True)


if __name__ == "__main__":
    main()
