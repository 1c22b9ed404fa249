"""The engines the benchmark compares, each behind one small interface:

    eng = Engine.open(onnx_path, feeds, threads)   # may raise EngineError
    eng.run()                                      # one inference, timed
    eng.outputs()                                  # list of np.ndarray
    eng.close()

Every engine reads inputs from, and writes outputs to, buffers allocated
once and 64-byte aligned, so a timed run() is the inference plus the
call's own overhead and nothing else:

- mlc: the library that `mlc compile` wrote, run in this process through
  libmlcrt with ctypes (include/mlc/mlcrt.h): one session per thread count
  (num_threads T; 1 runs on the calling thread), inputs and outputs bound
  once, run() is mlcrt_session_run.  In-process rather than `mlc bench`,
  so rounds can alternate with the other engines run by run, on the same
  process, the same inputs, and with outputs we can compare.
- ort: ONNX Runtime, CPU provider, all graph optimisations, intra-op
  threads T, inter-op 1, sequential execution; inputs and outputs bound
  with IOBinding (run_with_iobinding), which skips the per-call copies of
  InferenceSession.run.
- ov: OpenVINO on CPU, INFERENCE_NUM_THREADS T, PERFORMANCE_HINT LATENCY
  and INFERENCE_PRECISION_HINT f32: without it OpenVINO runs fp32 models
  in bf16 on CPUs that have avx512_bf16 or AMX.  One infer request, input
  tensors that share our buffers.

`compile_mlc` runs `mlc compile` and measures its wall time and the peak
RSS of that one process (the rusage from wait4 in a small launcher).
"""
import ctypes
import os
import subprocess
import sys
import time

import numpy as np


class EngineError(Exception):
    """One engine failed on one workload: the message is the table's
    reason."""


def aligned_like(arr, align=64):
    """A copy of `arr` whose data starts on an `align`-byte boundary."""
    out = aligned_empty(arr.shape, arr.dtype, align)
    out[...] = arr
    return out


def aligned_empty(shape, dtype, align=64):
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + align, np.uint8)
    off = (-raw.ctypes.data) % align
    return raw[off:off + nbytes].view(dtype).reshape(shape)


# ------------------------------------------------------------ mlc compile

# Runs argv[2:] as a child and writes "SECONDS MAXRSS_KIB EXIT" to the file
# argv[1].  The peak RSS must come from a small parent: a child forked from
# this process (ONNX Runtime, OpenVINO and the models loaded) inherits its
# high-water mark, which Linux keeps across exec.
_LAUNCHER = """
import os, sys, time
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%f %d %d" % (time.monotonic() - t0, ru.ru_maxrss,
                          os.waitstatus_to_exitcode(status)))
"""


def compile_mlc(mlc, onnx_path, so_path, log_path, timeout):
    """Runs `mlc compile`; returns dict(seconds, peak_rss_mib) or raises
    EngineError with the compiler's last message line."""
    cmd = [mlc, "compile", onnx_path, "-o", so_path]
    stats = log_path + ".rusage"
    with open(log_path, "w") as log:
        log.write(" ".join(cmd) + "\n")
        log.flush()
        try:
            subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, stats]
                           + cmd, stdout=log, stderr=subprocess.STDOUT,
                           timeout=timeout)
        except subprocess.TimeoutExpired:
            raise EngineError(f"compile: timed out after {timeout:.0f} s")
    try:
        with open(stats) as f:
            secs, rss_kib, rc = f.read().split()
        os.unlink(stats)
    except (OSError, ValueError):
        raise EngineError("compile: the launcher wrote no statistics")
    if int(rc) != 0:
        with open(log_path) as f:
            lines = [ln.strip() for ln in f if ln.strip()]
        why = lines[-1] if len(lines) > 1 else f"exit {rc}"
        raise EngineError("compile: " + why.replace("mlc: error: ", ""))
    return dict(seconds=float(secs), peak_rss_mib=int(rss_kib) / 1024.0)


# ------------------------------------------------------------------- mlc

class _Info(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32),
                ("dims", ctypes.POINTER(ctypes.c_int64)),
                ("dim_names", ctypes.c_void_p), ("nbytes", ctypes.c_size_t)]


class _Options(ctypes.Structure):
    _fields_ = [("num_threads", ctypes.c_int32)]


_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16,
           5: np.int16, 6: np.int32, 7: np.int64, 9: np.bool_,
           10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}


