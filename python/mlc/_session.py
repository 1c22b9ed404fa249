"""mlc.Session: a compiled model loaded with libmlcrt and one runtime
session over it.

Inputs are copied into buffers the session owns (C order, 64-byte
aligned, allocated once and bound at creation), so callers may pass any
array of the right dtype and shape: strided, Fortran order, read-only.
Outputs are fresh arrays on every run, bound just before it, so results
of earlier runs stay valid.  A lock makes run() safe to call from several
threads (the runtime allows one thread per session at a time; the calls
queue); the GIL is released while the model runs.
"""
import ctypes
import os
import threading
from collections import namedtuple

import numpy as np

from . import _runtime
from ._errors import Error

ALIGN = 64

# ONNX TensorProto.DataType numbers (mlcrt_dtype_t) -> numpy.  NumPy has no
# bfloat16: those tensors travel as uint16 bit patterns.
_NUMPY_OF = {
    1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16,
    6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64,
    12: np.uint32, 13: np.uint64, 16: np.uint16,
}

TensorInfo = namedtuple("TensorInfo", "name dtype shape dtype_name dim_names")
TensorInfo.__doc__ = """One input or output of a compiled model.

name:       the ONNX name (bytes that are not UTF-8 as \\xNN escapes)
dtype:      numpy dtype (uint16 for bfloat16)
shape:      tuple of ints, the sizes the model was compiled for
dtype_name: the runtime's name ("float32", ..., "bfloat16")
dim_names:  tuple with the symbolic name of each dim, or None where static
"""


