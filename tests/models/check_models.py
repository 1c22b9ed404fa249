#!/usr/bin/env python3
"""Checks mlc on real model families that are not in the repository.

Exports a battery of models with torch (random weights from
torch.manual_seed(0), eval mode, batch 1, static shapes unless the case
says otherwise) at several opsets, compiles each with `mlc compile` (timed),
runs it with `mlc run` on a random input and compares every output with
ONNX Runtime on the same input: relative L2 error ||out - ref|| / ||ref||
must be at most --tol (default 1e-4).  Prints one table row per case.

Not part of ctest (it takes many minutes); see docs/models.md.

    build/venv/bin/python tests/models/check_models.py --mlc build/tools/mlc
    build/venv/bin/python tests/models/check_models.py --mlc build/tools/mlc \
        --only resnet50 --opsets 17

Files go to --work-dir/<case>/ (model.onnx, model.so, inputs, outputs, and
compile.log / run.log with the tool's stderr).  Exit status 0 when every
case passes, else 1.

The reference is ONNX Runtime with its graph optimizations off (--ort-opt
turns them on): ORT 1.20's Pad+AveragePool fusion drops the padded
zeros from the average and gets Inception v3 wrong.  A case whose
reference output does not change with the input is reported WEAK, not
PASS (such a comparison would not test the network).
"""
import argparse
import math
import os
import resource
import subprocess
import sys
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))


# ---------------------------------------------------------------- models

def _tv(name, size=224, **kw):
    def build():
        import torch
        import torchvision
        m = getattr(torchvision.models, name)(weights=None, **kw)
        if name.startswith("vit_"):
            # torchvision zero-initialises the classifier head, which makes
            # the logits 0 for every input; give it random weights.
            torch.nn.init.normal_(m.heads.head.weight, std=0.02)
            torch.nn.init.normal_(m.heads.head.bias, std=0.02)
        return m, [("input", (1, 3, size, size), "f32")]
    return build


class BertLike(object):
    """Token embedding (Gather of int64 ids) + learned position embedding +
    nn.TransformerEncoder (GELU, LayerNorm) with a key padding mask built
    from an int64 attention mask input."""

    @staticmethod
    def build(vocab=1000, seq=32, d=128, heads=4, layers=2):
        import torch
        from torch import nn

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.tok = nn.Embedding(vocab, d)
                self.pos = nn.Embedding(seq, d)
                self.ln = nn.LayerNorm(d)
                layer = nn.TransformerEncoderLayer(
                    d, heads, 4 * d, dropout=0.0, activation="gelu",
                    batch_first=True)
                self.enc = nn.TransformerEncoder(
                    layer, layers, enable_nested_tensor=False)
                self.head = nn.Linear(d, d)

            def forward(self, ids, mask):
                pos = torch.arange(ids.shape[1], device=ids.device)
                x = self.ln(self.tok(ids) + self.pos(pos).unsqueeze(0))
                # additive float mask (B, 1, 1, S) broadcast over heads
                # is what BERT does; nn.TransformerEncoder takes a bool
                # key padding mask (True = ignore).
                x = self.enc(x, src_key_padding_mask=mask == 0)
                return torch.tanh(self.head(x[:, 0]))  # pooled output

        return Model(), [("ids", (1, seq), ("i64", vocab)),
                         ("mask", (1, seq), "mask")]


class GptLike(object):
    """Pre-LayerNorm decoder blocks with a causal mask (tril buffer +
    masked_fill) and tanh-approximated GELU."""

    @staticmethod
    def build(vocab=1000, seq=32, d=128, heads=4, layers=2):
        import torch
        from torch import nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.ln1 = nn.LayerNorm(d)
                self.qkv = nn.Linear(d, 3 * d)
                self.proj = nn.Linear(d, d)
                self.ln2 = nn.LayerNorm(d)
                self.fc = nn.Linear(d, 4 * d)
                self.out = nn.Linear(4 * d, d)
                self.act = nn.GELU(approximate="tanh")
                self.register_buffer(
                    "causal", torch.tril(torch.ones(seq, seq)).view(
                        1, 1, seq, seq))

            def forward(self, x):
                b, s, _ = x.shape
                q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
                dh = d // heads
                q = q.view(b, s, heads, dh).transpose(1, 2)
                k = k.view(b, s, heads, dh).transpose(1, 2)
                v = v.view(b, s, heads, dh).transpose(1, 2)
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(dh))
                att = att.masked_fill(self.causal[:, :, :s, :s] == 0,
                                      float("-inf"))
                att = torch.softmax(att, dim=-1)
                y = (att @ v).transpose(1, 2).contiguous().view(b, s, d)
                x = x + self.proj(y)
                return x + self.out(self.act(self.fc(self.ln2(x))))

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.tok = nn.Embedding(vocab, d)
                self.pos = nn.Parameter(torch.randn(1, seq, d) * 0.02)
                self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
                self.ln = nn.LayerNorm(d)
                self.lm = nn.Linear(d, vocab, bias=False)

            def forward(self, ids):
                x = self.tok(ids) + self.pos[:, :ids.shape[1]]
                return self.lm(self.ln(self.blocks(x)))

        return Model(), [("ids", (1, seq), ("i64", vocab))]


