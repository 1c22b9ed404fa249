#!/usr/bin/env python3
"""End-to-end test of `mlc bench --profile`: compile a small model whose
node names need JSON escaping (quotes, backslash, a tab, one unnamed node),
bench it with --profile, and check the Chrome trace: it parses as JSON;
every call of the plan appears once per profiled run with its ONNX node
names; every node of the model is covered by exactly one call; durations
are non-negative, each kernel event lies inside its run event, and the
kernel durations of a run sum to no more than the run's wall time.  Also
--profile-runs, the summary table, --json with --profile, and an
unwritable trace path.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
import mlctest  # noqa: E402

# name -> what the trace must call it (an unnamed node: its output)
NODES = [
    ("MatMul", ["x", "W"], "m", 'mm "q"/0'),
    ("Add", ["m", "B"], "a", "add\\b"),
    ("Relu", ["a"], "r", "relu\t1"),
    ("Softmax", ["r"], "s", ""),
    ("Tanh", ["s"], "y", "tanh"),
]


def build_model(path):
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((64, 64)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal(64).astype(np.float32), "B")
    nodes = [helper.make_node(op, ins, [out], name=name) for op, ins, out, name in NODES]
    g = helper.make_graph(
        nodes, "prof", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [32, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [32, 64])], [w, b])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    return sorted(name or out for _, _, out, name in NODES)


def fail(msg):
    print(f"FAIL profile: {msg}")
    return 1


def check_trace(trace, runs, expect_nodes):
    """Returns an error string or None."""
    ev = trace["traceEvents"]
    run_ev = [e for e in ev if e.get("ph") == "X" and e.get("cat") == "run"]
    kern = [e for e in ev if e.get("ph") == "X" and e.get("cat") == "kernel"]
    if len(run_ev) != runs:
        return f"{len(run_ev)} run events, expected {runs}"
    calls = {}
    for e in kern:
        calls.setdefault(e["args"]["call"], []).append(e)
    ncalls = len(calls)
    if ncalls < 2 or sorted(calls) != list(range(ncalls)):
        return f"call indexes {sorted(calls)}"
    if len(kern) != runs * ncalls:
        return f"{len(kern)} kernel events for {ncalls} calls x {runs} runs"
    covered = sorted(n for c in calls.values() for n in c[0]["args"]["nodes"])
    if covered != expect_nodes:
        return f"nodes covered {covered}, expected {expect_nodes}"
    for c in calls.values():
        a = c[0]["args"]
        if any(e["args"] != a or e["name"] != a["kernel"] for e in c):
            return f"call {a['call']}: events disagree"
        if a["tiles"] < 1 or a["flops"] < 0:
            return f"call {a['call']}: tiles {a['tiles']} flops {a['flops']}"
    for r in run_ev:
        t0, t1 = r["ts"], r["ts"] + r["dur"]
        inside = [e for e in kern if t0 <= e["ts"] and e["ts"] + e["dur"] <= t1]
        if len(inside) != ncalls:
            return f"run {r['args']['iteration']}: {len(inside)} kernel events inside"
        if any(e["dur"] < 0 or e["ts"] < 0 for e in inside):
            return "negative ts or dur"
        if sum(e["dur"] for e in inside) > r["dur"]:
            return f"run {r['args']['iteration']}: kernels exceed the run"
    return None


def bench(mlc, so, extra):
    return subprocess.run([mlc, "bench", so, "--warmup", "1", "--iters", "6",
                           "--threads", "2"] + extra,
                          capture_output=True, text=True, timeout=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mlc", required=True)
    ap.add_argument("--out-dir", default="e2e")
    args = ap.parse_args()
    args.mlc = mlctest.find_mlc(args.mlc)
    if not args.mlc:
        return 1
    work = os.path.join(args.out_dir, "profile")
    os.makedirs(work, exist_ok=True)
    model, so = os.path.join(work, "prof.onnx"), os.path.join(work, "prof.so")
    trace_path = os.path.join(work, "trace.json")
    expect_nodes = build_model(model)
    c = mlctest.mlc_compile(args.mlc, model, so, 120)
    if not c.ok:
        return fail(c.why("mlc compile") + c.stderr[-2000:])

    r = bench(args.mlc, so, ["--profile", trace_path])
    if r.returncode != 0:
        return fail(f"bench exit {r.returncode}: {r.stderr}")
    with open(trace_path) as f:
        trace = json.load(f)
    err = check_trace(trace, 6, expect_nodes)
    if err:
        return fail(err)
    kernels = {e["name"] for e in trace["traceEvents"] if e.get("cat") == "kernel"}
    if "(outside kernels)" not in r.stdout or any(k not in r.stdout for k in kernels):
        return fail(f"summary lacks a kernel:\n{r.stdout}")
    if "relu\\x091" not in r.stdout:
        return fail(f"summary does not escape the tab:\n{r.stdout}")

    r = bench(args.mlc, so, ["--profile", trace_path, "--profile-runs", "2", "--json"])
    if r.returncode != 0:
        return fail(f"bench --json exit {r.returncode}: {r.stderr}")
    if json.loads(r.stdout).get("profile") != trace_path or "calls" not in r.stderr:
        return fail(f"--json: stdout {r.stdout!r}, stderr {r.stderr!r}")
    with open(trace_path) as f:
        err = check_trace(json.load(f), 2, expect_nodes)
    if err:
        return fail("--profile-runs 2: " + err)

    r = bench(args.mlc, so, ["--profile", os.path.join(work, "no", "dir", "t.json")])
    if r.returncode != 1 or "t.json" not in r.stderr:
        return fail(f"unwritable trace: exit {r.returncode}, {r.stderr!r}")
    print(f"PASS profile ({len(kernels)} kernels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
