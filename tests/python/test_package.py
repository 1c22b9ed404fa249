#!/usr/bin/env python3
"""Tests of the Python package mlc (python/mlc): compile with mlc.compile,
run with mlc.Session, compare with ONNX Runtime, and the error paths.

Run by CTest (python_package) in the build's venv with PYTHONPATH set to
the staged package (build/python), whose _config.py names the built
libmlcrt and mlc; the installed-package case installs the build into a
temporary prefix and imports the package from there with no environment
help.  Usage: test_package.py BUILD_DIR [unittest args]
"""
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

import mlc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DIGITS = os.path.join(ROOT, "examples", "digits")
BUILD = None  # set by main()


def rel_l2(got, want):
    got, want = got.astype(np.float64), want.astype(np.float64)
    return np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30)


def ort_run(model_path, feeds):
    s = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    names = [o.name for o in s.get_outputs()]
    return dict(zip(names, s.run(names, feeds)))


def matmul_softmax_model(path, rng, unnamed=False):
    """y = Softmax(x @ W + b), z = ArgMax(y) (int64), with x [N, 16] (or
    [?, ?] with no dim names at all when `unnamed`)."""
    w = rng.standard_normal((16, 10)).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["xw"], name="mm"),
        helper.make_node("Add", ["xw", "b"], ["logits"], name="add"),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=-1),
        helper.make_node("ArgMax", ["y"], ["z"], name="argmax", axis=1,
                         keepdims=0),
    ]
    x_shape = [None, None] if unnamed else ["N", 16]
    n = None if unnamed else "N"
    graph = helper.make_graph(
        nodes, "mm_softmax",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, 10]),
         helper.make_tensor_value_info("z", TensorProto.INT64, [n])],
        [helper.make_tensor("W", TensorProto.FLOAT, w.shape, w.ravel()),
         helper.make_tensor("b", TensorProto.FLOAT, b.shape, b)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mlc-pytest-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)


class Digits(Base):
    def test_digits_against_ort(self):
        model = os.path.join(DIGITS, "digits.onnx")
        so = self.path("digits.so")
        self.assertEqual(mlc.compile(model, so), so)
        self.assertTrue(os.path.exists(self.path("digits.h")))
        images = np.load(os.path.join(DIGITS, "test_images.npy"))
        labels = np.load(os.path.join(DIGITS, "test_labels.npy"))
        with mlc.Session(so, threads=2) as s:
            self.assertEqual(s.name, "digits")
            self.assertEqual([(t.name, t.dtype, t.shape) for t in s.inputs],
                             [("image", np.dtype(np.float32), (1, 1, 8, 8))])
            self.assertEqual([(t.name, t.dtype, t.shape) for t in s.outputs],
                             [("logits", np.dtype(np.float32), (1, 10))])
            got = np.concatenate([s.run({"image": images[i:i + 1]})["logits"]
                                  for i in range(0, len(images), 7)])
        sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        want = np.concatenate([sess.run(["logits"], {"image": images[i:i + 1]})[0]
                               for i in range(0, len(images), 7)])
        self.assertLess(rel_l2(got, want), 1e-4)
        accuracy = np.mean(got.argmax(1) == labels[::7])
        self.assertGreater(accuracy, 0.95)


