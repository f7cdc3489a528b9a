"""SPIN against pagerace on the full seed matrix of hvo-speculative-walker.

For every cell (6 generations x 4 architectures x 2 targets = 48) SPIN runs end to end on
the equivalent Promela model benchmarks/spin/hvo_speculative_walker.pml, in a temporary
directory: `spin -DGEN=.. -DARCH=.. -DTARGET=.. -a`, `gcc -O2 -DSAFETY pan.c` (SPIN's
default partial-order reduction stays on), `./pan -m<depth>`; its verdict is "violation"
when pan reports `errors: N` with N > 0. pagerace runs the same matrix with
`pagerace matrix hvo-speculative-walker --json --jobs 1` as a subprocess and in-process
(`run_matrix`, jobs=1). Both stop a cell at its first violation.

Prints the per-cell verdicts (every disagreement is listed), SPIN's total seconds (and how
they split into spin -a / gcc / pan), pagerace's seconds and the ratio. Everything printed
is measured in this run. Without `spin` (or a C compiler) on PATH it says so and exits 0.

Run: `.venv/bin/python benchmarks/spin_bench.py [--depth N] [--cc gcc]`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SEED = "hvo-speculative-walker"
MODEL = Path(__file__).resolve().parent / "spin" / "hvo_speculative_walker.pml"
GENS = {"G0": "G0", "rw-tails": "RW_TAILS", "G1": "G1", "G1b": "G1B", "G2": "G2",
        "G3": "G3"}
# the Promela model's architectures are cmpxchg semantics inside the generic
# atomic_add_unless() loop: LLSC is arm64 without LSE; its RISCV_ZACAS (amocas in that loop)
# is no longer pagerace's riscv-zacas (riscv's own LR/SC atomic_fetch_add_unless), so the
# riscv and loongarch columns are not cross-checked
ARCHS = {"x86": "X86", "arm64-lse": "ARM64_LSE", "arm64-nolse": "LLSC"}
TARGETS = {"aligned": "ALIGNED", "unaligned": "UNALIGNED"}
ERRORS = re.compile(r"errors:\s*(\d+)")
ASSERTION = re.compile(r"assertion violated\s+(.*?)\s+\(at depth")
STORED = re.compile(r"(\d+)\s+states, stored")


@dataclass
class SpinCell:
    gen: str
    arch: str
    target: str
    verdict: str
    why: str
    states: int
    t_spin: float
    t_cc: float
    t_pan: float
    t_total: float


def run(cmd: list[str], cwd: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, proc


def spin_cell(gen: str, arch: str, target: str, depth: int, cc: str) -> SpinCell:
    defines = [f"-DGEN={GENS[gen]}", f"-DARCH={ARCHS[arch]}", f"-DTARGET={TARGETS[target]}"]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="spin-bench-") as tmp:
        shutil.copy(MODEL, Path(tmp) / MODEL.name)
        t_spin, p = run(["spin", *defines, "-a", MODEL.name], tmp)
        if p.returncode:
            raise RuntimeError(f"spin -a failed for {gen}/{arch}/{target}:\n{p.stdout}{p.stderr}")
        t_cc, p = run([cc, "-O2", "-DSAFETY", "-w", "-o", "pan", "pan.c"], tmp)
        if p.returncode:
            raise RuntimeError(f"{cc} pan.c failed for {gen}/{arch}/{target}:\n{p.stderr}")
        t_pan, p = run(["./pan", f"-m{depth}", "-n"], tmp)
        out = p.stdout + p.stderr
    total = time.perf_counter() - t0
    m = ERRORS.search(out)
    if m is None:
        raise RuntimeError(f"no 'errors:' in pan's output for {gen}/{arch}/{target}:\n{out}")
    if "error: max search depth too small" in out:
        raise RuntimeError(f"pan: search depth {depth} too small for {gen}/{arch}/{target}")
    errors = int(m.group(1))
    a = ASSERTION.search(out)
    if errors:
        why = a.group(1) if a else ("invalid end state" if "invalid end state" in out
                                    else out.strip().splitlines()[0])
    else:
        why = ""
    s = STORED.search(out)
    return SpinCell(gen, arch, target, "violation" if errors else "pass", why,
                    int(s.group(1)) if s else -1, t_spin, t_cc, t_pan, total)


def pagerace_cmd() -> list[str]:
    script = Path(sys.executable).with_name("pagerace")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "pagerace"]


def pagerace_subprocess() -> tuple[float, dict[tuple[str, str, str], dict]]:
    t0 = time.perf_counter()
    p = subprocess.run([*pagerace_cmd(), "matrix", SEED, "--json", "--jobs", "1"],
                       capture_output=True, text=True, check=False)
    dt = time.perf_counter() - t0
    try:
        cells = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise RuntimeError(f"pagerace matrix printed no JSON (exit {p.returncode}):\n"
                           f"{p.stderr}") from e
    by = {(c["params"]["gen"], c["params"]["arch"], c["params"]["target"]): c for c in cells}
    return dt, by


def pagerace_in_process() -> tuple[float, dict[tuple[str, str, str], dict]]:
    t0 = time.perf_counter()
    from pagerace.check import CheckOptions, run_matrix
    from pagerace.scenarios.catalog import load_scenario
    m = run_matrix(load_scenario(SEED), SEED, {}, CheckOptions(), jobs=1)
    dt = time.perf_counter() - t0
    by = {(c.params["gen"], c.params["arch"], c.params["target"]): c.to_json()
          for c in m.cells}
    return dt, by


def kind(cell: dict) -> str:
    v = cell.get("violation")
    return v["kind"] if isinstance(v, dict) else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=10000, help="pan -m search depth")
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"), help="C compiler for pan.c")
    args = ap.parse_args()
    if shutil.which("spin") is None:
        print("spin is not installed (e.g. `apt-get install spin`): nothing to measure")
        return 0
    if shutil.which(args.cc) is None:
        print(f"{args.cc} is not installed: SPIN cannot compile pan.c, nothing to measure")
        return 0
    ver = subprocess.run(["spin", "-V"], capture_output=True, text=True).stdout.strip()
    print(f"{ver}; {args.cc} -O2 -DSAFETY (partial-order reduction on); pan -m{args.depth}")

    t_pr_sub, sub = pagerace_subprocess()
    t_pr_in, inproc = pagerace_in_process()

    spin_cells: list[SpinCell] = []
    t0 = time.perf_counter()
    for gen in GENS:
        for arch in ARCHS:
            for target in TARGETS:
                spin_cells.append(spin_cell(gen, arch, target, args.depth, args.cc))
    t_spin_wall = time.perf_counter() - t0

    print(f"\n{'cell':30} {'SPIN':>9} {'pagerace':>9}  {'agree':5} {'states':>6} "
          f"{'spin s':>7}  SPIN assertion / pagerace kind")
    disagree = []
    for c in spin_cells:
        key = (c.gen, c.arch, c.target)
        pr = sub[key]
        if inproc[key]["verdict"] != pr["verdict"]:
            raise RuntimeError(f"pagerace subprocess and in-process disagree on {key}")
        ok = pr["verdict"] == c.verdict
        if not ok:
            disagree.append((c, pr))
        note = " / ".join(x for x in (c.why, kind(pr)) if x)
        print(f"{'/'.join(key):30} {c.verdict:>9} {pr['verdict']:>9}  "
              f"{'yes' if ok else 'NO':5} {c.states:>6} {c.t_total:>7.3f}  {note}")

    n = len(spin_cells)
    agree = n - len(disagree)
    print(f"\nverdicts: {agree}/{n} cells agree")
    for c, pr in disagree:
        print(f"  DISAGREE {c.gen}/{c.arch}/{c.target}: SPIN {c.verdict} ({c.why or '-'}), "
              f"pagerace {pr['verdict']} ({kind(pr) or '-'}"
              + (f": {pr['violation']['message']}" if pr.get("violation") else "") + ")")

    s_spin = sum(c.t_spin for c in spin_cells)
    s_cc = sum(c.t_cc for c in spin_cells)
    s_pan = sum(c.t_pan for c in spin_cells)
    s_total = sum(c.t_total for c in spin_cells)
    print(f"\nSPIN, {n} cells end to end: {s_total:.2f} s "
          f"(wall {t_spin_wall:.2f} s; spin -a {s_spin:.2f} s, {args.cc} {s_cc:.2f} s, "
          f"pan {s_pan:.2f} s; {sum(c.states for c in spin_cells)} states stored)")
    print(f"pagerace matrix --json --jobs 1, subprocess: {t_pr_sub:.2f} s")
    print(f"pagerace run_matrix(jobs=1), in-process:     {t_pr_in:.2f} s")
    print(f"ratio SPIN / pagerace: {s_total / t_pr_sub:.1f}x (subprocess), "
          f"{s_total / t_pr_in:.1f}x (in-process); target 10x")
    print(f"ratio SPIN verification only (pan) / pagerace in-process: "
          f"{s_pan / t_pr_in:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
