"""ctypes bindings of libmlcrt (include/mlc/mlcrt.h), loaded on first use.

Where the library comes from, first match wins:
  1. the MLC_LIB environment variable (a path to libmlcrt.so);
  2. _config.py beside this file, written by the build (absolute paths into
     the build tree) and by `cmake --install` (paths relative to the
     package, so an installed prefix can be moved);
  3. the dynamic loader's own search for libmlcrt.so.0 (LD_LIBRARY_PATH,
     ldconfig), for a libmlcrt installed system-wide.
Only what the package uses is declared here; every function that can fail
returns a status pointer, turned into mlc.Error by check().
"""
import ctypes
import os
import threading

from ._errors import Error

_SONAME = "libmlcrt.so.0"


class TensorInfoC(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("dtype", ctypes.c_int32),
        ("rank", ctypes.c_int32),
        ("dims", ctypes.POINTER(ctypes.c_int64)),
        ("dim_names", ctypes.POINTER(ctypes.c_char_p)),
        ("nbytes", ctypes.c_size_t),
    ]


class SessionOptionsC(ctypes.Structure):
    _fields_ = [("num_threads", ctypes.c_int32)]


_p = ctypes.c_void_p
_pp = ctypes.POINTER(ctypes.c_void_p)
_i32 = ctypes.c_int32
_PROTOTYPES = {
    # name: (restype, argtypes)
    "mlcrt_status_code": (ctypes.c_int, [_p]),
    "mlcrt_status_message": (ctypes.c_char_p, [_p]),
    "mlcrt_status_free": (None, [_p]),
    "mlcrt_dtype_name": (ctypes.c_char_p, [_i32]),
    "mlcrt_version": (ctypes.c_char_p, []),
    "mlcrt_model_load": (_p, [ctypes.c_char_p, _pp]),
    "mlcrt_model_release": (None, [_p]),
    "mlcrt_model_num_inputs": (_i32, [_p]),
    "mlcrt_model_num_outputs": (_i32, [_p]),
    "mlcrt_model_input_info": (_p, [_p, _i32, ctypes.POINTER(TensorInfoC)]),
    "mlcrt_model_output_info": (_p, [_p, _i32, ctypes.POINTER(TensorInfoC)]),
    "mlcrt_model_name": (ctypes.c_char_p, [_p]),
    "mlcrt_model_target": (ctypes.c_char_p, [_p]),
    "mlcrt_session_create": (_p, [_p, ctypes.POINTER(SessionOptionsC), _pp]),
    "mlcrt_session_release": (None, [_p]),
    "mlcrt_session_bind_input_checked": (
        _p, [_p, _i32, _p, ctypes.c_size_t, _i32, _i32,
             ctypes.POINTER(ctypes.c_int64)]),
    "mlcrt_session_bind_output_checked": (
        _p, [_p, _i32, _p, ctypes.c_size_t, _i32, _i32,
             ctypes.POINTER(ctypes.c_int64)]),
    "mlcrt_session_run": (_p, [_p]),
}

# mlcrt_code_t, by number.
CODE_NAMES = {
    0: "OK", 1: "INVALID_ARGUMENT", 2: "NOT_FOUND", 3: "INCOMPATIBLE",
    4: "IO_ERROR", 5: "OUT_OF_MEMORY", 6: "FAILED_PRECONDITION", 7: "INTERNAL",
}

_lock = threading.Lock()
_lib = None


def decode(b):
    """Text from the runtime (names come from model files: any bytes)."""
    if b is None:
        return ""
    return b.decode("utf-8", "backslashreplace")


def _configured_path(key):
    """A path from _config.py, made absolute against this folder; None when
    the file or the key is missing."""
    try:
        from . import _config
    except ImportError:
        return None
    value = getattr(_config, key, None)
    if not value:
        return None
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), value)


def _candidates():
    env = os.environ.get("MLC_LIB")
    if env:
        return [("MLC_LIB", env)]
    out = []
    conf = _configured_path("LIBRARY")
    if conf and os.path.exists(conf):
        out.append(("the package's _config.py", conf))
    out.append(("the dynamic loader's search", _SONAME))
    return out


def _declare(lib):
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise Error(f"{lib._name}: no symbol {name}: not a libmlcrt of "
                        "this version") from None
        fn.restype = restype
        fn.argtypes = argtypes


def lib():
    """The loaded libmlcrt (ctypes.CDLL); raises Error saying where it
    looked when it cannot be loaded."""
    global _lib
    with _lock:
        if _lib is not None:
            return _lib
        tried = []
        for where, path in _candidates():
            try:
                handle = ctypes.CDLL(path)
            except OSError as e:
                tried.append(f"{path} (from {where}): {e}")
                continue
            _declare(handle)
            _lib = handle
            return _lib
        raise Error("cannot load libmlcrt; tried " + "; ".join(tried) +
                    ". Set MLC_LIB to the path of libmlcrt.so")


def check(status, context=None):
    """Raises Error for a non-NULL status (freeing it); NULL is success."""
    if not status:
        return
    l = lib()
    code = l.mlcrt_status_code(status)
    message = decode(l.mlcrt_status_message(status))
    l.mlcrt_status_free(status)
    if context:
        message = f"{context}: {message}"
    raise Error(message, code=CODE_NAMES.get(code, str(code)))


def cli_path():
    """The mlc command from _config.py, or None."""
    return _configured_path("CLI")