class BertAddMask(object):
    """BERT written out (HuggingFace style): word + position + token-type
    embeddings, an additive attention mask (1 - mask) * -10000 broadcast as
    (B, 1, 1, S), erf GELU, post-LayerNorm, tanh pooler."""

    @staticmethod
    def build(vocab=1000, seq=32, d=128, heads=4, layers=2):
        import torch
        from torch import nn

        class Layer(nn.Module):
            def __init__(self):
                super().__init__()
                self.q, self.k, self.v = (nn.Linear(d, d) for _ in range(3))
                self.o = nn.Linear(d, d)
                self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-12), \
                    nn.LayerNorm(d, eps=1e-12)
                self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

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
                h = nn.functional.gelu(self.fc1(x))
                return self.ln2(x + self.fc2(h))

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.word = nn.Embedding(vocab, d)
                self.pos = nn.Embedding(seq, d)
                self.typ = nn.Embedding(2, d)
                self.ln = nn.LayerNorm(d, eps=1e-12)
                self.layers = nn.ModuleList(Layer() for _ in range(layers))
                self.pool = nn.Linear(d, d)

            def forward(self, ids, mask, types):
                pos = torch.arange(ids.shape[1]).unsqueeze(0)
                x = self.ln(self.word(ids) + self.pos(pos) + self.typ(types))
                add = (1.0 - mask[:, None, None, :].to(x.dtype)) * -10000.0
                for layer in self.layers:
                    x = layer(x, add)
                return torch.tanh(self.pool(x[:, 0]))

        return Model(), [("ids", (1, seq), ("i64", vocab)),
                         ("mask", (1, seq), "mask"),
                         ("types", (1, seq), ("i64", 2))]


class MhaDecoder(object):
    """nn.MultiheadAttention with a float causal attn_mask (-inf above the
    diagonal) and ReLU feed-forward: torch's own attention export."""

    @staticmethod
    def build(seq=16, d=64, heads=4):
        import torch
        from torch import nn

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.att = nn.MultiheadAttention(d, heads, batch_first=True)
                self.ln = nn.LayerNorm(d)
                self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(),
                                        nn.Linear(2 * d, d))
                self.register_buffer("causal", torch.triu(
                    torch.full((seq, seq), float("-inf")), diagonal=1))

            def forward(self, x):
                a, _ = self.att(x, x, x, attn_mask=self.causal,
                                need_weights=False)
                x = self.ln(x + a)
                return x + self.ff(x)

        return Model(), [("x", (1, seq, d), "f32")]


def _seg(name, size=224):
    """A torchvision segmentation model; the wrapper returns the 'out'
    tensor of its dict."""
    def build():
        import torch
        import torchvision

        class Out(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, x):
                return self.m(x)["out"]
        m = getattr(torchvision.models.segmentation, name)(
            weights=None, weights_backbone=None)
        return Out(m), [("input", (1, 3, size, size), "f32")]
    return build


# More families, opset 17 only by default (--extra).
EXTRA = [
    ("alexnet", _tv("alexnet")),
    ("vgg11", _tv("vgg11")),
    ("mnasnet0_5", _tv("mnasnet0_5")),
    ("resnext50_32x4d", _tv("resnext50_32x4d")),
    ("efficientnet_v2_s", _tv("efficientnet_v2_s")),
    ("swin_t", _tv("swin_t")),
    ("lraspp_mobilenet_v3_large", _seg("lraspp_mobilenet_v3_large")),
    ("deeplabv3_mobilenet_v3_large",
     _seg("deeplabv3_mobilenet_v3_large")),
]

