#!/usr/bin/env python3
"""Unit tests of the benchmark's own arithmetic and plumbing (ctest
`bench_unit`): FLOP counting against hand-computed values, workload
selection, the table's derived ratios and error cells, the peak probe,
and the compile launcher's statistics.  The end-to-end harness is checked
by `bench_smoke`."""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import engines as E  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402
import workloads as W  # noqa: E402


class Flops(unittest.TestCase):
    def count(self, name):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, name + ".onnx")
            W.BY_NAME[name].build(path)
            return W.count_flops(path)

    def test_matmul(self):
        self.assertEqual(self.count("sgemm_small"), 2 * 256 ** 3)
        self.assertEqual(self.count("gemm_128x768x3072"),
                         2 * 128 * 768 * 3072)

    def test_conv(self):
        # output 64x56x56, each 64*3*3 MACs
        self.assertEqual(self.count("conv3x3_64_56"),
                         2 * 64 * 56 * 56 * 64 * 9)
        # stem: 224 -> 112 with stride 2, pad 3
        self.assertEqual(self.count("r50_stem_7x7s2"),
                         2 * 64 * 112 * 112 * 3 * 49)

    def test_no_macs(self):
        self.assertEqual(self.count("tanh_128x3072"), 0)


class Select(unittest.TestCase):
    def names(self, only, quick=False):
        return [w.name for w in W.select(only, quick)]

    def test_patterns_and_groups(self):
        self.assertEqual(self.names("r50_3x3*"),
                         ["r50_3x3_128_28", "r50_3x3_512_7"])
        self.assertIn("bert_base", self.names("models"))
        self.assertNotIn("resnet50", self.names("micro"))
        self.assertNotIn("sgemm_4096", self.names("", quick=True))

    def test_unknown(self):
        with self.assertRaises(ValueError):
            W.select("sgemm_small,nonesuch", False)


class Report(unittest.TestCase):
    def test_ratios_and_peak(self):
        row = {"workload": "w", "threads": 2, "gflop": 2.0, "engines": {
            "mlc": {"median_ms": 20.0}, "ort": {"median_ms": 10.0},
            "ov": {"median_ms": 5.0}}}
        report.derive(row, {2: 400.0})
        self.assertAlmostEqual(row["mlc_over_ort"], 2.0)
        self.assertAlmostEqual(row["mlc_over_best_peer"], 4.0)
        self.assertAlmostEqual(row["mlc_gflops"], 100.0)
        self.assertAlmostEqual(row["mlc_pct_of_peak"], 25.0)

    def test_error_cell(self):
        row = report.derive({"workload": "w", "threads": 1, "gflop": None,
                             "engines": {"mlc": {"error": "compile: no"},
                                         "ort": {"median_ms": 1.0}}}, {})
        notes = report.Notes()
        table = report.results_table([row], ["mlc", "ort"], notes)
        self.assertIn("error [1]", table)
        self.assertEqual(notes.items, ["mlc on w: compile: no"])
        self.assertIsNone(row["mlc_over_ort"])


class Probe(unittest.TestCase):
    def test_peak_probe(self):
        with tempfile.TemporaryDirectory() as d:
            exe, why = run.build_peak(d)
            self.assertIsNone(why)
            got = run.probe_peak(exe, [1, 2], 0.02)
        self.assertEqual(sorted(got), [1, 2])
        for t, p in got.items():
            self.assertGreater(p["gflops"], 0.5)
            self.assertAlmostEqual(p["gflops_per_core"] * t, p["gflops"],
                                   delta=0.2)


class Launcher(unittest.TestCase):
    def test_compile_failure_reason(self):
        # "mlc" here is `false`: the launcher must report its exit status.
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(E.EngineError) as cm:
                E.compile_mlc("/bin/false", "x.onnx", os.path.join(d, "x.so"),
                              os.path.join(d, "log"), 30)
        self.assertIn("exit 1", str(cm.exception))

    def test_rss_is_the_child_s(self):
        # A small child reports a small peak RSS, not this process's (made
        # large here: a child forked from it would inherit 256 MiB).
        big = b"\x01" * (256 << 20)
        with tempfile.TemporaryDirectory() as d:
            st = E.compile_mlc("/bin/true", "x.onnx", os.path.join(d, "x.so"),
                               os.path.join(d, "log"), 30)
        self.assertLess(st["peak_rss_mib"], 64)
        self.assertEqual(len(big), 256 << 20)


if __name__ == "__main__":
    unittest.main()
