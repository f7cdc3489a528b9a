"""SPIN against pagerace on hvo-speculative-walker: real geometry, walkers, growth.

`--strategy stateful` runs pagerace's stateful search instead of DPOR; its "pr execs"
column is then the states it stored.

SPIN runs end to end on the equivalent Promela model benchmarks/spin/hvo_speculative_walker.pml
in a temporary directory per cell: `spin -DGEN=.. -DARCH=.. -DTARGET=.. -DWALKERS=N [-DREAL]
-a`, `gcc -O2 -DSAFETY pan.c` (SPIN's default partial-order reduction stays on), `./pan
-m<depth>`; its verdict is "violation" when pan reports `errors: N` with N > 0. pagerace
runs in-process (`run_matrix` / `run_check`, DPOR, `tlb=current` like the Promela model).
Both stop a cell at its first violation. One run prints:

1. the real geometry (2 MiB folio) with 1, 2 and 3 walkers over the cross-checked cells
   (6 generations x x86, arm64-lse, arm64-nolse x 2 targets; `--cells x86`: 12): verdicts
   agreeing, SPIN states stored, pagerace executions, seconds of each (SPIN's wall time
   with `--jobs` cells built at once, and pan's search alone), the ratios;
2. growth in one cell (`--growth-cell`, default the passing G2/x86/unaligned, which both
   explore completely): 2..`--max-walkers`+1 CPUs in the scaled geometry, and the real
   folio, with pagerace's executions, distinct states and seconds (`--jobs` workers,
   `--max-seconds` a check: "(limit)" when it stops there) next to SPIN's;
3. with `--seed-matrix`, the scaled seed matrix cell by cell as before.

Everything printed is measured in this run. Without `spin` (or a C compiler) on PATH it
says so and exits 0.

Run: `.venv/bin/python benchmarks/spin_bench.py [--jobs N] [--cells x86] [--max-walkers 3]`.
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
from concurrent.futures import ThreadPoolExecutor
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
VECTORSZ = 16384  # bytes of pan's state vector: the real geometry's is about 6.5 KB


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


def spin_cell(gen: str, arch: str, target: str, depth: int, cc: str, walkers: int = 1,
              geometry: str = "scaled") -> SpinCell:
    defines = [f"-DGEN={GENS[gen]}", f"-DARCH={ARCHS[arch]}", f"-DTARGET={TARGETS[target]}",
               f"-DWALKERS={walkers}"] + (["-DREAL"] if geometry == "real" else [])
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="spin-bench-") as tmp:
        shutil.copy(MODEL, Path(tmp) / MODEL.name)
        t_spin, p = run(["spin", *defines, "-a", MODEL.name], tmp)
        if p.returncode:
            raise RuntimeError(f"spin -a failed for {gen}/{arch}/{target}:\n{p.stdout}{p.stderr}")
        t_cc, p = run([cc, "-O2", "-DSAFETY", f"-DVECTORSZ={VECTORSZ}", "-w", "-o", "pan",
                       "pan.c"], tmp)
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


def seed_matrix(args: argparse.Namespace) -> None:
    """The whole scaled seed matrix, one walker: verdicts cell by cell, and the time."""
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




def pagerace_cells(cells: list[tuple[str, str, str]], params: dict[str, str], jobs: int,
                   strategy: str = "dpor") -> tuple[float, dict[tuple[str, str, str], dict]]:
    """Check `cells` in-process (`run_matrix` per architecture and target, `--jobs`
    workers)."""
    from pagerace.check import CheckOptions, run_matrix
    from pagerace.scenarios.catalog import load_scenario

    sc = load_scenario(SEED)
    by: dict[tuple[str, str, str], dict] = {}
    t0 = time.perf_counter()
    for arch, target in sorted({(a, t) for _, a, t in cells}):
        # one matrix per column, so that no cell outside `cells` (the head target) runs
        fixed = {**params, "arch": arch, "target": target}
        m = run_matrix(sc, SEED, fixed, CheckOptions(strategy=strategy), jobs=jobs)
        for c in m.cells:
            key = (c.params["gen"], c.params["arch"], c.params["target"])
            if key in cells:
                by[key] = c.to_json()
    return time.perf_counter() - t0, by


def spin_cells(cells: list[tuple[str, str, str]], args: argparse.Namespace, walkers: int,
               geometry: str) -> list[SpinCell]:
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        return list(pool.map(lambda c: spin_cell(*c, args.depth, args.cc, walkers, geometry),
                             cells))


def walkers_table(args: argparse.Namespace, cells: list[tuple[str, str, str]]) -> None:
    print(f"\n== real geometry (2 MiB folio), {len(cells)} cells, tlb=current: "
          f"SPIN end to end vs pagerace ({args.strategy}) ==")
    print(f"{'walkers':>7} {'CPUs':>4} {'agree':>7} {'SPIN states':>11} "
          f"{'pr execs':>9} {'SPIN s':>8} {'pan s':>7} {'pr s':>7} {'ratio':>7} "
          f"{'pan/pr':>7}")
    for w in args.walkers:
        sp = spin_cells(cells, args, w, "real")
        t_pr, pr = pagerace_cells(cells, {"geometry": "real", "walkers": str(w),
                                          "tlb": "current"}, args.jobs, args.strategy)
        agree = sum(1 for c in sp if pr[(c.gen, c.arch, c.target)]["verdict"] == c.verdict)
        wrong = [f"{c.gen}/{c.arch}/{c.target}" for c in sp
                 if pr[(c.gen, c.arch, c.target)]["verdict"] != c.verdict]
        execs = sum(int(c["stats"].get("states") or c["stats"].get("executions", 0))
                    for c in pr.values())
        t_sp = sum(c.t_total for c in sp) / args.jobs  # cells ran args.jobs at a time
        t_pan = sum(c.t_pan for c in sp)
        print(f"{w:>7} {w + 1:>4} {agree:>3}/{len(sp):<3} {sum(c.states for c in sp):>11,} "
              f"{execs:>9,} {t_sp:>8.1f} {t_pan:>7.2f} {t_pr:>7.2f} {t_sp / t_pr:>6.1f}x "
              f"{t_pan / t_pr:>6.2f}x" + (f"  DISAGREE: {', '.join(wrong)}" if wrong else ""))


def one_check(params: dict[str, str], jobs: int, max_seconds: float,
              strategy: str = "dpor") -> tuple[float, dict]:
    from pagerace.check import CheckOptions, run_check
    from pagerace.scenarios.catalog import load_scenario

    t0 = time.perf_counter()
    r = run_check(load_scenario(SEED), params,
                  CheckOptions(jobs=jobs, max_seconds=max_seconds, strategy=strategy), ref=SEED)
    return time.perf_counter() - t0, r.to_json()


def growth(args: argparse.Namespace) -> None:
    gen, arch, target = args.growth_cell.split("/")
    base = {"gen": gen, "arch": arch, "target": target, "tlb": "current"}
    print(f"\n== growth, cell {args.growth_cell} (tlb=current), pagerace --jobs {args.jobs}, "
          f"at most {args.max_seconds:g} s a check ==")
    print(f"{'what':22} {'pr verdict':>10} {'pr execs':>10} {'ends':>7} {'pr s':>8} "
          f"{'SPIN states':>11} {'pan s':>7} {'SPIN s':>8}")
    rows = [(f"{w + 1} CPUs, scaled", w, "scaled") for w in range(1, args.max_walkers + 1)]
    rows += [("2 CPUs, real (2 MiB)", 1, "real")]
    for label, w, geometry in rows:
        dt, r = one_check({**base, "walkers": str(w), "geometry": geometry}, args.jobs,
                          args.max_seconds, args.strategy)
        st = r["stats"]
        verdict = r["verdict"] + ("" if r["complete"] or r["verdict"] != "pass" else " (limit)")
        sp = spin_cell(gen, arch, target, args.depth, args.cc, w, geometry)
        count = st.get("states") or st["executions"]
        print(f"{label:22} {verdict:>10} {count:>10,} {st['distinct_states']:>7} "
              f"{dt:>8.2f} {sp.states:>11,} {sp.t_pan:>7.2f} {sp.t_total:>8.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=20000, help="pan -m search depth")
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"), help="C compiler for pan.c")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="pagerace workers, and SPIN cells built at once")
    ap.add_argument("--cells", choices=("all", "x86"), default="all",
                    help="the real-geometry cells: all 36 cross-checked, or the x86 column")
    ap.add_argument("--walkers", type=int, nargs="*", default=[1, 2, 3],
                    help="walker counts of the real-geometry table (none: skip it)")
    ap.add_argument("--max-walkers", type=int, default=4, help="growth: up to N+1 CPUs")
    ap.add_argument("--max-seconds", type=float, default=120.0,
                    help="growth: pagerace's time limit per check")
    ap.add_argument("--growth-cell", default="G2/x86/unaligned")
    ap.add_argument("--strategy", choices=("dpor", "stateful"), default="dpor",
                    help="pagerace's strategy (stateful: visited set + symmetry; its counts "
                    "are states stored)")
    ap.add_argument("--seed-matrix", action="store_true",
                    help="also the scaled seed matrix, one walker, cell by cell")
    args = ap.parse_args()
    if shutil.which("spin") is None:
        print("spin is not installed (e.g. `apt-get install spin`): nothing to measure")
        return 0
    if shutil.which(args.cc) is None:
        print(f"{args.cc} is not installed: SPIN cannot compile pan.c, nothing to measure")
        return 0
    ver = subprocess.run(["spin", "-V"], capture_output=True, text=True).stdout.strip()
    print(f"{ver}; {args.cc} -O2 -DSAFETY (partial-order reduction on); pan -m{args.depth}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    archs = ["x86"] if args.cells == "x86" else list(ARCHS)
    cells = [(g, a, t) for g in GENS for a in archs for t in TARGETS]
    if args.walkers:
        walkers_table(args, cells)
    growth(args)
    if args.seed_matrix:
        seed_matrix(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