def _aligned_empty(shape, dtype):
    """A C-order array whose data starts on an ALIGN-byte boundary."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
    skip = (-raw.ctypes.data) % ALIGN
    return raw[skip:skip + nbytes].view(dtype).reshape(shape)


def _shape_text(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _info(lib, model, index, output):
    c = _runtime.TensorInfoC()
    get = lib.mlcrt_model_output_info if output else lib.mlcrt_model_input_info
    _runtime.check(get(model, index, ctypes.byref(c)))
    rank = c.rank
    shape = tuple(int(c.dims[d]) for d in range(rank))
    names = None
    if c.dim_names:
        names = tuple(_runtime.decode(c.dim_names[d]) if c.dim_names[d]
                      else None for d in range(rank))
    np_type = _NUMPY_OF.get(c.dtype)
    if np_type is None:
        raise Error(f"{'output' if output else 'input'} "
                    f"'{_runtime.decode(c.name)}': element type {c.dtype} has "
                    "no NumPy equivalent", code="INCOMPATIBLE")
    return TensorInfo(_runtime.decode(c.name), np.dtype(np_type), shape,
                      _runtime.decode(lib.mlcrt_dtype_name(c.dtype)), names), c


class Session:
    """A compiled model (the .so written by `mlc compile`) ready to run.

        with mlc.Session("model.so", threads=2) as s:
            y = s.run({"x": x})["y"]

    threads: worker threads of the session; 0 (default) one per online
    CPU, 1 runs on the calling thread.
    """

    def __init__(self, path, threads=0):
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise TypeError(f"threads must be an int, got {threads!r}")
        if threads < 0:
            raise ValueError(f"threads: {threads} is out of range (>= 0; "
                             "0 means one per CPU)")
        self._model = None
        self._session = None
        self._lib = None
        self.path = os.fspath(path)
        lib = self._lib = _runtime.lib()
        self._lock = threading.Lock()
        model = ctypes.c_void_p()
        _runtime.check(lib.mlcrt_model_load(os.fsencode(self.path),
                                            ctypes.byref(model)))
        self._model = model
        try:
            self._open(lib, threads)
        except BaseException:
            self.close()
            raise

    def _open(self, lib, threads):
        m = self._model
        n_in = lib.mlcrt_model_num_inputs(m)
        n_out = lib.mlcrt_model_num_outputs(m)
        ins = [_info(lib, m, i, False) for i in range(n_in)]
        outs = [_info(lib, m, i, True) for i in range(n_out)]
        self.inputs = [i for i, _ in ins]
        self.outputs = [o for o, _ in outs]
        self._in_dtype = [c.dtype for _, c in ins]
        self._out_dtype = [c.dtype for _, c in outs]
        self.name = _runtime.decode(lib.mlcrt_model_name(m))
        self.target = _runtime.decode(lib.mlcrt_model_target(m))
        self.threads = threads
        self._index = {t.name: i for i, t in enumerate(self.inputs)}
        opts = _runtime.SessionOptionsC(threads)
        s = ctypes.c_void_p()
        _runtime.check(lib.mlcrt_session_create(m, ctypes.byref(opts),
                                                ctypes.byref(s)))
        self._session = s
        # The session's own input buffers, bound once.
        self._buffers = []
        for i, t in enumerate(self.inputs):
            buf = _aligned_empty(t.shape, t.dtype)
            self._bind(i, buf, False)
            self._buffers.append(buf)

    def _bind(self, index, array, output):
        lib = self._lib
        info = (self.outputs if output else self.inputs)[index]
        dtype = (self._out_dtype if output else self._in_dtype)[index]
        dims = (ctypes.c_int64 * max(len(info.shape), 1))(*info.shape)
        bind = (lib.mlcrt_session_bind_output_checked if output
                else lib.mlcrt_session_bind_input_checked)
        _runtime.check(bind(self._session, index,
                            ctypes.c_void_p(array.ctypes.data), array.nbytes,
                            dtype, len(info.shape), dims))

    def __repr__(self):
        state = "closed" if self._session is None else self.name
        return f"<mlc.Session {state} ({self.path})>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def close(self):
        """Releases the session and the model; later calls do nothing.
        Arrays returned by run() stay valid.  A run in progress on another
        thread finishes first."""
        lock = getattr(self, "_lock", None)
        if lock is None:  # __init__ failed before anything was loaded
            return
        with lock:
            lib = self._lib
            if self._session is not None:
                lib.mlcrt_session_release(self._session)
                self._session = None
            if self._model is not None:
                lib.mlcrt_model_release(self._model)
                self._model = None

    def _copy_in(self, name, value):
        i = self._index[name]
        info = self.inputs[i]
        if not isinstance(value, np.ndarray):
            try:
                value = np.asarray(value, dtype=info.dtype)
            except (TypeError, ValueError) as e:
                raise Error(f"input '{name}': cannot convert to "
                            f"{info.dtype_name}: {e}",
                            code="INVALID_ARGUMENT") from None
        if value.dtype != info.dtype:
            raise Error(f"input '{name}': dtype {value.dtype}, the model "
                        f"expects {info.dtype_name}", code="INVALID_ARGUMENT")
        if value.shape != info.shape:
            hint = ""
            if info.dim_names and any(info.dim_names):
                hint = (" (recompile with dim={NAME: N} for other sizes of "
                        "its symbolic dims)")
            raise Error(f"input '{name}': shape {_shape_text(value.shape)}, "
                        "the model was compiled for "
                        f"{_shape_text(info.shape)}{hint}",
                        code="INVALID_ARGUMENT")
        np.copyto(self._buffers[i], value, casting="no")

    def _check_feeds(self, feeds):
        if not hasattr(feeds, "keys") or not hasattr(feeds, "__getitem__"):
            raise TypeError("run() takes a dict of input name -> array, got "
                            f"{type(feeds).__name__}")
        for name in feeds.keys():
            if name not in self._index:
                known = ", ".join(f"'{t.name}'" for t in self.inputs)
                raise Error(f"the model has no input named '{name}' "
                            f"(inputs: {known or 'none'})",
                            code="INVALID_ARGUMENT")
        missing = [t.name for t in self.inputs if t.name not in feeds]
        if missing:
            raise Error("no data for input(s) " +
                        ", ".join(f"'{n}'" for n in missing),
                        code="INVALID_ARGUMENT")

    def run(self, feeds):
        """Runs the model once.  `feeds` maps every input name to an array
        of exactly the input's dtype and shape (other sequences are
        converted to the input's dtype); returns {output name: array}."""
        self._check_feeds(feeds)
        with self._lock:
            if self._session is None:
                raise Error(f"{self.path}: the session is closed",
                            code="FAILED_PRECONDITION")
            for name in feeds.keys():
                self._copy_in(name, feeds[name])
            results = {}
            for i, t in enumerate(self.outputs):
                out = _aligned_empty(t.shape, t.dtype)
                self._bind(i, out, True)
                results[t.name] = out
            _runtime.check(self._lib.mlcrt_session_run(self._session),
                           f"running {self.path}")
        return results
