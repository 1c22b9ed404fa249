"""What the benchmark prints and writes: the machine it ran on, the
results table (markdown), the compile table, the numbered notes that the
error cells point to, and the JSON document with the same data.

A result row is a dict:

    {"workload": str, "threads": int, "gflop": float or None,
     "engines": {"mlc": {"median_ms": ..., "min_ms": ..., "samples": n,
                         "rel_l2": ...} or {"error": "reason"}, ...}}

from which the ratios (mlc/ORT, mlc/best peer) and mlc's GFLOP/s and
fraction of the measured peak are derived here, once, for the table and
the JSON alike.
"""
import datetime
import json
import os
import platform
import subprocess

NOTE_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512vl",
              "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile",
              "amx_bf16", "amx_int8")


def machine_info():
    info = {"cpu": platform.processor() or "unknown", "cpus": os.cpu_count(),
            "flags_of_note": [], "load_average": os.getloadavg(),
            "date_utc": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC")}
    try:
        text = subprocess.run(["lscpu"], stdout=subprocess.PIPE,
                              universal_newlines=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return info
    fields = {}
    for line in text.splitlines():
        key, _, val = line.partition(":")
        fields[key.strip()] = val.strip()
    info["cpu"] = fields.get("Model name", info["cpu"])
    flags = fields.get("Flags", "").split()
    info["flags_of_note"] = [f for f in NOTE_FLAGS if f in flags]
    for key in ("L1d cache", "L2 cache", "L3 cache", "Hypervisor vendor"):
        if key in fields:
            info[key.lower().replace(" ", "_")] = fields[key]
    return info


def git_commit(repo):
    def git(*args):
        return subprocess.run(["git", "-C", repo] + list(args),
                              stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL,
                              universal_newlines=True).stdout.strip()
    try:
        head = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except OSError:
        return "unknown"
    return (head or "unknown") + (" (with uncommitted changes)" if dirty
                                  else "")


# ----------------------------------------------------------------- derive

def derive(row, peaks):
    """Adds ratios, GFLOP/s and % of peak to a result row (in place)."""
    eng = row["engines"]

    def ms(name):
        e = eng.get(name)
        return e.get("median_ms") if e else None
    mlc, ort = ms("mlc"), ms("ort")
    peers = [v for v in (ort, ms("ov")) if v]
    row["mlc_over_ort"] = mlc / ort if mlc and ort else None
    row["mlc_over_best_peer"] = mlc / min(peers) if mlc and peers else None
    gf = row.get("gflop")
    row["mlc_gflops"] = gf / (mlc * 1e-3) if gf and mlc else None
    peak = peaks.get(row["threads"])
    row["mlc_pct_of_peak"] = (100.0 * row["mlc_gflops"] / peak
                              if row["mlc_gflops"] and peak else None)
    return row


# ------------------------------------------------------------------ table

def fmt_ms(v):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def _num(v, spec):
    return "-" if v is None else format(v, spec)


class Notes(object):
    """Numbered reasons for error cells, each printed once."""

    def __init__(self):
        self.items = []

    def ref(self, text):
        if text not in self.items:
            self.items.append(text)
        return f"error [{self.items.index(text) + 1}]"


def _cell(row, name, engines, notes):
    if name not in engines:
        return "-"
    e = row["engines"].get(name, {})
    if "error" in e:
        return notes.ref(f"{name} on {row['workload']}: {e['error']}")
    return fmt_ms(e.get("median_ms")) + ("*" if e.get("single_run") else "")


def results_table(rows, engines, notes):
    head = ("| workload | T | GFLOP | mlc ms | ORT ms | OpenVINO ms |"
            " mlc/ORT | mlc/best | mlc GFLOP/s | mlc % peak |")
    out = [head, "|" + " --- |" * 10]
    for r in rows:
        cells = [r["workload"], str(r["threads"]),
                 _num(r.get("gflop"), ".3g"),
                 _cell(r, "mlc", engines, notes),
                 _cell(r, "ort", engines, notes),
                 _cell(r, "ov", engines, notes),
                 _num(r.get("mlc_over_ort"), ".2f"),
                 _num(r.get("mlc_over_best_peer"), ".2f"),
                 _num(r.get("mlc_gflops"), ".1f"),
                 _num(r.get("mlc_pct_of_peak"), ".1f")]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def compile_table(compiles, notes):
    out = ["| workload | mlc compile s | peak RSS MiB | mlc vs ORT rel L2 |"
           " OpenVINO vs ORT rel L2 |", "|" + " --- |" * 5]
    for name, c in compiles.items():
        if "error" in c:
            first = notes.ref(f"mlc on {name}: {c['error']}")
            cells = [name, first, "-"]
        else:
            cells = [name, f"{c['seconds']:.1f}",
                     f"{c['peak_rss_mib']:.0f}"]
        cells += [_num(c.get("mlc_rel_l2"), ".1e"),
                  _num(c.get("ov_rel_l2"), ".1e")]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def peak_lines(peak):
    if "error" in peak:
        return [f"FMA peak probe: not measured ({peak['error']})"]
    lines = []
    for t, p in sorted(peak["threads"].items()):
        lines.append(f"FMA peak ({p['isa']}, T={t}): {p['gflops']:.1f} "
                     f"GFLOP/s ({p['gflops_per_core']:.1f} per core; "
                     f"probes this run: {', '.join(f'{v:.1f}' for v in p['probes'])})")
    return lines


def render(doc):
    notes = Notes()
    m = doc["machine"]
    lines = [f"machine: {m['cpu']}, {m['cpus']} CPUs, flags: "
             f"{' '.join(m['flags_of_note']) or '-'}",
             f"date: {m['date_utc']}; commit: {doc['commit']}",
             "load average (1, 5, 15 min) at start: " +
             " ".join(f"{x:.2f}" for x in m["load_average"]) + "; at end: " +
             " ".join(f"{x:.2f}" for x in m.get("load_average_end", ())),
             f"versions: {', '.join(f'{k} {v}' for k, v in doc['versions'].items())}",
             f"command: {doc['command']}"]
    lines += peak_lines(doc["peak"]) + [""]
    lines.append(results_table(doc["results"], doc["engines"], notes))
    if any(e.get("single_run") for r in doc["results"]
           for e in r["engines"].values()):
        lines.append("\n* one run only: the engine's first run took longer "
                     f"than {doc['slow_s']:g} s, so it was not repeated "
                     "(nor interleaved).")
    if doc["compile"]:
        lines += ["", compile_table(doc["compile"], notes)]
    if notes.items:
        lines += ["", "Errors:"]
        lines += [f"[{i + 1}] {t}" for i, t in enumerate(notes.items)]
    return "\n".join(lines)


def write_json(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True, default=str)
        f.write("\n")
    os.replace(tmp, path)
