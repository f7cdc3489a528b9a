"""Scale benchmark: how DPOR and the stateful search grow with the number of CPUs.

The seed cell (hvo-speculative-walker, G2 x86 unaligned) with 1-4 walker CPUs beside the
vmemmap modifier, scaled geometry, and 1-3 walkers on the real geometry: DPOR executions
and seconds against the stateful search's stored states and seconds, without symmetry,
with it, and with it and the learned ample sets (`por=True`), all measured in this run,
with the ratios. A point that hits the time limit is
printed as a lower bound (">=").

Run: `.venv/bin/python benchmarks/scale_bench.py [--limit SECONDS] [--max-walkers N]
[--max-real-walkers N]`.
"""

from __future__ import annotations

import argparse
import time

from pagerace.engine import Limits, explore
from pagerace.scenarios.catalog import load_scenario

SEED = "hvo-speculative-walker"


def _run(prog: object, strategy: str, limit: float, symmetry: bool = True,
         por: bool = False) -> tuple[int, float, bool, set[str]]:
    t0 = time.perf_counter()
    r = explore(prog, strategy, Limits(max_seconds=limit), stop_on_violation=False,  # type: ignore[arg-type]
                symmetry=symmetry, por=por)
    dt = time.perf_counter() - t0
    count = r.stats.states if strategy == "stateful" else r.stats.executions
    return count, dt, r.complete, {v.kind for v in r.violations}


def _fmt(count: int, complete: bool) -> str:
    return f"{count:,}" if complete else f">={count:,}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=600.0, help="seconds per point")
    ap.add_argument("--max-walkers", type=int, default=4)
    ap.add_argument("--max-real-walkers", type=int, default=3,
                    help="walkers on the real geometry (0: none)")
    args = ap.parse_args()
    sc = load_scenario(SEED)
    print(f"{'cell':24} {'dpor exec':>11} {'s':>7} {'states':>9} {'s':>7} "
          f"{'sym states':>10} {'s':>7} {'+por states':>11} {'s':>7} {'nosym/sym':>9} "
          f"{'dpor s/sym s':>12}")
    points = [("scaled", w) for w in range(1, args.max_walkers + 1)] + \
        [("real", w) for w in range(1, min(args.max_real_walkers, args.max_walkers) + 1)]
    for geometry, w in points:
        prog = sc.build({"gen": "G2", "arch": "x86", "target": "unaligned",
                         "geometry": geometry, "walkers": str(w)})
        dpor = _run(prog, "dpor", args.limit)
        plain = _run(prog, "stateful", args.limit, symmetry=False)
        sym = _run(prog, "stateful", args.limit, symmetry=True)
        por = _run(prog, "stateful", args.limit, symmetry=True, por=True)
        runs = (dpor, plain, sym, por)
        kinds = {k for r in runs if r[2] for k in r[3]}
        agree = all(r[3] == kinds for r in runs if r[2])
        print(f"{geometry + ' ' + str(w + 1) + ' CPUs':24} {_fmt(dpor[0], dpor[2]):>11} "
              f"{dpor[1]:7.2f} {_fmt(plain[0], plain[2]):>9} {plain[1]:7.2f} "
              f"{_fmt(sym[0], sym[2]):>10} {sym[1]:7.2f} {_fmt(por[0], por[2]):>11} "
              f"{por[1]:7.2f} {plain[0] / sym[0]:9.2f} "
              f"{dpor[1] / sym[1]:12.2f}" + ("" if agree else "  VERDICTS DIFFER"),
              flush=True)


if __name__ == "__main__":
    main()
