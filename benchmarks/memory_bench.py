"""Memory-model benchmark: DPOR's reduction and redundancy under every model (engine.memory.MODELS).

For each of the kernel's litmus tests in tests/litmus/ and each model: naive DFS
executions, DPOR executions, Mazurkiewicz traces (what an optimal reduction explores),
DPOR's sleep-set-blocked partial runs (its redundancy) and the time DPOR takes.

Run: `.venv/bin/python benchmarks/memory_bench.py [FILES...]`. Nothing is asserted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pagerace.engine import Limits, explore
from pagerace.engine.mazurkiewicz import count_traces
from pagerace.engine.memory import MODELS
from pagerace.litmus.interp import build
from pagerace.litmus.parse import parse

DEFAULT = sorted((Path(__file__).resolve().parent.parent / "tests" / "litmus").glob("*.litmus"))


def main(files: list[Path]) -> None:
    print(f"{'test':48} {'model':8} {'dfs':>7} {'dpor':>6} {'traces':>7} {'blocked':>8} "
          f"{'dpor/dfs':>9} {'s':>7}")
    totals = {m: [0, 0, 0, 0] for m in MODELS}
    for f in files:
        test = parse(f.read_text())
        for m in MODELS:
            prog = build(test, m)
            lim = Limits(max_seconds=60)
            dfs = explore(prog, "dfs", lim, stop_on_violation=False)
            t0 = time.perf_counter()
            dpor = explore(prog, "dpor", lim, stop_on_violation=False)
            secs = time.perf_counter() - t0
            traces = count_traces(prog, lim)
            tot = totals[m]
            for i, v in enumerate((dfs.stats.executions, dpor.stats.executions, traces,
                                   dpor.stats.sleep_blocked)):
                tot[i] += v
            print(f"{test.name[:48]:48} {m:8} {dfs.stats.executions:>7} "
                  f"{dpor.stats.executions:>6} {traces:>7} {dpor.stats.sleep_blocked:>8} "
                  f"{dpor.stats.executions / max(1, dfs.stats.executions):>9.3f} {secs:>7.3f}")
    print()
    for m, (dfs_n, dpor_n, traces, blocked) in totals.items():
        print(f"total {m:8} dfs {dfs_n} dpor {dpor_n} traces {traces} sleep-blocked "
              f"{blocked}: dpor/dfs {dpor_n / max(1, dfs_n):.3f}, dpor/traces "
              f"{dpor_n / max(1, traces):.3f}, blocked per execution "
              f"{blocked / max(1, dpor_n):.3f}")


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]] or DEFAULT)