class MatMulSoftmax(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.onnx = os.path.join(cls.tmp, "mms.onnx")
        matmul_softmax_model(cls.onnx, np.random.default_rng(7))
        cls.so = os.path.join(cls.tmp, "mms.so")
        mlc.compile(cls.onnx, cls.so, dim={"N": 4}, opt_level=3)

    def test_against_ort_and_info(self):
        x = np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32)
        with mlc.Session(self.so) as s:
            self.assertEqual(s.inputs[0].shape, (4, 16))
            self.assertEqual(s.inputs[0].dim_names, ("N", None))
            self.assertEqual([t.name for t in s.outputs], ["y", "z"])
            self.assertEqual(s.outputs[1].dtype, np.dtype(np.int64))
            got = s.run({"x": x})
        want = ort_run(self.onnx, {"x": x})
        self.assertLess(rel_l2(got["y"], want["y"]), 1e-5)
        np.testing.assert_array_equal(got["z"], want["z"])

    def test_inputs_are_copied(self):
        # Fortran order, a strided view and a read-only array all work, and
        # the results of an earlier run stay as they were.
        x = np.random.default_rng(2).standard_normal((4, 32)).astype(np.float32)
        view = x[:, ::2]
        fortran = np.asfortranarray(view)
        frozen = np.ascontiguousarray(view)
        frozen.setflags(write=False)
        want = ort_run(self.onnx, {"x": np.ascontiguousarray(view)})["y"]
        with mlc.Session(self.so, threads=1) as s:
            first = s.run({"x": view})["y"]
            second = s.run({"x": fortran})["y"]
            third = s.run({"x": frozen})["y"]
            s.run({"x": np.zeros((4, 16), np.float32)})
            # A nested list is converted to the input's dtype.
            listed = s.run({"x": view.tolist()})["y"]
        for got in (first, second, third, listed):
            self.assertLess(rel_l2(got, want), 1e-5)
        self.assertTrue(first.flags.c_contiguous)
        self.assertEqual(first.ctypes.data % 64, 0)

    def test_threads(self):
        x = np.ones((4, 16), np.float32)
        want = ort_run(self.onnx, {"x": x})["y"]
        with mlc.Session(self.so, threads=2) as s:
            results = [None] * 4

            def work(i):
                results[i] = s.run({"x": x})["y"]
            ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        for r in results:
            self.assertLess(rel_l2(r, want), 1e-5)

    def test_input_shape_for_unnamed_dims(self):
        onnx_path = self.path("unnamed.onnx")
        matmul_softmax_model(onnx_path, np.random.default_rng(9), unnamed=True)
        so = self.path("unnamed.so")
        mlc.compile(onnx_path, so, input_shape={"x": (3, 16)})
        x = np.random.default_rng(3).standard_normal((3, 16)).astype(np.float32)
        with mlc.Session(so) as s:
            self.assertEqual(s.inputs[0].shape, (3, 16))
            got = s.run({"x": x})
        self.assertLess(rel_l2(got["y"], ort_run(onnx_path, {"x": x})["y"]),
                        1e-5)

    def test_run_errors(self):
        good = np.zeros((4, 16), np.float32)
        with mlc.Session(self.so) as s:
            cases = [
                ({"x": good.astype(np.float64)},
                 "input 'x': dtype float64, the model expects float32"),
                ({"x": np.zeros((5, 16), np.float32)},
                 "input 'x': shape [5, 16], the model was compiled for "
                 "[4, 16] (recompile with dim="),
                ({"x": np.zeros((4, 16, 1), np.float32)}, "shape [4, 16, 1]"),
                ({}, "no data for input(s) 'x'"),
                ({"x": good, "q": good}, "no input named 'q' (inputs: 'x')"),
                ({"x": [[1.0, 2.0]]}, "input 'x': shape [1, 2]"),
                ({"x": "text"}, "input 'x': cannot convert to float32"),
            ]
            for feeds, text in cases:
                with self.subTest(text=text):
                    with self.assertRaises(mlc.Error) as cm:
                        s.run(feeds)
                    self.assertIn(text, str(cm.exception))
                    self.assertEqual(cm.exception.code, "INVALID_ARGUMENT")
            with self.assertRaises(TypeError):
                s.run([good])
            # The session still works after the errors.
            self.assertEqual(s.run({"x": good})["y"].shape, (4, 10))
        with self.assertRaises(mlc.Error) as cm:
            s.run({"x": good})
        self.assertIn("closed", str(cm.exception))
        s.close()  # twice is fine

    def test_bad_session_arguments(self):
        with self.assertRaises(ValueError):
            mlc.Session(self.so, threads=-1)
        with self.assertRaises(TypeError):
            mlc.Session(self.so, threads="2")


