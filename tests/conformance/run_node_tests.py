#!/usr/bin/env python3
"""Runs the ONNX backend node conformance suite through mlc.

Each case folder holds model.onnx and test_data_set_N/{input_K,output_K}.pb.
For every case: `mlc compile model.onnx -o case.so`, then per data set
`mlc run case.so --input NAME=input_K.pb ... --output-dir D
--output-format pb`, and each output is compared with output_K.pb
(dtype and shape equal, |a-e| <= 1e-7 + 1e-3*|e|, NaN equal to NaN).

When `mlc compile --help` lists `--const` and the plain compile fails,
the case is compiled again once per data set with its integer-typed and
scalar inputs, and any input the compiler names as "not a constant",
frozen to that data set's values (`--const NAME=input_K.pb`), since mlc
wants shape-deciding operands (Reshape's shape, Slice's starts, Resize's
scales, ...) to be constants; those inputs are then not passed to
`mlc run`.

A case is
  pass  every data set matched,
  skip  the case needs what mlc does not claim: a graph input/output of
        sequence, optional, map or sparse type, or of string/float8/int4/
        float4 element type (checked before compiling), or `mlc compile`
        exited 1 saying "unsupported",
  fail  anything else (compile or run error, crash, timeout, mismatch).

Writes OUT/results.tsv (case, status, reason) and OUT/cases/<case>/ (the
library, the outputs and each command's output in *.log; kept for failing
cases only), and prints a closing line `N passed, N failed, N skipped`.

With --expected FILE (the checked-in list of cases expected to pass) the
exit status is 1 when a listed case did not pass; cases that pass but are
not listed are printed, and --update-expected rewrites the list.  Without
--expected the exit status is 1 when any case failed.  Exit 77 when the
suite folder does not exist (CTest reports the test as skipped).
"""
import argparse
import concurrent.futures as cf
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "python"))
import onnx  # noqa: E402
import mlctest  # noqa: E402

SKIP_EXIT = 77


def default_suite(source_dir):
    env = os.environ.get("MLC_NODE_TESTS")
    if env:
        return env
    return os.path.join(os.path.dirname(os.path.abspath(source_dir)),
                        "shared", "onnx-node-tests")


def check_types(model):
    """Reason the case uses a type mlc does not claim, or None."""
    g = model.graph
    for v in list(g.input) + list(g.output):
        why = mlctest.unclaimed_type(v.type)
        if why:
            return f"{why} ({v.name})"
    for t in g.initializer:
        why = mlctest.UNCLAIMED_ELEM_TYPES.get(t.data_type)
        if why:
            return f"{why} ({t.name})"
    return None


INTEGER_ELEM_TYPES = {2, 3, 4, 5, 6, 7, 12, 13}  # (u)int8..64


def run_case(case_dir, work, args):
    """(status, reason) for one case folder."""
    deadline = time.monotonic() + args.timeout
    try:
        model = onnx.load(os.path.join(case_dir, "model.onnx"),
                          load_external_data=False)
    except Exception as e:  # noqa: BLE001
        return "fail", f"cannot read model.onnx with onnx: {e}"[:300]
    why = check_types(model)
    if why:
        return "skip", f"unclaimed type: {why}"
    sets = sorted(d for d in os.listdir(case_dir)
                  if d.startswith("test_data_set_"))
    if not sets:
        return "fail", "no test_data_set_N folder"
    os.makedirs(work, exist_ok=True)
    c = compile_case(case_dir, os.path.join(work, "case.so"), (), deadline, args)
    # mlc wants shape-deciding operands (Reshape's shape, Slice's starts,
    # ...) to be constants: when the plain compile fails, compile once per
    # data set with the integer and scalar inputs frozen to its values.
    in_names = mlctest.graph_input_names(model)
    frozen = frozen_inputs(model, args) if c is not None else []
    named = not_constant_inputs(c, in_names) if args.has_const else []
    if c is not None and not frozen and not named:
        return c
    frozen = sorted(set(frozen) | {in_names.index(n) for n in named})
    for ds in sets:
        so, consts = os.path.join(work, "case.so"), []
        if frozen:
            so = os.path.join(work, f"{ds}.so")
            c, consts = compile_frozen(case_dir, ds, so, in_names, frozen,
                                       deadline, args)
            if c is not None:
                return c[0], f"with inputs frozen: {c[1]}"
        why = run_data_set(case_dir, ds, so, os.path.join(work, ds), model,
                           {n for n, _ in consts}, deadline, args)
        if why:
            return "fail", why if len(sets) == 1 else f"{ds}: {why}"
    if consts:
        return "pass", "inputs frozen: " + ", ".join(n for n, _ in consts)
    return "pass", ""