CNNS = [
    ("resnet18", _tv("resnet18")),
    ("resnet50", _tv("resnet50")),
    ("mobilenet_v2", _tv("mobilenet_v2")),
    ("mobilenet_v3_small", _tv("mobilenet_v3_small")),
    ("efficientnet_b0", _tv("efficientnet_b0")),
    ("squeezenet1_1", _tv("squeezenet1_1")),
    ("shufflenet_v2_x0_5", _tv("shufflenet_v2_x0_5")),
    ("densenet121", _tv("densenet121")),
    ("regnet_y_400mf", _tv("regnet_y_400mf")),
    ("convnext_tiny", _tv("convnext_tiny")),
    ("vit_b_16", _tv("vit_b_16")),
    # GoogLeNet with torchvision's init (truncated normal, std 0.01) and
    # Inception v3 with torch's default init have outputs that do not depend
    # on the input (the activations die out); the other init works for each.
    ("googlenet", _tv("googlenet", aux_logits=False, init_weights=False)),
    ("inception_v3", _tv("inception_v3", size=299, aux_logits=False,
                         init_weights=True)),
]
TRANSFORMERS = [
    ("bert_like", BertLike.build),
    ("gpt_like", GptLike.build),
    ("bert_addmask", BertAddMask.build),
    ("mha_decoder", MhaDecoder.build),
]
BUILDERS = dict(CNNS + TRANSFORMERS + EXTRA)
# Dynamic-batch variants: (case name, model, symbolic dim, bound size).
DYNAMIC = [("resnet18", "N", 2), ("bert_like", "N", 2)]


# ---------------------------------------------------------------- helpers

def make_inputs(specs, batch, seed=0):
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, shape, kind in specs:
        shape = (batch,) + tuple(shape[1:])
        if kind == "f32":
            feeds[name] = rng.standard_normal(shape).astype(np.float32)
        elif kind == "mask":
            m = np.ones(shape, np.int64)
            m[..., shape[-1] * 3 // 4:] = 0  # last quarter is padding
            feeds[name] = m
        else:
            feeds[name] = rng.integers(0, kind[1], shape).astype(np.int64)
    return feeds


def export(model, specs, path, opset, dyn_dim=None, fold=True):
    import torch
    model.eval()
    ex = make_inputs(specs, 1)
    args = tuple(torch.from_numpy(ex[n]) for n, _, _ in specs)
    names = [n for n, _, _ in specs]
    dyn = None
    if dyn_dim:
        dyn = {n: {0: dyn_dim} for n in names}
        dyn["output"] = {0: dyn_dim}
    # Grad stays enabled: under no_grad, eval-mode nn.MultiheadAttention
    # and nn.TransformerEncoderLayer take torch 1.13's fused fast path
    # (aten::_native_multi_head_attention), which has no ONNX export.
    torch.onnx.export(model, args, path, input_names=names,
                      output_names=["output"], opset_version=opset,
                      do_constant_folding=fold, dynamic_axes=dyn)


def rel_l2(out, ref):
    out = out.astype(np.float64)
    ref = ref.astype(np.float64)
    den = np.linalg.norm(ref)
    num = np.linalg.norm(out - ref)
    return num / den if den else num


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_tool(cmd, log, timeout):
    """Returns (exit status, output, wall seconds, CPU seconds)."""
    t0, c0 = time.monotonic(), child_cpu()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        rc, text = p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        rc, text = 124, (e.stdout or b"").decode(errors="replace")
        text += f"\ntimed out after {timeout} s\n"
    with open(log, "w") as f:
        f.write(" ".join(cmd) + "\n" + text)
    return rc, text, time.monotonic() - t0, child_cpu() - c0


def last_line(text):
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:150] if lines else ""


def check_case(args, case, model_name, opset, dyn=None):
    """Returns a row: dict(case, opset, compile_s, err, status, note)."""
    import onnxruntime as ort
    import torch
    row = dict(case=case, opset=opset, compile_s=None, cpu_s=None, err=None,
               status="FAIL", note="")
    raw = "-raw" if args.no_fold else ""
    work = os.path.join(args.work_dir, f"{case}-op{opset}{raw}")
    os.makedirs(work, exist_ok=True)
    onnx_path = os.path.join(work, "model.onnx")
    torch.manual_seed(0)
    try:
        model, specs = BUILDERS[model_name]()
        export(model, specs, onnx_path, opset, dyn[0] if dyn else None,
               not args.no_fold)
    except Exception as e:  # torch cannot export this model at this opset
        row["status"], row["note"] = "NOEXPORT", f"{type(e).__name__}: " + \
            str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        if args.verbose:
            traceback.print_exc()
        return row
    batch = dyn[1] if dyn else 1
    feeds = make_inputs(specs, batch, seed=1)
    # Graph optimizations off: ORT's PadFusion folds Pad into AveragePool
    # without setting count_include_pad (Inception v3's pooling branches
    # come out wrong with it on); the reference is the plain op semantics.
    so = ort.SessionOptions()
    if not args.ort_opt:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(onnx_path, so,
                                providers=["CPUExecutionProvider"])
    out_names = [o.name for o in sess.get_outputs()]
    refs = sess.run(out_names, feeds)
    # A model whose output does not depend on its input (dead activations
    # from an init) would pass any compiler that gets the biases right.
    other = sess.run(out_names, make_inputs(specs, batch, seed=2))
    weak = all(rel_l2(o, r) < 1e-6 for o, r in zip(other, refs))

    so = os.path.join(work, "model.so")
    cmd = [args.mlc, "compile", onnx_path, "-o", so]
    if dyn:
        cmd += ["--dim", f"{dyn[0]}={dyn[1]}"]
    rc, text, secs, cpu = run_tool(cmd, os.path.join(work, "compile.log"),
                                   args.timeout)
    row["compile_s"], row["cpu_s"] = secs, cpu
    if rc != 0:
        row["note"] = "compile: " + last_line(text)
        return row
    in_args = []
    for name, arr in feeds.items():
        p = os.path.join(work, f"in_{name}.npy")
        np.save(p, arr)
        in_args += ["--input", f"{name}={p}"]
    out_dir = os.path.join(work, "out")
    rc, text, _, _ = run_tool([args.mlc, "run", so] + in_args +
                           ["--output-dir", out_dir],
                           os.path.join(work, "run.log"), args.timeout)
    if rc != 0:
        row["note"] = "run: " + last_line(text)
        return row
    worst = 0.0
    for name, ref in zip(out_names, refs):
        p = os.path.join(out_dir, f"{name}.npy")
        if not os.path.exists(p):
            row["note"] = f"output {name} not written"
            return row
        out = np.load(p)
        if out.shape != ref.shape or out.dtype != ref.dtype:
            row["note"] = (f"output {name} is {out.dtype}{list(out.shape)},"
                           f" expected {ref.dtype}{list(ref.shape)}")
            return row
        worst = max(worst, rel_l2(out, ref))
    row["err"] = worst
    if not np.isfinite(worst) or worst > args.tol:
        row["note"] = f"rel L2 above {args.tol:g}"
        return row
    if weak:
        row["status"], row["note"] = "WEAK", "output does not depend on input"
        return row
    row["status"] = "PASS"
    return row


