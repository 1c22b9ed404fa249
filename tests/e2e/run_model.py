#!/usr/bin/env python3
"""End-to-end test of one model: export it from torch to ONNX (random
weights, fixed seeds; see models.py), compile it with `mlc compile`, run it
with `mlc run` on a random input, and compare with ONNX Runtime on the
same input.  Passes when the relative L2 error ||mlc - ort|| / ||ort|| of
every output is at most --tol (default 1e-4).

Files go to OUT/<model>/ (model.onnx, model.so, input.pb, outputs).
Exit 0 on pass, 1 on fail.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import mlctest  # noqa: E402
import models  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", choices=sorted(models.BUILDERS))
    ap.add_argument("--mlc", required=True)
    ap.add_argument("--out-dir", default="e2e")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--timeout", type=float, default=500)
    args = ap.parse_args()
    args.mlc = mlctest.find_mlc(args.mlc)
    if not args.mlc:
        return 1

    work = os.path.join(args.out_dir, args.model)
    os.makedirs(work, exist_ok=True)
    onnx_path = os.path.join(work, "model.onnx")
    t0 = time.monotonic()
    shape = models.export(args.model, onnx_path)
    print(f"exported {args.model} to {onnx_path} "
          f"({time.monotonic() - t0:.1f} s)")

    rng = np.random.default_rng(models.SEED)
    x = rng.standard_normal(shape).astype(np.float32)
    in_path = os.path.join(work, "input.pb")
    mlctest.write_tensor(in_path, x, "input")
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    out_names = [o.name for o in sess.get_outputs()]
    refs = sess.run(out_names, {"input": x})

    so = os.path.join(work, "model.so")
    t0 = time.monotonic()
    c = mlctest.mlc_compile(args.mlc, onnx_path, so, args.timeout)
    if not c.ok:
        print(c.stderr[-4000:], file=sys.stderr)
        print(f"FAIL {args.model}: {c.why('mlc compile')}")
        return 1
    print(f"compiled in {time.monotonic() - t0:.1f} s")
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir, exist_ok=True)
    r = mlctest.mlc_run(args.mlc, so, [("input", in_path)], out_dir,
                        args.timeout)
    if not r.ok:
        print(r.stderr[-4000:], file=sys.stderr)
        print(f"FAIL {args.model}: {r.why('mlc run')}")
        return 1
    got = mlctest.find_outputs(out_dir, out_names)
    worst = 0.0
    for name, ref in zip(out_names, refs):
        if name not in got:
            print(f"FAIL {args.model}: output {name} not written by mlc run")
            return 1
        out = numpy_helper.to_array(got[name])
        if out.shape != ref.shape or out.dtype != ref.dtype:
            print(f"FAIL {args.model}: output {name} is {out.dtype}"
                  f"{list(out.shape)}, expected {ref.dtype}{list(ref.shape)}")
            return 1
        err = mlctest.rel_l2(out, ref)
        worst = max(worst, err)
        print(f"{args.model} output {name}: relative L2 error {err:.3e} "
              f"(max abs diff {np.max(np.abs(out - ref)):.3e}, mean |ref| "
              f"{np.mean(np.abs(ref)):.3e}, tolerance {args.tol:g})")
    ok = worst <= args.tol
    print(f"{'PASS' if ok else 'FAIL'} {args.model}: relative L2 error "
          f"{worst:.3e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