def compile_case(case_dir, so, consts, deadline, args):
    """None when `mlc compile` succeeded, else (status, reason).  consts:
    (name, TensorProto file) pairs passed as --const NAME=FILE."""
    extra = []
    for name, path in consts:
        extra += ["--const", f"{name}={path}"]
    c = mlctest.mlc_compile(args.mlc, os.path.join(case_dir, "model.onnx"),
                            so, deadline - time.monotonic(), extra)
    save_log(so + ".compile.log", c)
    if mlctest.is_unsupported(c):
        return "skip", mlctest.unsupported_line(c)
    if not c.ok:
        return "fail", c.why("mlc compile")
    return None


NOT_CONSTANT = re.compile(
    r"graph input '([^']*)': freeze it|'([^']*)' is not a constant")


def not_constant_inputs(c, in_names):
    """Graph inputs that a failed compile named as needing to be constant
    (mlc compiles static shapes: "input 2 'scales' is not a constant")."""
    if c is None:
        return []
    names = [a or b for a, b in NOT_CONSTANT.findall(c[1])]
    return [n for n in names if n in in_names]


def compile_frozen(case_dir, ds, so, in_names, frozen, deadline, args):
    """Compiles with the inputs at indices `frozen` fixed to data set
    `ds`; when mlc names a further input that must be constant, freezes it
    too and compiles again.  Returns (outcome, consts)."""
    frozen = list(frozen)
    while True:
        consts = [(in_names[k], os.path.join(case_dir, ds, f"input_{k}.pb"))
                  for k in frozen]
        consts = [(n, p) for n, p in consts if os.path.exists(p)]
        c = compile_case(case_dir, so, consts, deadline, args)
        more = [in_names.index(n) for n in not_constant_inputs(c, in_names)
                if in_names.index(n) not in frozen]
        if not more:
            return c, consts
        frozen += more


def save_log(path, outcome):
    """Keeps a command's output beside its files (kept for failing cases)."""
    with open(path, "w") as f:
        f.write(f"exit {outcome.rc}{' (timed out)' if outcome.timed_out else ''}\n")
        f.write(outcome.stdout)
        f.write(outcome.stderr)


def frozen_inputs(model, args):
    """Indices of the graph inputs to freeze when a plain compile fails:
    the integer-typed and the scalar ones (shape-deciding operands are
    one or the other: Reshape's shape, Range's start), if this mlc has
    `compile --const`."""
    if not args.has_const:
        return []
    inits = {t.name for t in model.graph.initializer}
    ins = [v for v in model.graph.input if v.name not in inits]
    frozen = []
    for k, v in enumerate(ins):
        if v.type.WhichOneof("value") != "tensor_type":
            continue
        tt = v.type.tensor_type
        scalar = tt.HasField("shape") and len(tt.shape.dim) == 0
        if tt.elem_type in INTEGER_ELEM_TYPES or scalar:
            frozen.append(k)
    return frozen


def run_data_set(case_dir, ds, so, out_dir, model, frozen_names, deadline,
                 args):
    """Runs one data set through `so` (inputs in frozen_names were compiled
    in) and compares the outputs; None when they match, else why not."""
    ds_dir = os.path.join(case_dir, ds)
    inputs = []
    for k, name in enumerate(mlctest.graph_input_names(model)):
        path = os.path.join(ds_dir, f"input_{k}.pb")
        if os.path.exists(path) and name not in frozen_names:
            inputs.append((name, path))
    os.makedirs(out_dir, exist_ok=True)
    r = mlctest.mlc_run(args.mlc, so, inputs, out_dir,
                        deadline - time.monotonic())
    save_log(os.path.join(out_dir, "run.log"), r)
    if not r.ok:
        return r.why("mlc run")
    out_names = [v.name for v in model.graph.output]
    got = mlctest.find_outputs(out_dir, out_names)
    for k, name in enumerate(out_names):
        exp_path = os.path.join(ds_dir, f"output_{k}.pb")
        if not os.path.exists(exp_path):
            continue
        if name not in got:
            return f"output {k} ({name}) not written by mlc run"
        _, expected = mlctest.read_tensor(exp_path)
        why = mlctest.compare(got[name], expected, args.rtol, args.atol)
        if why:
            return f"output {k} ({name}): {why}"
    return None


def read_list(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def write_expected(path, names):
    with open(path, "w") as f:
        f.write("# Node-suite cases expected to pass (see docs/testing.md).\n"
                "# Regenerate: run_node_tests.py ... --update-expected\n")
        for n in sorted(names):
            f.write(n + "\n")


def parse_args():
    here = os.path.dirname(os.path.abspath(__file__))
    source_dir = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description="Run ONNX node tests through mlc.")
    ap.add_argument("--mlc", required=True, help="path to the mlc binary")
    ap.add_argument("--suite", default=default_suite(source_dir),
                    help="folder of cases (default: $MLC_NODE_TESTS or "
                         "../shared/onnx-node-tests beside the source)")
    ap.add_argument("--out-dir", default="conformance",
                    help="where results.tsv and per-case files go")
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds per case, compile and runs together")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-7)
    ap.add_argument("--filter", "-k", default=None,
                    help="regular expression on case names")
    ap.add_argument("--expected", default=None, help="expected-pass list")
    ap.add_argument("--update-expected", action="store_true",
                    help="rewrite the expected-pass list from this run")
    ap.add_argument("--keep", action="store_true",
                    help="keep per-case files of passing cases too")
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    return ap.parse_args()