def fmt_row(r):
    cs = "-" if r["compile_s"] is None else f"{r['compile_s']:.1f}"
    cpu = "-" if r.get("cpu_s") is None else f"{r['cpu_s']:.1f}"
    err = "-" if r["err"] is None else f"{r['err']:.2e}"
    return (f"| {r['case']} | {r['opset']} | {cs} | {cpu} | {err} |"
            f" {r['status']} | {r['note']} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mlc", default="build/tools/mlc")
    ap.add_argument("--work-dir", default="build/models")
    ap.add_argument("--opsets", default="13,14,17",
                    help="comma-separated opsets (default 13,14,17)")
    ap.add_argument("--cnn-opsets", default="",
                    help="opsets for the CNNs (default: --opsets)")
    ap.add_argument("--only", default="",
                    help="comma-separated model names (default: all)")
    ap.add_argument("--no-dynamic", action="store_true")
    ap.add_argument("--extra", action="store_true",
                    help="also the EXTRA families (segmentation, Swin, ...)"
                    " at the highest opset")
    ap.add_argument("--no-fold", action="store_true",
                    help="export with do_constant_folding=False (the raw "
                    "exporter graph, shape chains and weight transposes in)")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--ort-opt", action="store_true",
                    help="leave ONNX Runtime's graph optimizations on")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    args.mlc = os.path.abspath(args.mlc)
    if not os.access(args.mlc, os.X_OK):
        print(f"check_models: {args.mlc} is not an executable",
              file=sys.stderr)
        return 2
    only = set(filter(None, args.only.split(",")))
    opsets = [int(o) for o in args.opsets.split(",")]
    cnn_opsets = [int(o) for o in (args.cnn_opsets or args.opsets).split(",")]

    plan = []
    for name, _ in CNNS:
        plan += [(name, name, o, None) for o in cnn_opsets]
    for name, _ in TRANSFORMERS:
        plan += [(name, name, o, None) for o in opsets]
    if args.extra:
        plan += [(name, name, max(opsets), None) for name, _ in EXTRA]
    if not args.no_dynamic:
        for name, sym, n in DYNAMIC:
            plan.append((f"{name}_dyn{sym}={n}", name, max(opsets),
                         (sym, n)))
    plan = [p for p in plan if not only or p[1] in only or p[0] in only]

    print("| model | opset | compile s (wall) | compile s (CPU) | rel L2 |"
          " status | note |")
    print("| --- | --- | --- | --- | --- | --- | --- |", flush=True)
    rows = []
    for case, model, opset, dyn in plan:
        try:
            r = check_case(args, case, model, opset, dyn)
        except Exception as e:
            r = dict(case=case, opset=opset, compile_s=None, cpu_s=None,
                     err=None,
                     status="ERROR", note=f"{type(e).__name__}: {e}"[:150])
        rows.append(r)
        print(fmt_row(r), flush=True)
    bad = [r for r in rows if r["status"] != "PASS"]
    print(f"\n{len(rows) - len(bad)} of {len(rows)} cases pass")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