class Mlcrt(object):
    """libmlcrt loaded with ctypes: the few entry points the bench uses."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        P, I, S = ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t
        sigs = {
            "mlcrt_status_message": ([P], ctypes.c_char_p),
            "mlcrt_status_free": ([P], None),
            "mlcrt_model_load": ([ctypes.c_char_p, ctypes.POINTER(P)], P),
            "mlcrt_model_release": ([P], None),
            "mlcrt_model_num_inputs": ([P], I),
            "mlcrt_model_num_outputs": ([P], I),
            "mlcrt_model_input_info": ([P, I, ctypes.POINTER(_Info)], P),
            "mlcrt_model_output_info": ([P, I, ctypes.POINTER(_Info)], P),
            "mlcrt_session_create": ([P, ctypes.POINTER(_Options),
                                      ctypes.POINTER(P)], P),
            "mlcrt_session_release": ([P], None),
            "mlcrt_session_bind_input": ([P, I, P, S], P),
            "mlcrt_session_bind_output": ([P, I, P, S], P),
            "mlcrt_session_run": ([P], P),
        }
        for name, (args, res) in sigs.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = args, res
        self.lib = lib

    def check(self, st, what):
        if st:
            msg = self.lib.mlcrt_status_message(st).decode(errors="replace")
            self.lib.mlcrt_status_free(st)
            raise EngineError(f"{what}: {msg}")


class MlcModel(object):
    """A compiled model loaded once, shared by the sessions of each thread
    count."""

    def __init__(self, rt, so_path):
        self.rt = rt
        self.handle = ctypes.c_void_p()
        rt.check(rt.lib.mlcrt_model_load(so_path.encode(),
                                         ctypes.byref(self.handle)), "load")

    def tensors(self, output):
        lib = self.rt.lib
        count = (lib.mlcrt_model_num_outputs if output
                 else lib.mlcrt_model_num_inputs)(self.handle)
        info_fn = (lib.mlcrt_model_output_info if output
                   else lib.mlcrt_model_input_info)
        out = []
        for i in range(count):
            info = _Info()
            self.rt.check(info_fn(self.handle, i, ctypes.byref(info)),
                          "describing tensors")
            dims = tuple(info.dims[d] for d in range(info.rank))
            out.append((info.name.decode(), _DTYPES.get(info.dtype), dims,
                        info.nbytes))
        return out

    def close(self):
        if self.handle:
            self.rt.lib.mlcrt_model_release(self.handle)
            self.handle = None


class MlcEngine(object):
    name = "mlc"

    def __init__(self, model, feeds, threads):
        self.rt, lib = model.rt, model.rt.lib
        self.session = ctypes.c_void_p()
        opts = _Options(threads)
        self.rt.check(lib.mlcrt_session_create(
            model.handle, ctypes.byref(opts), ctypes.byref(self.session)),
            "session")
        self.bufs, self.outs = [], []
        for i, (name, dtype, dims, nbytes) in enumerate(model.tensors(False)):
            if name not in feeds:
                raise EngineError(f"the model has an input '{name}' that "
                                  "the workload does not feed")
            arr = aligned_like(feeds[name])
            if arr.nbytes != nbytes:
                raise EngineError(f"input '{name}' is {arr.nbytes} bytes, "
                                  f"the model wants {nbytes}")
            self.bufs.append(arr)
            self.rt.check(lib.mlcrt_session_bind_input(
                self.session, i, arr.ctypes.data, arr.nbytes), "bind")
        for i, (name, dtype, dims, nbytes) in enumerate(model.tensors(True)):
            if dtype is None:
                raise EngineError(f"output '{name}' has a dtype numpy lacks")
            arr = aligned_empty(dims, dtype)
            self.outs.append(arr)
            self.rt.check(lib.mlcrt_session_bind_output(
                self.session, i, arr.ctypes.data, arr.nbytes), "bind")
        self._run = lib.mlcrt_session_run

    def run(self):
        st = self._run(self.session)
        if st:
            self.rt.check(st, "run")

    def outputs(self):
        return list(self.outs)

    def close(self):
        if self.session:
            self.rt.lib.mlcrt_session_release(self.session)
            self.session = None


# ------------------------------------------------------------------- ORT

class OrtEngine(object):
    name = "ort"

    def __init__(self, onnx_path, feeds, threads):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self.sess = ort.InferenceSession(
                onnx_path, so, providers=["CPUExecutionProvider"])
            names = [o.name for o in self.sess.get_outputs()]
            first = self.sess.run(names, feeds)
        except Exception as e:  # ORT raises its own exception types
            raise EngineError(_first_line(e))
        self.bufs = {k: aligned_like(v) for k, v in feeds.items()}
        self.outs = [aligned_empty(r.shape, r.dtype) for r in first]
        self.io = self.sess.io_binding()
        for k, v in self.bufs.items():
            self.io.bind_cpu_input(k, v)
        for name, arr in zip(names, self.outs):
            self.io.bind_output(name, "cpu", 0, arr.dtype, arr.shape,
                                arr.ctypes.data)
        self._run = self.sess.run_with_iobinding

    def run(self):
        self._run(self.io)

    def outputs(self):
        return list(self.outs)

    def close(self):
        self.io = self.sess = None


# -------------------------------------------------------------- OpenVINO

class OvEngine(object):
    name = "ov"

    def __init__(self, onnx_path, feeds, threads):
        try:
            import openvino as ov
        except ImportError as e:
            raise EngineError(f"openvino is not installed ({e})")
        cfg = {"INFERENCE_NUM_THREADS": str(threads),
               "PERFORMANCE_HINT": "LATENCY",
               "INFERENCE_PRECISION_HINT": "f32"}
        try:
            core = ov.Core()
            self.compiled = core.compile_model(onnx_path, "CPU", cfg)
            self.precision = str(self.compiled.get_property(
                "INFERENCE_PRECISION_HINT"))
            self.req = self.compiled.create_infer_request()
            self.bufs = {}
            for port in self.compiled.inputs:
                name = port.get_any_name()
                if name not in feeds:
                    raise EngineError(f"no feed for input '{name}'")
                arr = aligned_like(feeds[name])
                self.bufs[name] = arr
                self.req.set_tensor(port, ov.Tensor(arr, shared_memory=True))
            self.req.infer()
        except EngineError:
            raise
        except Exception as e:  # OpenVINO raises RuntimeError and others
            raise EngineError(_first_line(e))
        if self.precision not in ("f32", "<Type: 'float32'>"):
            raise EngineError(f"inference precision is {self.precision}, "
                              "not f32")
        self._run = self.req.infer

    def run(self):
        self._run()

    def outputs(self):
        return [self.req.get_output_tensor(i).data.copy()
                for i in range(len(self.compiled.outputs))]

    def close(self):
        self.req = self.compiled = None


def _first_line(e):
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:300]


def rel_l2(out, ref):
    out = np.asarray(out, np.float64)
    ref = np.asarray(ref, np.float64)
    if out.shape != ref.shape:
        return float("inf")
    den = np.linalg.norm(ref)
    num = np.linalg.norm(out - ref)
    return float(num / den) if den else float(num)
