#!/usr/bin/env python3
"""The mlc benchmark: mlc beside ONNX Runtime and OpenVINO, interleaved.

    build/venv/bin/python bench/run.py                  # everything
    build/venv/bin/python bench/run.py --only resnet50,sgemm_1024 --threads 1
    build/venv/bin/python bench/run.py --quick --only sgemm_small \\
        --engines mlc,ort --strict                      # the ctest smoke test

For each workload (bench/workloads.py: single-op micro models and
PyTorch-exported real models) it compiles the ONNX file with `mlc compile`
(wall time and peak RSS of that process), then per thread count opens
every engine (bench/engines.py), checks each engine's outputs against ONNX
Runtime's (relative L2 at most --tol, else the engine's cell is an error),
and times them in rounds that alternate between the engines (the one that
goes first rotates), so that a noisy machine slows every engine alike.
The latency is the median of all timed runs.  A probe (bench/peak.c,
compiled here with `cc -O2 -march=native`) measures the FMA peak at each
thread count before, between and after the workloads (only before and
after with --quick); mlc's GFLOP/s is compared with the highest probe, the
one least disturbed by whatever else the machine runs.

One engine failing on one workload gives an error cell and a numbered
note, never the end of the run.  Exit status: 0, or 1 with --strict when
any engine has no latency for some workload (an error cell); 2 for bad
usage or a missing mlc binary.  OpenVINO comes from PyPI
(bench/requirements.txt), installed into this interpreter's venv the
first time it is needed (--no-install turns that off).
"""
import argparse
import gc
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import engines as E  # noqa: E402
import report  # noqa: E402
import workloads as W  # noqa: E402

ENGINES = ("mlc", "ort", "ov")


# ------------------------------------------------------------------ setup

def ensure_openvino(args):
    """Returns None when openvino imports (installing it first when it is
    missing and allowed), else the reason it cannot be used."""
    try:
        import openvino  # noqa: F401
        return None
    except ImportError:
        pass
    if args.no_install:
        return "openvino is not installed (--no-install)"
    if sys.prefix == sys.base_prefix:
        return ("openvino is not installed and this Python is not a venv; "
                "run with build/venv/bin/python")
    req = os.path.join(HERE, "requirements.txt")
    log(f"installing {req} into {sys.prefix}")
    p = subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", "--no-input",
                        "-r", req], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    if p.returncode != 0:
        tail = p.stdout.strip().splitlines()[-1:] or ["?"]
        return f"pip install -r bench/requirements.txt failed: {tail[0]}"
    try:
        import openvino  # noqa: F401,F811
        return None
    except ImportError as e:
        return f"openvino does not import after installing: {e}"


def build_peak(work):
    """Compiles bench/peak.c; returns (path, None) or (None, reason)."""
    exe = os.path.join(work, "peak")
    cmd = [os.environ.get("CC", "cc"), "-O2", "-march=native", "-pthread",
           "-o", exe, os.path.join(HERE, "peak.c")]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
    except OSError as e:
        return None, f"{cmd[0]}: {e}"
    if p.returncode != 0:
        return None, "cc failed: " + (p.stdout.strip().splitlines() or
                                      ["?"])[-1]
    return exe, None


def probe_peak(exe, threads, seconds):
    """Runs the probe once per thread count: {T: dict} parsed from its
    JSON lines."""
    import json
    arg = ",".join(str(t) for t in threads)
    p = subprocess.run([exe, arg, str(seconds)], stdout=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"peak probe exited {p.returncode}")
    out = {}
    for line in p.stdout.splitlines():
        d = json.loads(line)
        out[d["threads"]] = d
    return out


def merge_peaks(probes):
    """Keeps, per thread count, the highest probe (on a shared machine the
    best one is the closest to the hardware's peak) and the list of all."""
    merged = {}
    for run in probes:
        for t, d in run.items():
            m = merged.setdefault(t, dict(d, probes=[]))
            m["probes"].append(d["gflops"])
            if d["gflops"] > m["gflops"]:
                m.update(gflops=d["gflops"],
                         gflops_per_core=d["gflops_per_core"])
    return merged


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------- workloads