def select_cases(args):
    names = sorted(d for d in os.listdir(args.suite)
                   if os.path.isfile(os.path.join(args.suite, d, "model.onnx")))
    if args.cases:
        wanted = set(args.cases)
        missing = wanted - set(names)
        if missing:
            sys.exit(f"error: no such case in {args.suite}: "
                     + ", ".join(sorted(missing)))
        names = [n for n in names if n in wanted]
    if args.filter:
        rx = re.compile(args.filter)
        names = [n for n in names if rx.search(n)]
    return names


def run_all(names, args, announce):
    """Runs the cases in parallel; prints failures of cases in `announce`
    (all cases when it is None) as they finish."""
    results = {}
    cases_dir = os.path.join(args.out_dir, "cases")

    def one(name):
        work = os.path.join(cases_dir, name)
        try:
            status, reason = run_case(os.path.join(args.suite, name), work, args)
        except Exception as e:  # noqa: BLE001 - a harness bug is a failure
            status, reason = "fail", f"harness error: {type(e).__name__}: {e}"
        # mlc's messages name the model by its full path; the case says it.
        reason = reason.replace(os.path.join(args.suite, name) + os.sep, "")
        if status != "fail" and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        return name, status, reason.replace("\t", " ").replace("\n", " ")

    with cf.ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        for name, status, reason in pool.map(one, names):
            results[name] = (status, reason)
            if status == "fail" and (announce is None or name in announce):
                print(f"FAIL {name}: {reason}", flush=True)
    return results


def report_expected(results, args):
    """Checks the expected-pass list; returns the number of regressions."""
    expected = read_list(args.expected)
    ran = set(results)
    passing = {n for n, (s, _) in results.items() if s == "pass"}
    listed = [n for n in expected if n in ran]
    regressed = [n for n in listed if n not in passing]
    new = sorted(passing - set(expected))
    not_run = [n for n in expected if n not in ran]
    if not args.cases and not args.filter and not_run:
        print(f"note: {len(not_run)} listed cases are not in the suite: "
              + " ".join(not_run[:20]))
    if regressed:
        print(f"\n{len(regressed)} expected-pass cases did not pass:")
        for n in regressed:
            print(f"  {n}: {results[n][0]}: {results[n][1]}")
    if new:
        print(f"\n{len(new)} cases pass that are not in {args.expected}:")
        print("  " + " ".join(new))
    if args.update_expected:
        full_run = not args.cases and not args.filter
        keep = passing if full_run else (set(expected) - ran) | passing
        write_expected(args.expected, keep)
        print(f"rewrote {args.expected}: {len(keep)} cases")
        return 0
    if new:
        print("  (run with --update-expected to add them)")
    return len(regressed)


def main():
    args = parse_args()
    if not os.path.isdir(args.suite):
        print(f"node suite not found at {args.suite} (set --suite or "
              "MLC_NODE_TESTS); skipping")
        return SKIP_EXIT
    args.mlc = mlctest.find_mlc(args.mlc)
    if not args.mlc:
        return 2
    if args.update_expected and not args.expected:
        sys.exit("error: --update-expected needs --expected FILE")
    help_text = mlctest.run_cmd([args.mlc, "compile", "--help"], 30)
    args.has_const = "--const" in help_text.stdout + help_text.stderr
    names = select_cases(args)
    os.makedirs(args.out_dir, exist_ok=True)
    t0 = time.monotonic()
    announce = set(read_list(args.expected)) if args.expected else None
    results = run_all(names, args, announce)
    with open(os.path.join(args.out_dir, "results.tsv"), "w") as f:
        f.write("case\tstatus\treason\n")
        for n in sorted(results):
            f.write(f"{n}\t{results[n][0]}\t{results[n][1]}\n")
    counts = {s: sum(1 for v in results.values() if v[0] == s)
              for s in ("pass", "fail", "skip")}
    print(f"\n{len(names)} cases in {time.monotonic() - t0:.0f} s; results in "
          f"{os.path.join(args.out_dir, 'results.tsv')}")
    if args.expected:
        rc = 1 if report_expected(results, args) else 0
    else:
        rc = 1 if counts["fail"] else 0
    print(f"{counts['pass']} passed, {counts['fail']} failed, "
          f"{counts['skip']} skipped")
    return rc


if __name__ == "__main__":
    sys.exit(main())