class LoadErrors(Base):
    def test_missing_file(self):
        missing = self.path("no-such-model.so")
        with self.assertRaises(mlc.Error) as cm:
            mlc.Session(missing)
        self.assertIn("no-such-model.so", str(cm.exception))
        self.assertEqual(cm.exception.code, "NOT_FOUND")

    def test_not_a_library(self):
        bad = self.path("model.onnx.so")
        shutil.copy(os.path.join(DIGITS, "digits.onnx"), bad)
        with self.assertRaises(mlc.Error) as cm:
            mlc.Session(bad)
        self.assertIn("model.onnx.so", str(cm.exception))

    def test_library_without_model(self):
        # A real shared library that is not a compiled model: libmlcrt.
        lib = mlc._runtime.lib()._name
        with self.assertRaises(mlc.Error) as cm:
            mlc.Session(lib)
        self.assertIn("mlc_model_get", str(cm.exception))

    def test_compile_errors(self):
        with self.assertRaises(mlc.Error) as cm:
            mlc.compile(self.path("missing.onnx"), self.path("m.so"))
        self.assertEqual(cm.exception.code, "COMPILE_FAILED")
        self.assertIn("missing.onnx", str(cm.exception))
        onnx_path = self.path("n.onnx")
        matmul_softmax_model(onnx_path, np.random.default_rng(0))
        with self.assertRaises(mlc.Error) as cm:
            mlc.compile(onnx_path, self.path("n.so"), dim={"M": 2})
        self.assertIn("--dim M", str(cm.exception))
        with self.assertRaises(TypeError):
            mlc.compile(onnx_path, self.path("n.so"), frobnicate=1)
        with self.assertRaises(ValueError):
            mlc.compile(onnx_path, self.path("n.so"), dim={"N": 0})


def run_isolated(code, env_extra, cwd):
    """Runs `code` in a fresh interpreter without MLC_LIB, MLC_CLI or the
    build's PYTHONPATH, so only what it is given is used."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLC_LIB", "MLC_CLI", "PYTHONPATH", "LD_LIBRARY_PATH")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd,
                          capture_output=True, text=True)


class Environment(Base):
    def test_bad_mlc_lib(self):
        r = run_isolated(
            "import mlc\n"
            "try:\n    mlc.Session('x.so')\n"
            "except mlc.Error as e:\n    print('ERR', e)\n",
            {"PYTHONPATH": os.path.join(BUILD, "python"),
             "MLC_LIB": self.path("nowhere/libmlcrt.so")}, self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ERR cannot load libmlcrt", r.stdout)
        self.assertIn("MLC_LIB", r.stdout)

    def test_bad_mlc_cli(self):
        r = run_isolated(
            "import mlc\n"
            "try:\n    mlc.compile('a.onnx', 'a.so')\n"
            "except mlc.Error as e:\n    print('ERR', e)\n",
            {"PYTHONPATH": os.path.join(BUILD, "python"),
             "MLC_CLI": self.path("nowhere/mlc")}, self.tmp)
        self.assertIn("ERR MLC_CLI=", r.stdout, r.stderr)

    def test_installed_package(self):
        prefix = self.path("prefix")
        subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix],
                       check=True, capture_output=True)
        pkg = os.path.join(prefix, "share", "mlc", "python")
        self.assertTrue(os.path.isfile(os.path.join(pkg, "mlc", "_config.py")))
        # Move the prefix: the package's paths are relative to itself.
        moved = self.path("moved")
        os.rename(prefix, moved)
        pkg = os.path.join(moved, "share", "mlc", "python")
        r = run_isolated(
            "import mlc, numpy as np\n"
            "mlc.compile(%r, 'd.so')\n"
            "s = mlc.Session('d.so')\n"
            "y = s.run({'image': np.zeros((1, 1, 8, 8), np.float32)})\n"
            "print('OK', y['logits'].shape, mlc.find_cli())\n"
            % os.path.join(DIGITS, "digits.onnx"),
            {"PYTHONPATH": pkg, "PATH": "/usr/bin:/bin"}, self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("OK (1, 10) " + os.path.join(moved, "share", "mlc",
                                                    "python", "mlc"), r.stdout)


def main():
    global BUILD
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    BUILD = os.path.abspath(sys.argv.pop(1))
    prog = unittest.main(exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
