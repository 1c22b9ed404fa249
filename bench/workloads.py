"""The workloads of the benchmark: what each one is, how its ONNX file is
made, the inputs it runs on and the FLOPs it does.

Two kinds:

- micro: one ONNX op (MatMul, Conv, Softmax, Tanh, LayerNormalization)
  built with the `onnx` helper API at opset 17.  Weights that an inference
  graph holds as constants (a layer's weight matrix, conv filters) are
  initializers; "sgemm" cases without the `_w` suffix take both operands as
  inputs.  Cheap to build, so they are rebuilt on every run.
- model: exported from Debian's PyTorch 1.13 / torchvision 0.14 with random
  weights (torch.manual_seed(0)), eval mode, batch 1, fp32, opset 17,
  constant folding on.  Exporting takes tens of seconds, so the files are
  cached in the work dir (build/bench/models/) and reused unless
  --reexport is given.

FLOPs are 2 x the multiply-accumulates of MatMul, Gemm and Conv nodes,
with shapes from ONNX shape inference; other ops count zero (for Softmax,
Tanh and LayerNorm the table shows no GFLOP/s).
"""
import math
import os

import numpy as np

OPSET = 17
IR_VERSION = 8  # what opset 17 came with; ONNX Runtime 1.20 reads up to 10


class Workload(object):
    def __init__(self, name, kind, build, inputs, quick=False, about=""):
        self.name = name
        self.kind = kind      # "micro" or "model"
        self.build = build    # build(path): writes the ONNX file
        self.inputs = inputs  # inputs(): dict name -> np.ndarray
        self.quick = quick    # part of --quick
        self.about = about


# ------------------------------------------------------------- micro ops

def _save(graph, path):
    import onnx
    from onnx import helper
    model = helper.make_model(
        graph, producer_name="mlc-bench",
        opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    tmp = path + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, path)


def _const(name, arr):
    from onnx import numpy_helper
    return numpy_helper.from_array(np.ascontiguousarray(arr), name)


def _rand(shape, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _f32(name, shape):
    from onnx import TensorProto, helper
    return helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                         list(shape))


def matmul(m, k, n, const_b):
    """Y[m,n] = A[m,k] . B[k,n]; B an initializer when const_b."""
    def build(path):
        from onnx import helper
        node = helper.make_node("MatMul", ["A", "B"], ["Y"], name="matmul")
        inputs, inits = [_f32("A", (m, k))], []
        if const_b:
            inits.append(_const("B", _rand((k, n), 2, 1 / math.sqrt(k))))
        else:
            inputs.append(_f32("B", (k, n)))
        _save(helper.make_graph([node], "matmul", inputs,
                                [_f32("Y", (m, n))], inits), path)

    def inputs():
        feeds = {"A": _rand((m, k), 1)}
        if not const_b:
            feeds["B"] = _rand((k, n), 2, 1 / math.sqrt(k))
        return feeds
    return build, inputs


def conv(c, h, w, f, k, stride=1, pad=None):
    """Y = Conv(X[1,c,h,w], W[f,c,k,k]) + bias, 'same'-style padding."""
    pad = k // 2 if pad is None else pad
    oh = (h + 2 * pad - k) // stride + 1
    ow = (w + 2 * pad - k) // stride + 1

    def build(path):
        from onnx import helper
        node = helper.make_node(
            "Conv", ["X", "W", "B"], ["Y"], name="conv",
            kernel_shape=[k, k], pads=[pad] * 4, strides=[stride] * 2)
        inits = [_const("W", _rand((f, c, k, k), 2,
                                   1 / math.sqrt(c * k * k))),
                 _const("B", _rand((f,), 3, 0.1))]
        _save(helper.make_graph([node], "conv", [_f32("X", (1, c, h, w))],
                                [_f32("Y", (1, f, oh, ow))], inits), path)

    def inputs():
        return {"X": _rand((1, c, h, w), 1)}
    return build, inputs


def unary(op, shape, **attrs):
    """Y = op(X) for Softmax (attrs: axis) and Tanh."""
    def build(path):
        from onnx import helper
        node = helper.make_node(op, ["X"], ["Y"], name=op.lower(), **attrs)
        _save(helper.make_graph([node], op.lower(), [_f32("X", shape)],
                                [_f32("Y", shape)]), path)

    def inputs():
        return {"X": _rand(shape, 1)}
    return build, inputs


def layernorm(rows, d):
    """LayerNormalization over the last axis, eps 1e-5, constant scale and
    bias (what a transformer block holds)."""
    def build(path):
        from onnx import helper
        node = helper.make_node("LayerNormalization", ["X", "S", "B"], ["Y"],
                                name="layernorm", axis=-1, epsilon=1e-5)
        inits = [_const("S", 1.0 + _rand((d,), 2, 0.1)),
                 _const("B", _rand((d,), 3, 0.1))]
        _save(helper.make_graph([node], "layernorm", [_f32("X", (rows, d))],
                                [_f32("Y", (rows, d))], inits), path)

    def inputs():
        return {"X": _rand((rows, d), 1)}
    return build, inputs


