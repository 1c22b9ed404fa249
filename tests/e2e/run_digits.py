#!/usr/bin/env python3
"""End-to-end test of the bundled example model (examples/digits): compile
digits.onnx with mlc, run every held-out image through `mlc run`, and check
(1) the logits against ONNX Runtime, relative L2 error <= --tol over all
images, and (2) the accuracy against the labels, >= 0.95.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import mlctest  # noqa: E402

DIGITS = os.path.join(HERE, "..", "..", "examples", "digits")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mlc", required=True)
    ap.add_argument("--out-dir", default="e2e")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    args.mlc = mlctest.find_mlc(args.mlc)
    if not args.mlc:
        return 1
    work = os.path.join(args.out_dir, "digits")
    os.makedirs(work, exist_ok=True)
    model = os.path.join(DIGITS, "digits.onnx")
    images = np.load(os.path.join(DIGITS, "test_images.npy"))
    labels = np.load(os.path.join(DIGITS, "test_labels.npy"))

    so = os.path.join(work, "digits.so")
    c = mlctest.mlc_compile(args.mlc, model, so, 300)
    if not c.ok:
        print(c.stderr[-4000:], file=sys.stderr)
        print(f"FAIL digits: {c.why('mlc compile')}")
        return 1
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    outs, refs = [], []
    for i in range(len(images)):
        x = images[i:i + 1]
        in_path = os.path.join(work, "image.pb")
        mlctest.write_tensor(in_path, x, "image")
        out_dir = os.path.join(work, "out")
        os.makedirs(out_dir, exist_ok=True)
        r = mlctest.mlc_run(args.mlc, so, [("image", in_path)], out_dir, 60)
        got = mlctest.find_outputs(out_dir, ["logits"]) if r.ok else {}
        if "logits" not in got:
            print(r.stderr[-4000:], file=sys.stderr)
            print(f"FAIL digits: image {i}: "
                  + (r.why("mlc run") if not r.ok else "no logits written"))
            return 1
        outs.append(numpy_helper.to_array(got["logits"]))
        refs.append(sess.run(["logits"], {"image": x})[0])
    outs, refs = np.stack(outs), np.stack(refs)
    if outs.shape != refs.shape:
        print(f"FAIL digits: logits shape {outs.shape} != {refs.shape}")
        return 1
    err = mlctest.rel_l2(outs, refs)
    acc = float((outs.reshape(len(labels), -1).argmax(1) == labels).mean())
    print(f"digits: {len(labels)} images, relative L2 error {err:.3e} "
          f"(tolerance {args.tol:g}), accuracy {acc:.4f} (minimum 0.95)")
    ok = err <= args.tol and acc >= 0.95
    print(f"{'PASS' if ok else 'FAIL'} digits")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