def prepare(w, args):
    """Writes the workload's ONNX file; returns its path."""
    sub = "models" if w.kind == "model" else "micro"
    d = os.path.join(args.work_dir, sub)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, w.name + ".onnx")
    if w.kind == "micro" or args.reexport or not os.path.exists(path):
        t0 = time.monotonic()
        w.build(path)
        if w.kind == "model":
            log(f"exported {w.name} in {time.monotonic() - t0:.0f} s")
    return path


def compile_workload(w, onnx_path, args, rt):
    """Compiles with mlc; returns (compile info dict, MlcModel or None)."""
    d = os.path.join(args.work_dir, "mlc")
    os.makedirs(d, exist_ok=True)
    so = os.path.join(d, w.name + ".so")
    try:
        info = E.compile_mlc(args.mlc, onnx_path, so,
                             os.path.join(d, w.name + ".log"),
                             args.compile_timeout)
        if rt is None:
            raise E.EngineError(f"cannot load libmlcrt: {args.mlcrt_error}")
        return info, E.MlcModel(rt, so)
    except E.EngineError as e:
        return {"error": str(e)}, None


def open_engines(names, onnx_path, feeds, threads, model):
    """Opens each engine; returns ({name: engine}, {name: error})."""
    opened, errors = {}, {}
    for name in names:
        try:
            if name == "mlc":
                if model is None:
                    raise E.EngineError("not compiled (see the compile "
                                        "table)")
                opened[name] = E.MlcEngine(model, feeds, threads)
            elif name == "ort":
                opened[name] = E.OrtEngine(onnx_path, feeds, threads)
            else:
                opened[name] = E.OvEngine(onnx_path, feeds, threads)
        except E.EngineError as e:
            errors[name] = str(e)
    return opened, errors


def check_outputs(opened, errors, tol, first):
    """Runs every engine once (its time goes to first[name]) and compares
    its outputs with ORT's; an engine off by more than tol becomes an
    error.  Returns {name: rel L2}."""
    outs = {}
    for name, eng in list(opened.items()):
        try:
            t0 = time.perf_counter()
            eng.run()
            first[name] = time.perf_counter() - t0
            outs[name] = eng.outputs()
        except Exception as e:
            errors[name] = f"run: {E._first_line(e)}"
            opened.pop(name).close()
    ref = outs.get("ort")
    if ref is None:
        return {}
    errs = {}
    for name, out in outs.items():
        if name == "ort":
            continue
        err = max((E.rel_l2(o, r) for o, r in zip(out, ref)), default=0.0)
        if len(out) != len(ref):
            err = float("inf")
        errs[name] = err
        if not err <= tol:
            errors[name] = f"output differs from ORT: rel L2 {err:.2e}"
            opened.pop(name).close()
    return errs


def warm(eng):
    """Runs an engine (already run once by check_outputs) until warm: one
    run, or more up to 0.3 s; returns the seconds of the last run."""
    spent, n, t = 0.0, 0, 0.0
    while n < 1 or (spent < 0.3 and n < 20):
        t0 = time.perf_counter()
        eng.run()
        t = time.perf_counter() - t0
        spent, n = spent + t, n + 1
    return t


