"""Unit tests of the shared test helpers (tests/python/mlctest.py): the
ONNX-style comparison, output-file matching and type screening, so that a
conformance or e2e verdict can be trusted.  Run: python -m unittest."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402
import mlctest  # noqa: E402


def tp(a, name=""):
    return numpy_helper.from_array(np.asarray(a), name=name)


class CompareTest(unittest.TestCase):
    def test_equal_and_within_tolerance(self):
        e = np.array([1.0, -2.0, 1000.0], np.float32)
        self.assertIsNone(mlctest.compare(tp(e), tp(e)))
        self.assertIsNone(mlctest.compare(tp(e * (1 + 9e-4)), tp(e)))

    def test_outside_tolerance(self):
        e = np.array([1.0, 2.0], np.float32)
        why = mlctest.compare(tp(e + np.float32(3e-3)), tp(e))
        self.assertIn("2 of 2 values differ", why)

    def test_atol_near_zero(self):
        self.assertIsNone(mlctest.compare(tp(np.float32([5e-8])),
                                          tp(np.float32([0.0]))))
        self.assertIsNotNone(mlctest.compare(tp(np.float32([1e-6])),
                                             tp(np.float32([0.0]))))

    def test_nan_and_inf(self):
        e = np.array([np.nan, np.inf, -np.inf], np.float32)
        self.assertIsNone(mlctest.compare(tp(e), tp(e)))
        self.assertIsNotNone(mlctest.compare(tp(np.float32([0, np.inf, -np.inf])), tp(e)))
        self.assertIsNotNone(mlctest.compare(tp(np.float32([np.nan, np.inf, np.inf])), tp(e)))

    def test_dtype_and_shape_must_match(self):
        self.assertIn("dtype", mlctest.compare(tp(np.float64([1.0])),
                                               tp(np.float32([1.0]))))
        self.assertIn("shape", mlctest.compare(tp(np.zeros((2, 1), np.float32)),
                                               tp(np.zeros((2,), np.float32))))

    def test_integers_exact(self):
        self.assertIsNotNone(mlctest.compare(tp(np.int64([1000, 1])),
                                             tp(np.int64([1001, 1]))))
        self.assertIsNone(mlctest.compare(tp(np.array([True, False])),
                                          tp(np.array([True, False]))))

    def test_scalar(self):
        self.assertIsNotNone(mlctest.compare(tp(np.float32(1)), tp(np.float32(2))))


class OutputsTest(unittest.TestCase):
    def test_by_tensor_name_then_file_name(self):
        with tempfile.TemporaryDirectory() as d:
            def put(fn, a, name):
                with open(os.path.join(d, fn), "wb") as f:
                    f.write(tp(a, name).SerializeToString())
            put("whatever.pb", np.float32([1]), "y:0")
            put("z_1.pb", np.float32([2]), "")
            put("output_2.pb", np.float32([3]), "")
            got = mlctest.find_outputs(d, ["y:0", "z/1", "", "missing"])
            self.assertEqual(float(numpy_helper.to_array(got["y:0"])[0]), 1)
            self.assertEqual(float(numpy_helper.to_array(got["z/1"])[0]), 2)
            self.assertEqual(float(numpy_helper.to_array(got[""])[0]), 3)
            self.assertNotIn("missing", got)

    def test_rel_l2(self):
        self.assertAlmostEqual(mlctest.rel_l2([3.0, 4.0], [3.0, 4.0]), 0.0)
        self.assertAlmostEqual(mlctest.rel_l2([3.0, 5.0], [3.0, 4.0]), 0.2)


class TypesTest(unittest.TestCase):
    def test_unclaimed(self):
        f = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
        s = helper.make_tensor_value_info("s", onnx.TensorProto.STRING, [1])
        q = helper.make_tensor_value_info("q", onnx.TensorProto.FLOAT8E4M3FN, [1])
        seq = helper.make_tensor_sequence_value_info("l", onnx.TensorProto.FLOAT, [1])
        self.assertIsNone(mlctest.unclaimed_type(f.type))
        self.assertEqual(mlctest.unclaimed_type(s.type), "string")
        self.assertIn("float8", mlctest.unclaimed_type(q.type))
        self.assertEqual(mlctest.unclaimed_type(seq.type), "sequence type")

    def test_graph_inputs_skip_initializers(self):
        x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
        w = helper.make_tensor_value_info("w", onnx.TensorProto.FLOAT, [1])
        b = helper.make_tensor_value_info("b", onnx.TensorProto.FLOAT, [1])
        y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])
        g = helper.make_graph([helper.make_node("Sum", ["x", "w", "b"], ["y"])],
                              "g", [x, w, b], [y], [tp(np.float32([1]), "w")])
        self.assertEqual(mlctest.graph_input_names(helper.make_model(g)), ["x", "b"])


class RunCmdTest(unittest.TestCase):
    def test_timeout_and_signal(self):
        r = mlctest.run_cmd([sys.executable, "-c", "import time; time.sleep(5)"], 0.5)
        self.assertTrue(r.timed_out)
        self.assertEqual(r.why("x"), "x timed out")
        r = mlctest.run_cmd([sys.executable, "-c", "import os; os.abort()"], 10)
        self.assertIn("crashed (SIGABRT)", r.why("x"))

    def test_unsupported(self):
        r = mlctest.run_cmd([sys.executable, "-c",
                             "import sys; sys.stderr.write('mlc: error: node n (Foo): unsupported op\\n'); sys.exit(1)"], 10)
        self.assertTrue(mlctest.is_unsupported(r))
        self.assertIn("unsupported op", mlctest.unsupported_line(r))
        r2 = mlctest.run_cmd([sys.executable, "-c", "import sys; sys.exit(2)"], 10)
        self.assertFalse(mlctest.is_unsupported(r2))


if __name__ == "__main__":
    unittest.main()
