"""mlc.compile(): runs the `mlc compile` command.

The command is found through, first match wins: the MLC_CLI environment
variable; _config.py beside the package (the build tree's mlc, or the
installed prefix's bin/mlc); `mlc` on PATH.  Each keyword argument maps to
one flag of `mlc compile` (docs/cli.md); see compile() for the table.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from . import _runtime
from ._errors import Error


def find_cli():
    """The path of the mlc command; raises Error saying where it looked."""
    env = os.environ.get("MLC_CLI")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        raise Error(f"MLC_CLI={env}: not an executable file")
    conf = _runtime.cli_path()
    if conf and os.path.isfile(conf) and os.access(conf, os.X_OK):
        return conf
    found = shutil.which("mlc")
    if found:
        return found
    raise Error("the mlc command was not found: set MLC_CLI to its path or "
                "put it on PATH")


def _int(key, value, low=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{key} wants an int, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{key}: {value} is out of range (>= {low})")
    return str(int(value))


def _mapping(key, value):
    if not hasattr(value, "items"):
        raise TypeError(f"{key} wants a dict, got {type(value).__name__}")
    return value.items()


def _flags(options, tmpdir):
    """The command-line flags for the keyword arguments of compile()."""
    args = []
    for key, value in options.items():
        if value is None:
            continue
        if key == "opt_level":
            args.append("-O" + _int(key, value, 0))
        elif key in ("emit", "target", "cpu", "name"):
            args += ["--" + key, str(value)]
        elif key == "weights_limit":
            args += ["--weights-limit", str(value)]
        elif key == "dim":
            for n, v in _mapping(key, value):
                args += ["--dim", f"{n}={_int(f'dim[{n!r}]', v, 1)}"]
        elif key == "input_shape":
            for n, shape in _mapping(key, value):
                dims = [_int(f"input_shape[{n!r}]", d, 1) for d in shape]
                args += ["--input-shape", f"{n}=" + "x".join(dims)]
        elif key == "const":
            for n, v in _mapping(key, value):
                if isinstance(v, np.ndarray):
                    path = os.path.join(tmpdir, f"const{len(args)}.npy")
                    np.save(path, v)
                    v = path
                args += ["--const", f"{n}={os.fspath(v)}"]
        elif key == "header":
            if not value:
                args.append("--no-header")
        elif key in ("verify_each", "time_passes"):
            if value:
                args.append("--" + key.replace("_", "-"))
        elif key == "print_after":
            args += ["--print-after", str(value)]
        else:
            raise TypeError(f"compile() got an unknown option '{key}'")
    return args


def compile(model, output, **options):
    """Compiles the ONNX file `model` into `output` (a shared library by
    default; its C header is written beside it) with `mlc compile`, and
    returns `output`.

    Options (keyword -> flag of `mlc compile`, see docs/cli.md):
      opt_level=2                 -O2 (0..3)
      emit="so"                   --emit so|obj|llvm|asm|graph|tile
      target="host"               --target NAME
      cpu="znver4"                --cpu NAME
      dim={"N": 8}                --dim N=8, one per entry
      input_shape={"x": (1, 3, 224, 224)}
                                  --input-shape x=1x3x224x224
      const={"shape": "s.npy"}    --const shape=s.npy (a path, or a numpy
                                  array written to a temporary .npy)
      name="net"                  --name net
      weights_limit="64M"         --weights-limit 64M (int bytes or text)
      header=False                --no-header
      verify_each=True            --verify-each
      time_passes=True            --time-passes
      print_after="fuse"          --print-after fuse
    An option given as None is left out.  Notes and timings the command
    prints go to sys.stderr; a failure raises mlc.Error with the command's
    error message (code "COMPILE_FAILED")."""
    model, output = os.fspath(model), os.fspath(output)
    cli = find_cli()
    with tempfile.TemporaryDirectory(prefix="mlc-py-") as tmp:
        argv = [cli, "compile", model, "-o", output, *_flags(options, tmp)]
        proc = subprocess.run(argv, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    err = proc.stderr.decode("utf-8", "backslashreplace")
    if proc.returncode != 0:
        lines = [l for l in err.splitlines() if l.strip()]
        errors = [l for l in lines if l.startswith("mlc")] or lines[-3:]
        message = "\n".join(errors) or f"exit code {proc.returncode}"
        raise Error(message, code="COMPILE_FAILED")
    if err:
        sys.stderr.write(err)
    if output == "-":
        sys.stdout.write(proc.stdout.decode("utf-8", "backslashreplace"))
    return output
