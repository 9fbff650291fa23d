#!/usr/bin/python3
"""convert_mobilenet.py - turns the TF.js graph model extracted from the nsfwjs
npm package (model.json + .bin shards, see extract_nsfwjs.cjs) into the HDF5
weights file that src/mobilenet.c loads.

Layout of the output file:
  /tensors/<name>  float32, dequantised (value = min + scale * q, computed in
                   double and rounded to float32 as TF.js does), the shape of
                   model.json; attribute tf_name = the tensor's TF name.
  /graph/*         the network as a layer table in execution order, one row
                   per layer: op (code, see attribute op_names), input0/input1
                   (row of the layer read, -1 = the image), stride, relu6,
                   ksize, param (scalar of mul/sub), weights/bias (tensor
                   names, "" if none), name (TF node name, prefix removed).
  root attributes  provenance (package, version, model, SHA-256 of every
                   source file), licence, classes, input size, preprocessing.
Every node of the graph is either translated or refused: an attribute this
converter does not know (dilation, padding other than SAME, data format other
than NHWC, another fused op) stops the conversion.

Usage: convert_mobilenet.py MODEL_DIR PACKAGE_DIR OUT.h5
"""
import base64
import hashlib
import json
import os
import sys

import h5py
import numpy as np

PREFIXES = (
    "StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/"
    "StatefulPartitionedCall/predict/",
    "StatefulPartitionedCall/sequential/",
)
OPS = ["", "mul_scalar", "sub_scalar", "conv2d", "depthwise_conv2d", "add", "avgpool", "dense", "softmax"]
CLASSES = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"]
NAME_LEN = 160


