"""mlc: compile ONNX models to native code and run them from Python.

    import mlc
    mlc.compile("model.onnx", "model.so", dim={"N": 8})
    with mlc.Session("model.so", threads=2) as s:
        print(s.inputs, s.outputs)
        outputs = s.run({"x": x})          # {name: numpy array}

Pure Python over libmlcrt with ctypes: no build step.  compile() runs the
`mlc` command; Session loads the compiled library with libmlcrt.  Every
failure is raised as mlc.Error carrying the runtime's (or the command's)
message.  See docs/python.md for how the library and the command are
found (MLC_LIB, MLC_CLI).
"""
from ._compile import compile, find_cli
from ._errors import Error
from ._session import Session, TensorInfo

__all__ = ["Error", "Session", "TensorInfo", "compile", "find_cli",
           "runtime_version"]
__version__ = "0.1.0"


def runtime_version():
    """The loaded libmlcrt's version ("0.1.0")."""
    from . import _runtime
    return _runtime.decode(_runtime.lib().mlcrt_version())