# ----------------------------------------------------------- real models

def _export(model, args, names, path):
    import torch
    model.eval()
    tmp = path + ".tmp"
    # Grad stays enabled (as in tests/models/check_models.py): under
    # no_grad, eval-mode attention takes torch's fused fast path, which has
    # no ONNX export.
    torch.onnx.export(model, args, tmp, input_names=names,
                      output_names=["output"], opset_version=OPSET,
                      do_constant_folding=True)
    os.replace(tmp, path)


def _redraw_zero_matrices(model):
    """torchvision zero-initialises some weight matrices (ViT's classifier
    head, its class token): with those the output would not depend on the
    input.  Give every all-zero parameter of rank >= 2 random values."""
    import torch
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2 and not bool(p.any()):
                torch.nn.init.normal_(p, std=0.02)


def torchvision_model(name, size=224):
    def build(path):
        import torch
        import torchvision
        torch.manual_seed(0)
        m = getattr(torchvision.models, name)(weights=None)
        _redraw_zero_matrices(m)
        x = torch.from_numpy(_rand((1, 3, size, size), 1))
        _export(m, (x,), ["input"], path)

    def inputs():
        return {"input": _rand((1, 3, size, size), 1)}
    return build, inputs


BERT = dict(vocab=30522, seq=128, d=768, heads=12, layers=12, ffn=3072,
            max_pos=512)