def short(name):
    for p in PREFIXES:
        if name.startswith(p):
            return name[len(p):]
    return name


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_tensors(model_dir, manifest):
    tensors = {}
    for group in manifest:
        data = b"".join(open(os.path.join(model_dir, p + ".bin"), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = [int(s) for s in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            if w["dtype"] != "float32":
                sys.exit(f"convert_mobilenet: {w['name']}: dtype {w['dtype']} not supported")
            q = w.get("quantization")
            if q is None:
                vals = np.frombuffer(data, np.float32, count, off)
                off += 4 * count
            elif q["dtype"] == "uint8":
                raw = np.frombuffer(data, np.uint8, count, off).astype(np.float64)
                vals = (raw * q["scale"] + q["min"]).astype(np.float32)
                off += count
            else:
                sys.exit(f"convert_mobilenet: {w['name']}: quantisation {q['dtype']} not supported")
            tensors[w["name"]] = vals.reshape(shape)
        if off != len(data):
            sys.exit(f"convert_mobilenet: shards hold {len(data)} bytes, the manifest describes {off}")
    return tensors


def attr_list(node, key):
    a = node.get("attr", {}).get(key)
    return [int(x) for x in a["list"].get("i", [])] if a else []


def attr_str(node, key):
    a = node.get("attr", {}).get(key)
    return base64.b64decode(a["s"]).decode() if a and "s" in a else ""


def fused_ops(node):
    a = node.get("attr", {}).get("fused_ops")
    return [base64.b64decode(s).decode() for s in a["list"].get("s", [])] if a else []


def check_conv_attrs(node):
    n = node["name"]
    if attr_str(node, "padding") != "SAME":
        sys.exit(f"convert_mobilenet: {n}: padding {attr_str(node, 'padding')} not supported")
    if attr_str(node, "data_format") not in ("", "NHWC"):
        sys.exit(f"convert_mobilenet: {n}: data format not NHWC")
    if any(d != 1 for d in attr_list(node, "dilations")):
        sys.exit(f"convert_mobilenet: {n}: dilation not supported")
    s = attr_list(node, "strides")
    if len(s) != 4 or s[0] != 1 or s[3] != 1 or s[1] != s[2]:
        sys.exit(f"convert_mobilenet: {n}: strides {s} not supported")
    f = fused_ops(node)
    if f not in (["BiasAdd"], ["BiasAdd", "Relu6"]):
        sys.exit(f"convert_mobilenet: {n}: fused ops {f} not supported")
    return s[1], int(f == ["BiasAdd", "Relu6"])


class Graph:
    def __init__(self, nodes, tensors):
        self.tensors = tensors
        self.names = {}     # TF tensor name -> stored name
        self.rows = []
        self.row_of = {}    # TF node name -> layer row (-1 = image input)
        self.nodes = nodes

    def tensor(self, tf_name, alias=None):
        if tf_name not in self.tensors:
            sys.exit(f"convert_mobilenet: constant {tf_name} has no weights")
        self.names[tf_name] = alias or short(tf_name)
        return self.names[tf_name]

    def src(self, name):
        name = name.split(":")[0]
        if name not in self.row_of:
            sys.exit(f"convert_mobilenet: input {name} is not computed before it is used")
        return self.row_of[name]

    def add(self, node, op, in0, in1=-1, stride=1, relu6=0, ksize=0, param=0.0, weights="", bias=""):
        self.row_of[node["name"]] = len(self.rows)
        self.rows.append(dict(op=OPS.index(op), input0=in0, input1=in1, stride=stride, relu6=relu6, ksize=ksize,
                              param=param, weights=weights, bias=bias, name=short(node["name"])))

    def scalar_op(self, node, op):
        data, const = node["input"]
        if data in self.tensors:
            if op == "sub_scalar":
                sys.exit(f"convert_mobilenet: {node['name']}: constant minus tensor not supported")
            data, const = const, data
        if self.tensors.get(const) is None or self.tensors[const].shape != ():
            sys.exit(f"convert_mobilenet: {node['name']}: only a scalar constant operand is supported")
        self.add(node, op, self.src(data), param=float(self.tensors[const]))
        self.tensor(const)

    def translate(self, node):
        op, ins = node["op"], node.get("input", [])
        if op == "Const":
            return
        if op == "Placeholder":
            self.row_of[node["name"]] = -1
        elif op == "Mul":
            self.scalar_op(node, "mul_scalar")
        elif op == "Sub":
            self.scalar_op(node, "sub_scalar")
        elif op in ("_FusedConv2D", "FusedDepthwiseConv2dNative"):
            stride, relu6 = check_conv_attrs(node)
            kind = "conv2d" if op == "_FusedConv2D" else "depthwise_conv2d"
            self.add(node, kind, self.src(ins[0]), stride=stride, relu6=relu6,
                     weights=self.tensor(ins[1]), bias=self.tensor(ins[2]))
        elif op == "AddV2":
            self.add(node, "add", self.src(ins[0]), self.src(ins[1]))
        elif op == "AvgPool":
            k, s = attr_list(node, "ksize"), attr_list(node, "strides")
            if attr_str(node, "padding") != "VALID" or k[0] != 1 or k[3] != 1 or k[1] != k[2] or s != [1, 1, 1, 1]:
                sys.exit(f"convert_mobilenet: {node['name']}: only a global VALID average pool is supported")
            self.add(node, "avgpool", self.src(ins[0]), ksize=k[1])
        elif op in ("Squeeze", "Identity"):
            if op == "Squeeze" and attr_list(node, "squeeze_dims") != [1, 2]:
                sys.exit(f"convert_mobilenet: {node['name']}: squeeze of dims other than 1, 2")
            self.row_of[node["name"]] = self.src(ins[0])  # a view: the data do not change
        elif op == "_FusedMatMul":
            if fused_ops(node) != ["BiasAdd"] or node.get("attr", {}).get("transpose_a", {}).get("b") \
                    or node.get("attr", {}).get("transpose_b", {}).get("b"):
                sys.exit(f"convert_mobilenet: {node['name']}: only MatMul + BiasAdd without transposes")
            base = short(node["name"]).split("/")[0]
            self.add(node, "dense", self.src(ins[0]), weights=self.tensor(ins[1], base + "/kernel"),
                     bias=self.tensor(ins[2], base + "/bias"))
        elif op == "Softmax":
            self.add(node, "softmax", self.src(ins[0]))
        else:
            sys.exit(f"convert_mobilenet: {node['name']}: op {op} not supported")


def write(out, graph, provenance):
    tmp = out + ".tmp"
    with h5py.File(tmp, "w") as f:
        for tf_name, name in sorted(graph.names.items(), key=lambda kv: kv[1]):
            ds = f.create_dataset("tensors/" + name, data=graph.tensors[tf_name].astype(np.float32))
            ds.attrs["tf_name"] = tf_name
        g = f.create_group("graph")
        for key, dtype in (("op", np.int32), ("input0", np.int32), ("input1", np.int32), ("stride", np.int32),
                           ("relu6", np.int32), ("ksize", np.int32), ("param", np.float64)):
            g.create_dataset(key, data=np.array([r[key] for r in graph.rows], dtype=dtype))
        for key in ("weights", "bias", "name"):
            vals = [r[key].encode() for r in graph.rows]
            if max(len(v) for v in vals) >= NAME_LEN:
                sys.exit(f"convert_mobilenet: a {key} name is {NAME_LEN} bytes or longer")
            g.create_dataset(key, data=np.array(vals, dtype=f"S{NAME_LEN}"))
        g.attrs["op_names"] = ",".join(OPS)
        for k, v in provenance.items():
            f.attrs[k] = v
    os.replace(tmp, out)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: convert_mobilenet.py MODEL_DIR PACKAGE_DIR OUT.h5")
    model_dir, pkg_dir, out = sys.argv[1:]
    model = json.load(open(os.path.join(model_dir, "model.json")))
    pkg = json.load(open(os.path.join(pkg_dir, "package.json")))
    tensors = load_tensors(model_dir, model["weightsManifest"])
    graph = Graph(model["modelTopology"]["node"], tensors)
    for node in graph.nodes:
        graph.translate(node)
    unused = set(tensors) - set(graph.names)
    if unused:
        sys.exit(f"convert_mobilenet: weights no layer uses: {sorted(unused)[:3]}")
    dense = [r for r in graph.rows if OPS[r["op"]] == "dense"]
    if len(dense) != 1 or tensors[[k for k, v in graph.names.items() if v == dense[0]["weights"]][0]].shape[1] \
            != len(CLASSES):
        sys.exit("convert_mobilenet: expected one dense layer with 5 outputs")
    model_name = os.path.basename(os.path.normpath(model_dir))
    src = os.path.join(pkg_dir, "dist", "models", model_name)
    hashes = {f: sha256(os.path.join(src, f)) for f in sorted(os.listdir(src))} if os.path.isdir(src) else {}
    provenance = {
        "format": "dupgraph-mobilenet-weights", "format_version": 1,
        "package": pkg["name"], "package_version": pkg["version"], "model": model_name,
        "license": pkg.get("license", ""), "license_text": open(os.path.join(pkg_dir, "LICENSE")).read(),
        "source_sha256": json.dumps(hashes, sort_keys=True),
        "generated_by": model.get("generatedBy", ""), "converted_by": model.get("convertedBy", ""),
        "classes": ",".join(CLASSES), "input_size": 224,
        "preprocessing": "RGB / 255, bilinear resize (align_corners) to 224x224, then the graph's own x*2-1",
    }
    write(out, graph, provenance)
    n = sum(int(np.prod(t.shape)) for t in tensors.values())
    print(f"convert_mobilenet: {len(graph.rows)} layers, {len(tensors)} tensors, {n} weights -> {out}")


if __name__ == "__main__":
    main()
