"""Shared helpers for mlc's Python-driven test suites (tests/conformance,
tests/e2e): driving `mlc compile` / `mlc run` as subprocesses, reading and
writing TensorProto files, and comparing tensors.

Assumes the `onnx` and `numpy` packages (the build's venv has them; see
tests/python/requirements.txt).  The mlc binary is passed in by the caller
(CTest gives its path); nothing here looks it up on PATH.
"""
import os
import re
import signal
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

# Element types mlc does not claim: strings, and the sub-byte and 8-bit
# float formats (FLOAT8*, UINT4, INT4, FLOAT4E2M1 and anything newer).
UNCLAIMED_ELEM_TYPES = {8: "string"}
for _code in range(17, 64):
    UNCLAIMED_ELEM_TYPES[_code] = f"element type {_code} (sub-byte or 8-bit float)"
for _name, _code in onnx.TensorProto.DataType.items():
    if _code in UNCLAIMED_ELEM_TYPES:
        UNCLAIMED_ELEM_TYPES[_code] = _name.lower()


class Outcome:
    """What one subprocess did: return code, output, and how it ended."""

    def __init__(self, rc, stdout, stderr, timed_out=False):
        self.rc, self.stdout, self.stderr = rc, stdout, stderr
        self.timed_out = timed_out

    @property
    def ok(self):
        return self.rc == 0 and not self.timed_out

    def why(self, what):
        """One line saying how `what` failed."""
        if self.timed_out:
            return f"{what} timed out"
        if self.rc < 0:
            try:
                name = signal.Signals(-self.rc).name
            except ValueError:
                name = str(-self.rc)
            return f"{what} crashed ({name})"
        lines = [l.strip() for l in self.stderr.splitlines() if l.strip()]
        last = lines[-1] if lines else "(no message)"
        return f"{what} exit {self.rc}: {last[:500]}"


def find_mlc(path):
    """The absolute path of the mlc binary, or None (after saying why on
    stderr) when it is not an executable file."""
    path = os.path.abspath(path)
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    print(f"error: mlc binary not found at {path} (build it first)",
          file=sys.stderr)
    return None


def run_cmd(argv, timeout, cwd=None):
    """Runs argv, capturing output; never raises for a timeout."""
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                           errors="replace", timeout=max(timeout, 1))
        return Outcome(p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired as e:
        def text(b):
            return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
        return Outcome(-9, text(e.stdout), text(e.stderr), timed_out=True)


def mlc_compile(mlc, model, out_so, timeout, extra=()):
    return run_cmd([mlc, "compile", model, "-o", out_so, *extra], timeout)


def mlc_run(mlc, so, inputs, out_dir, timeout):
    """inputs: list of (name, path to a TensorProto file)."""
    argv = [mlc, "run", so]
    for name, path in inputs:
        argv += ["--input", f"{name}={path}"]
    argv += ["--output-dir", out_dir, "--output-format", "pb"]
    return run_cmd(argv, timeout)


def is_unsupported(outcome):
    """mlc compile's way of saying "not claimed yet": exit 1 and a message
    containing "unsupported"."""
    return (outcome.rc == 1 and not outcome.timed_out
            and "unsupported" in outcome.stderr.lower())


def unsupported_line(outcome):
    for line in outcome.stderr.splitlines():
        if "unsupported" in line.lower():
            return line.strip()[:300]
    return "unsupported"


def graph_input_names(model):
    """Graph inputs that are not initializers, in order."""
    inits = {t.name for t in model.graph.initializer}
    return [v.name for v in model.graph.input if v.name not in inits]


def unclaimed_type(type_proto):
    """Why a ValueInfo's type is one mlc does not claim, or None."""
    kind = type_proto.WhichOneof("value")
    if kind in ("sequence_type", "optional_type", "map_type",
                "sparse_tensor_type", "opaque_type"):
        return kind.replace("_type", "") + " type"
    if kind == "tensor_type":
        return UNCLAIMED_ELEM_TYPES.get(type_proto.tensor_type.elem_type)
    return None


def read_tensor(path):
    """(name, TensorProto) from a file; raises on anything else."""
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, t


def write_tensor(path, array, name):
    t = numpy_helper.from_array(np.ascontiguousarray(array), name=name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def output_file_stem(name, index):
    """The file name `mlc run` gives output `index` called `name`, less
    the extension: characters outside [A-Za-z0-9._-] become '_', and an
    empty name becomes output_<index>."""
    if not name:
        return f"output_{index}"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def find_outputs(out_dir, names):
    """Maps each output name to the TensorProto `mlc run` wrote for it.
    Files are matched by the tensor's own name field first, then by file
    name (see output_file_stem), or output_K.pb by position)."""
    by_name, by_file = {}, {}
    for fn in sorted(os.listdir(out_dir)) if os.path.isdir(out_dir) else []:
        if not fn.endswith(".pb"):
            continue
        try:
            tname, t = read_tensor(os.path.join(out_dir, fn))
        except Exception:  # noqa: BLE001 - a bad file is just not a match
            continue
        if tname:
            by_name.setdefault(tname, t)
        by_file[fn[:-3]] = t
    found = {}
    for k, name in enumerate(names):
        for t in (by_name.get(name), by_file.get(output_file_stem(name, k)),
                  by_file.get(f"output_{k}")):
            if t is not None:
                found[name] = t
                break
    return found


def _as_numbers(t):
    a = numpy_helper.to_array(t)
    if a.dtype.kind in "biuf" or a.dtype == np.bool_:
        return a
    return a.astype(np.float64)  # bfloat16 and friends


def compare(actual, expected, rtol=1e-3, atol=1e-7):
    """None when TensorProto `actual` matches `expected` the way ONNX's
    backend tests check (dtype and shape equal, values within
    |a-e| <= atol + rtol*|e|, NaN equal to NaN); else a one-line reason."""
    if actual.data_type != expected.data_type:
        return (f"dtype {actual.data_type} != expected {expected.data_type}")
    a, e = _as_numbers(actual), _as_numbers(expected)
    if a.shape != e.shape:
        return f"shape {list(a.shape)} != expected {list(e.shape)}"
    if a.dtype.kind in "biu" or a.dtype == np.bool_:
        bad = a != e
    else:
        a64, e64 = a.astype(np.float64), e.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            close = ((np.abs(a64 - e64) <= atol + rtol * np.abs(e64))
                     & np.isfinite(a64) & np.isfinite(e64))
            bad = ~(close | (a64 == e64)  # a64 == e64: equal infinities
                    | (np.isnan(a64) & np.isnan(e64)))
    nbad = int(np.count_nonzero(bad))
    if nbad == 0:
        return None
    i = tuple(int(x) for x in np.argwhere(bad)[0]) if a.ndim else ()
    return (f"{nbad} of {a.size} values differ; first at {list(i)}: "
            f"{a[i]!r} vs expected {e[i]!r}")


def rel_l2(out, ref):
    """||out - ref|| / ||ref||, in float64."""
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    denom = np.linalg.norm(ref)
    return float(np.linalg.norm(out - ref) / (denom if denom else 1.0))