def _bert_module(vocab, seq, d, heads, layers, ffn, max_pos):
    """BERT-base written out from torch.nn (HuggingFace layout): word +
    position embeddings, LayerNorm, then post-LN encoder layers (separate
    Q, K, V projections, additive mask (1 - mask) * -10000 broadcast as
    (B, 1, 1, S), softmax, erf GELU).  Outputs the last hidden state."""
    import torch
    from torch import nn

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(d, d)
                                              for _ in range(4))
            self.ln1 = nn.LayerNorm(d, eps=1e-12)
            self.ln2 = nn.LayerNorm(d, eps=1e-12)
            self.fc1, self.fc2 = nn.Linear(d, ffn), nn.Linear(ffn, d)

        def forward(self, x, add_mask):
            b, s, _ = x.shape
            dh = d // heads

            def split(t):
                return t.view(b, s, heads, dh).permute(0, 2, 1, 3)
            q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
            att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
            att = torch.softmax(att + add_mask, dim=-1)
            ctx = torch.matmul(att, v).permute(0, 2, 1, 3).reshape(b, s, d)
            x = self.ln1(x + self.o(ctx))
            return self.ln2(x + self.fc2(nn.functional.gelu(self.fc1(x))))

    class Bert(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding(vocab, d)
            self.pos = nn.Embedding(max_pos, d)
            self.ln = nn.LayerNorm(d, eps=1e-12)
            self.layers = nn.ModuleList(Layer() for _ in range(layers))

        def forward(self, ids, mask):
            pos = torch.arange(ids.shape[1]).unsqueeze(0)
            x = self.ln(self.word(ids) + self.pos(pos))
            add = (1.0 - mask[:, None, None, :].to(x.dtype)) * -10000.0
            for layer in self.layers:
                x = layer(x, add)
            return x

    m = Bert()
    with torch.no_grad():  # BERT's init: N(0, 0.02) weights, zero biases
        for mod in m.modules():
            if isinstance(mod, (nn.Linear, nn.Embedding)):
                nn.init.normal_(mod.weight, std=0.02)
            if isinstance(mod, nn.Linear):
                nn.init.zeros_(mod.bias)
    return m


def bert_base():
    cfg = BERT

    def inputs():
        rng = np.random.default_rng(1)
        ids = rng.integers(0, cfg["vocab"], (1, cfg["seq"])).astype(np.int64)
        mask = np.ones((1, cfg["seq"]), np.int64)
        mask[:, cfg["seq"] * 3 // 4:] = 0  # the last quarter is padding
        return {"ids": ids, "mask": mask}

    def build(path):
        import torch
        torch.manual_seed(0)
        m = _bert_module(**cfg)
        feeds = inputs()
        args = (torch.from_numpy(feeds["ids"]),
                torch.from_numpy(feeds["mask"]))
        _export(m, args, ["ids", "mask"], path)
    return build, inputs


# ------------------------------------------------------------- the list

def _w(name, kind, maker, quick=False, about=""):
    build, inputs = maker
    return Workload(name, kind, build, inputs, quick, about)


WORKLOADS = [
    _w("sgemm_small", "micro", matmul(256, 256, 256, False), True,
       "MatMul 256^3, both operands inputs (the smoke test's case)"),
    _w("sgemm_1024", "micro", matmul(1024, 1024, 1024, False), False,
       "MatMul 1024^3, both operands inputs"),
    _w("sgemm_1024_w", "micro", matmul(1024, 1024, 1024, True), False,
       "MatMul 1024^3, B a constant weight"),
    _w("sgemm_4096", "micro", matmul(4096, 4096, 4096, False), False,
       "MatMul 4096^3, both operands inputs"),
    _w("sgemm_4096_w", "micro", matmul(4096, 4096, 4096, True), False,
       "MatMul 4096^3, B a constant weight"),
    _w("gemm_128x768x768", "micro", matmul(128, 768, 768, True), True,
       "128x768 . 768x768, constant weight (BERT-base projection)"),
    _w("gemm_128x768x3072", "micro", matmul(128, 768, 3072, True), False,
       "128x768 . 768x3072, constant weight (BERT-base FFN up)"),
    _w("conv3x3_64_56", "micro", conv(64, 56, 56, 64, 3), True,
       "Conv 64x56x56, 3x3, 64 filters, pad 1, bias"),
    _w("r50_1x1_256to64_56", "micro", conv(256, 56, 56, 64, 1), False,
       "ResNet-50 conv: 1x1, 256->64 at 56x56"),
    _w("r50_3x3_128_28", "micro", conv(128, 28, 28, 128, 3), False,
       "ResNet-50 conv: 3x3, 128->128 at 28x28"),
    _w("r50_1x1_1024to256_14", "micro", conv(1024, 14, 14, 256, 1), False,
       "ResNet-50 conv: 1x1, 1024->256 at 14x14"),
    _w("r50_3x3_512_7", "micro", conv(512, 7, 7, 512, 3), False,
       "ResNet-50 conv: 3x3, 512->512 at 7x7"),
    _w("r50_stem_7x7s2", "micro", conv(3, 224, 224, 64, 7, 2, 3), False,
       "ResNet-50 stem: 7x7 stride 2 pad 3, 3->64 at 224x224"),
    _w("softmax_12x128x128", "micro",
       unary("Softmax", (12, 128, 128), axis=-1), True,
       "Softmax over the last axis of 12x128x128"),
    _w("tanh_128x3072", "micro", unary("Tanh", (128, 3072)), True,
       "Tanh on 128x3072"),
    _w("layernorm_128x768", "micro", layernorm(128, 768), True,
       "LayerNormalization over 768, 128 rows"),
    _w("resnet50", "model", torchvision_model("resnet50")),
    _w("mobilenet_v2", "model", torchvision_model("mobilenet_v2")),
    _w("efficientnet_b0", "model", torchvision_model("efficientnet_b0")),
    _w("vit_b_16", "model", torchvision_model("vit_b_16"), False,
       "ViT-B/16 at 224x224; zero-initialised matrices redrawn"),
    _w("bert_base", "model", bert_base(), False,
       "BERT-base encoder (12 layers, d 768), sequence 128, int64 ids "
       "and mask"),
]
BY_NAME = {w.name: w for w in WORKLOADS}


def select(only, quick):
    """The workloads named by `only` (comma-separated names, fnmatch
    patterns, or the groups 'micro' / 'models'); all (or, with quick, the
    quick ones) when empty.  Raises ValueError naming unknown entries."""
    import fnmatch
    keys = [s.strip() for s in only.split(",") if s.strip()]
    if not keys:
        return [w for w in WORKLOADS if w.quick or not quick]
    chosen, unknown = [], []
    for key in keys:
        if key in ("micro", "models"):
            hits = [w for w in WORKLOADS if w.kind == key.rstrip("s")]
        else:
            hits = [w for w in WORKLOADS if fnmatch.fnmatchcase(w.name, key)]
        if not hits:
            unknown.append(key)
        chosen += [w for w in hits if w not in chosen]
    if unknown:
        raise ValueError("unknown workload(s): " + ", ".join(unknown) +
                         "; known: micro, models, " +
                         ", ".join(w.name for w in WORKLOADS))
    return chosen


# ----------------------------------------------------------------- FLOPs

def _dims(vi):
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    out = []
    for d in t.shape.dim:
        if not d.HasField("dim_value"):
            return None
        out.append(d.dim_value)
    return out


def count_flops(path):
    """2 x MACs of MatMul, Gemm and Conv (batched MatMul included), or None
    when a shape is unknown after shape inference."""
    import onnx
    model = onnx.shape_inference.infer_shapes(onnx.load(path))
    g = model.graph
    shapes = {i.name: list(i.dims) for i in g.initializer}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        d = _dims(vi)
        if d is not None:
            shapes[vi.name] = d
    total = 0
    for node in g.node:
        macs = _node_macs(node, shapes)
        if macs is None:
            return None
        total += macs
    return 2 * total


def _node_macs(node, shapes):
    if node.op_type not in ("MatMul", "Gemm", "Conv"):
        return 0
    out = shapes.get(node.output[0])
    a = shapes.get(node.input[0])
    if out is None or a is None:
        return None
    if node.op_type == "MatMul":
        return int(np.prod(out)) * a[-1]
    if node.op_type == "Gemm":
        trans_a = any(at.name == "transA" and at.i for at in node.attribute)
        return int(np.prod(out)) * (a[0] if trans_a else a[-1])
    w = shapes.get(node.input[1])
    if w is None:
        return None
    return int(np.prod(out)) * int(np.prod(w[1:]))  # w: [F, C/group, k...]