def measure(opened, errors, args, first):
    """The interleaved timing: `rounds` rounds, in each every engine runs
    its batch of runs back to back, the first engine rotating per round,
    with a short sleep between engines so spinning thread pools go idle.
    An engine whose check run took more than --slow-s is not run again:
    that one run is its sample (mlc's naive 4096^3 MatMul takes minutes).
    Returns {name: [seconds per run]} and the set of single-run engines."""
    single = {n for n in opened if first.get(n, 0.0) > args.slow_s}
    names = [n for n in opened if n not in single]
    one = {}
    for name in names:
        try:
            one[name] = max(warm(opened[name]), 1e-6)
        except Exception as e:
            errors[name] = f"run: {E._first_line(e)}"
            opened.pop(name).close()
    names = [n for n in opened if n not in single]
    batch = {n: max(1, min(args.max_batch, int(args.round_s / one[n])))
             for n in names}
    per_round = sum(batch[n] * one[n] for n in names) or 1e-6
    rounds = max(args.min_rounds,
                 min(args.rounds, int(args.max_s / per_round)))
    if not names:
        rounds = 0
    times = {n: [] for n in names}
    gc.disable()
    try:
        for r in range(rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                if name not in opened:
                    continue
                run = opened[name].run
                try:
                    for _ in range(batch[name]):
                        t0 = time.perf_counter()
                        run()
                        times[name].append(time.perf_counter() - t0)
                except Exception as e:
                    errors[name] = f"run: {E._first_line(e)}"
                    opened.pop(name).close()
                time.sleep(args.gap_s)
    finally:
        gc.enable()
    times.update({n: [first[n]] for n in single})
    return {n: t for n, t in times.items() if n not in errors}, single


def bench_threads(w, onnx_path, feeds, gflop, model, threads, args, comp):
    """One table row: every engine on one workload at one thread count."""
    row = {"workload": w.name, "threads": threads, "gflop": gflop,
           "engines": {}}
    opened, errors = open_engines(args.engines, onnx_path, feeds, threads,
                                  model)
    try:
        first = {}
        errs = check_outputs(opened, errors, args.tol, first)
        for name, err in errs.items():  # the first thread count's check
            comp.setdefault(f"{name}_rel_l2", err)
        times, single = measure(opened, errors, args, first)
    finally:
        for eng in opened.values():
            eng.close()
    for name in args.engines:
        if name in errors:
            row["engines"][name] = {"error": errors[name]}
        elif times.get(name):
            ts = sorted(times[name])
            row["engines"][name] = {
                "median_ms": 1e3 * ts[len(ts) // 2] if len(ts) % 2 else
                1e3 * (ts[len(ts) // 2 - 1] + ts[len(ts) // 2]) / 2,
                "min_ms": 1e3 * ts[0], "samples": len(ts)}
            if name in single:
                row["engines"][name]["single_run"] = True
        if name in errs and name in row["engines"]:
            row["engines"][name]["rel_l2_vs_ort"] = errs[name]
    if "ov" in opened and hasattr(opened["ov"], "precision"):
        row["ov_precision"] = opened["ov"].precision
    return row


def bench_workload(w, args, rt, doc):
    log(f"{w.name}: preparing")
    try:
        onnx_path = prepare(w, args)
        gflop = W.count_flops(onnx_path)
        gflop = gflop / 1e9 if gflop else None
        feeds = w.inputs()
    except Exception as e:  # an export that torch cannot do
        why = f"prepare: {E._first_line(e)}"
        for t in args.threads:
            doc["results"].append({"workload": w.name, "threads": t,
                                   "engines": {n: {"error": why}
                                               for n in args.engines}})
        return
    model = None
    if "mlc" in args.engines:
        comp, model = compile_workload(w, onnx_path, args, rt)
        doc["compile"][w.name] = comp
        if "error" not in comp:
            log(f"{w.name}: compiled in {comp['seconds']:.1f} s, "
                f"{comp['peak_rss_mib']:.0f} MiB")
    comp = doc["compile"].get(w.name, {})
    try:
        for t in args.threads:
            row = bench_threads(w, onnx_path, feeds, gflop, model, t, args,
                                comp)
            doc["results"].append(row)
            log(f"{w.name} T={t}: " + ", ".join(
                f"{n} {report.fmt_ms(e.get('median_ms'))} ms"
                if "median_ms" in e else f"{n} error"
                for n, e in row["engines"].items()))
    finally:
        if model is not None:
            model.close()


# ------------------------------------------------------------------ main

def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="mlc beside ONNX Runtime and OpenVINO, interleaved")
    ap.add_argument("--only", default="",
                    help="comma-separated workload names or fnmatch "
                    "patterns, or 'micro' / 'models' (default: all)")
    ap.add_argument("--threads", default="1,2",
                    help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--engines", default="mlc,ort,ov",
                    help="comma-separated, of mlc, ort, ov")
    ap.add_argument("--quick", action="store_true",
                    help="few short rounds; without --only, only the "
                    "small workloads")
    ap.add_argument("--json", metavar="FILE", help="also write the results")
    ap.add_argument("--mlc", default=os.path.join(REPO, "build/tools/mlc"))
    ap.add_argument("--mlcrt",
                    default=os.path.join(REPO, "build/runtime/libmlcrt.so"))
    ap.add_argument("--work-dir", default=os.path.join(REPO, "build/bench"))
    ap.add_argument("--reexport", action="store_true",
                    help="export the real models again (else cached)")
    ap.add_argument("--no-install", action="store_true",
                    help="do not pip-install openvino when it is missing")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 when any cell is an error")
    ap.add_argument("--tol", type=float, default=1e-3,
                    help="largest rel L2 against ORT (default 1e-3)")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--slow-s", type=float, default=None,
                    help="an engine whose first run takes longer is timed "
                    "by that run alone (default 10 s; 1 s with --quick)")
    ap.add_argument("--compile-timeout", type=float, default=1800)
    ap.add_argument("--list", action="store_true",
                    help="list the workloads and exit")
    args = ap.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in args.engines if e not in ENGINES]
    if bad or not args.engines:
        ap.error(f"--engines: unknown {bad}; known: {', '.join(ENGINES)}")
    try:
        args.threads = [int(t) for t in args.threads.split(",")]
        if any(t < 1 for t in args.threads):
            raise ValueError
    except ValueError:
        ap.error("--threads: comma-separated integers >= 1")
    try:
        args.workloads = W.select(args.only, args.quick)
    except ValueError as e:
        ap.error(str(e))
    # Timing plan: `rounds` rounds of about `round_s` per engine, at least
    # `min_rounds` and at most about `max_s` of runs per engine.
    q = args.quick
    args.rounds = args.rounds or (3 if q else 7)
    args.min_rounds = min(args.rounds, 3)
    args.round_s, args.max_s = (0.02, 1.0) if q else (0.2, 40.0)
    args.max_batch, args.gap_s = (20, 0.005) if q else (100, 0.02)
    if args.slow_s is None:
        args.slow_s = 1.0 if q else 10.0
    args.work_dir = os.path.abspath(args.work_dir)
    args.mlc = os.path.abspath(args.mlc)
    return args


def versions(args):
    out = {}
    for mod in ("onnxruntime", "openvino", "numpy", "onnx"):
        if mod == "openvino" and "ov" not in args.engines:
            continue
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            pass
    if any(w.kind == "model" for w in args.workloads):
        try:
            import torch
            import torchvision
            out["torch"] = torch.__version__
            out["torchvision"] = torchvision.__version__
        except ImportError:
            pass
    return out


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        for w in W.WORKLOADS:
            print(f"{w.name:24} {w.kind:6} {'quick ' if w.quick else '':6}"
                  f"{w.about}")
        return 0
    os.makedirs(args.work_dir, exist_ok=True)
    if "ov" in args.engines:
        why = ensure_openvino(args)
        if why:
            log(why)
    rt, args.mlcrt_error = None, None
    if "mlc" in args.engines:
        if not os.access(args.mlc, os.X_OK):
            log(f"{args.mlc} is not an executable (build first)")
            return 2
        try:
            rt = E.Mlcrt(args.mlcrt)
        except OSError as e:
            args.mlcrt_error = str(e)
    doc = {"machine": report.machine_info(), "commit": report.git_commit(REPO),
           "command": " ".join(shlex.quote(a) for a in
                               [os.path.relpath(sys.executable)] + sys.argv),
           "engines": args.engines, "threads": args.threads,
           "slow_s": args.slow_s,
           "versions": versions(args), "results": [], "compile": {}}
    exe, why = build_peak(args.work_dir)
    probes = []
    probe_s = 0.05 if args.quick else 0.2
    if exe:
        probes.append(probe_peak(exe, args.threads, probe_s))
    for i, w in enumerate(args.workloads):
        if exe and i and not args.quick:  # a shared machine: probe often
            probes.append(probe_peak(exe, args.threads, probe_s))
        bench_workload(w, args, rt, doc)
    if exe:
        probes.append(probe_peak(exe, args.threads, probe_s))
        doc["peak"] = {"threads": merge_peaks(probes)}
    else:
        doc["peak"] = {"error": why}
    doc["machine"]["load_average_end"] = os.getloadavg()
    peaks = {t: p["gflops"] for t, p in doc["peak"].get("threads", {}).items()}
    for row in doc["results"]:
        report.derive(row, peaks)
    print(report.render(doc), flush=True)
    if args.json:
        report.write_json(args.json, doc)
    failed = any("median_ms" not in r["engines"].get(n, {})
                 for r in doc["results"] for n in args.engines) or \
        any("error" in c for c in doc["compile"].values())
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
