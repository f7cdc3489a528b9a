"""The HVO scenarios: every matrix cell pinned, RECORD or FOUND.

RECORD cells are the ones the kernel record states (each cites its source: the June 2024
seed thread, Yu Zhao's objection, page_count_writable()'s race diagram and fix); every
other cell is FOUND - pinned as the checker found it (README verdict tables), so that a
change to the model that flips a verdict is noticed and explained.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pagerace.check import run_check
from pagerace.engine import explore
from pagerace.kernel.arch import ARCH_NAMES
from pagerace.scenarios.catalog import load_scenario

# Where each pinned verdict comes from. RECORD: the kernel record states it (cited);
# FOUND: the checker (DPOR) found it and no one in the record stated it. arm64-nolse is the
# former `llsc` column (generic atomic_add_unless loop with an LL/SC cmpxchg); riscv,
# riscv-zacas and loongarch run their own LL/SC atomic_fetch_add_unless(), so riscv-zacas
# G0/unaligned and G3 pass (no amocas on that path).
SEED_THREAD_X86 = ("the seed thread (linux-mm, June 2024): the walker's count read before "
                   "the free, cmpxchg after the remap; Frank van der Linden's point that "
                   "x86 LOCK CMPXCHG writes even when the compare fails")
DEDUP_OBJECTION = ("Yu Zhao's objection to the read-write tails proposal in the June 2024 "
                   "thread: the walker's increment writes the deduplicated frame")
PAGE_COUNT_WRITABLE_RACE = ("the race diagram in page_count_writable()'s comment, the v6.15 "
                            "fix <20250108074822.722696-1-yuzhao@google.com>")
PAGE_COUNT_WRITABLE_FIX = ("the v6.15 fix <20250108074822.722696-1-yuzhao@google.com>: "
                           "page_is_fake_head() ordered after page_ref_count()")
SEED_RECORD: dict[tuple[str, str, str], tuple[str, str]] = {
    ('G0', 'x86', 'unaligned'): ('oops', SEED_THREAD_X86),
    **{('rw-tails', arch, 'aligned'): ('dedup-write', DEDUP_OBJECTION)
       for arch in ARCH_NAMES},
    **{('G1', arch, 'aligned'): ('oops', PAGE_COUNT_WRITABLE_RACE) for arch in ARCH_NAMES},
    ('G2', 'x86', 'aligned'): ('pass', PAGE_COUNT_WRITABLE_FIX),
}

_SEED_PINS = {
    ('G0', 'x86', 'aligned'): 'oops',
    ('G0', 'x86', 'unaligned'): 'oops',
    ('G0', 'arm64-lse', 'aligned'): 'oops',
    ('G0', 'arm64-lse', 'unaligned'): 'oops',
    ('G0', 'arm64-nolse', 'aligned'): 'oops',
    ('G0', 'arm64-nolse', 'unaligned'): 'pass',
    ('G0', 'riscv', 'aligned'): 'oops',
    ('G0', 'riscv', 'unaligned'): 'pass',
    ('G0', 'riscv-zacas', 'aligned'): 'oops',
    ('G0', 'riscv-zacas', 'unaligned'): 'pass',
    ('G0', 'loongarch', 'aligned'): 'oops',
    ('G0', 'loongarch', 'unaligned'): 'pass',
    ('rw-tails', 'x86', 'aligned'): 'dedup-write',
    ('rw-tails', 'x86', 'unaligned'): 'pass',
    ('rw-tails', 'arm64-lse', 'aligned'): 'dedup-write',
    ('rw-tails', 'arm64-lse', 'unaligned'): 'pass',
    ('rw-tails', 'arm64-nolse', 'aligned'): 'dedup-write',
    ('rw-tails', 'arm64-nolse', 'unaligned'): 'pass',
    ('rw-tails', 'riscv', 'aligned'): 'dedup-write',
    ('rw-tails', 'riscv', 'unaligned'): 'pass',
    ('rw-tails', 'riscv-zacas', 'aligned'): 'dedup-write',
    ('rw-tails', 'riscv-zacas', 'unaligned'): 'pass',
    ('rw-tails', 'loongarch', 'aligned'): 'dedup-write',
    ('rw-tails', 'loongarch', 'unaligned'): 'pass',
    ('G1', 'x86', 'aligned'): 'oops',
    ('G1', 'x86', 'unaligned'): 'pass',
    ('G1', 'arm64-lse', 'aligned'): 'oops',
    ('G1', 'arm64-lse', 'unaligned'): 'pass',
    ('G1', 'arm64-nolse', 'aligned'): 'oops',
    ('G1', 'arm64-nolse', 'unaligned'): 'pass',
    ('G1', 'riscv', 'aligned'): 'oops',
    ('G1', 'riscv', 'unaligned'): 'pass',
    ('G1', 'riscv-zacas', 'aligned'): 'oops',
    ('G1', 'riscv-zacas', 'unaligned'): 'pass',
    ('G1', 'loongarch', 'aligned'): 'oops',
    ('G1', 'loongarch', 'unaligned'): 'pass',
    ('G1b', 'x86', 'aligned'): 'oops',
    ('G1b', 'x86', 'unaligned'): 'pass',
    ('G1b', 'arm64-lse', 'aligned'): 'oops',
    ('G1b', 'arm64-lse', 'unaligned'): 'pass',
    ('G1b', 'arm64-nolse', 'aligned'): 'oops',
    ('G1b', 'arm64-nolse', 'unaligned'): 'pass',
    ('G1b', 'riscv', 'aligned'): 'oops',
    ('G1b', 'riscv', 'unaligned'): 'pass',
    ('G1b', 'riscv-zacas', 'aligned'): 'oops',
    ('G1b', 'riscv-zacas', 'unaligned'): 'pass',
    ('G1b', 'loongarch', 'aligned'): 'oops',
    ('G1b', 'loongarch', 'unaligned'): 'pass',
    ('G2', 'x86', 'aligned'): 'pass',
    ('G2', 'x86', 'unaligned'): 'pass',
    ('G2', 'arm64-lse', 'aligned'): 'pass',
    ('G2', 'arm64-lse', 'unaligned'): 'pass',
    ('G2', 'arm64-nolse', 'aligned'): 'pass',
    ('G2', 'arm64-nolse', 'unaligned'): 'pass',
    ('G2', 'riscv', 'aligned'): 'pass',
    ('G2', 'riscv', 'unaligned'): 'pass',
    ('G2', 'riscv-zacas', 'aligned'): 'pass',
    ('G2', 'riscv-zacas', 'unaligned'): 'pass',
    ('G2', 'loongarch', 'aligned'): 'pass',
    ('G2', 'loongarch', 'unaligned'): 'pass',
    ('G3', 'x86', 'aligned'): 'oops',
    ('G3', 'x86', 'unaligned'): 'oops',
    ('G3', 'arm64-lse', 'aligned'): 'oops',
    ('G3', 'arm64-lse', 'unaligned'): 'oops',
    ('G3', 'arm64-nolse', 'aligned'): 'pass',
    ('G3', 'arm64-nolse', 'unaligned'): 'pass',
    ('G3', 'riscv', 'aligned'): 'pass',
    ('G3', 'riscv', 'unaligned'): 'pass',
    ('G3', 'riscv-zacas', 'aligned'): 'pass',
    ('G3', 'riscv-zacas', 'unaligned'): 'pass',
    ('G3', 'loongarch', 'aligned'): 'pass',
    ('G3', 'loongarch', 'unaligned'): 'pass',
}
SEED_FOUND = {cell: v for cell, v in _SEED_PINS.items() if cell not in SEED_RECORD}
assert all(_SEED_PINS[cell] == v for cell, (v, _) in SEED_RECORD.items())

# every restore cell is FOUND: no record states a verdict of the de-HVO path's walker race
RESTORE_FOUND = {
    ('G0', 'x86', 'aligned'): 'oops',
    ('G0', 'x86', 'unaligned'): 'pass',
    ('G0', 'arm64-lse', 'aligned'): 'oops',
    ('G0', 'arm64-lse', 'unaligned'): 'pass',
    ('G0', 'arm64-nolse', 'aligned'): 'oops',
    ('G0', 'arm64-nolse', 'unaligned'): 'pass',
    ('G0', 'riscv', 'aligned'): 'oops',
    ('G0', 'riscv', 'unaligned'): 'pass',
    ('G0', 'riscv-zacas', 'aligned'): 'oops',
    ('G0', 'riscv-zacas', 'unaligned'): 'pass',
    ('G0', 'loongarch', 'aligned'): 'oops',
    ('G0', 'loongarch', 'unaligned'): 'pass',
    ('rw-tails', 'x86', 'aligned'): 'dedup-write',
    ('rw-tails', 'x86', 'unaligned'): 'pass',
    ('rw-tails', 'arm64-lse', 'aligned'): 'dedup-write',
    ('rw-tails', 'arm64-lse', 'unaligned'): 'pass',
    ('rw-tails', 'arm64-nolse', 'aligned'): 'dedup-write',
    ('rw-tails', 'arm64-nolse', 'unaligned'): 'pass',
    ('rw-tails', 'riscv', 'aligned'): 'dedup-write',
    ('rw-tails', 'riscv', 'unaligned'): 'pass',
    ('rw-tails', 'riscv-zacas', 'aligned'): 'dedup-write',
    ('rw-tails', 'riscv-zacas', 'unaligned'): 'pass',
    ('rw-tails', 'loongarch', 'aligned'): 'dedup-write',
    ('rw-tails', 'loongarch', 'unaligned'): 'pass',
    ('G1', 'x86', 'aligned'): 'pass',
    ('G1', 'x86', 'unaligned'): 'pass',
    ('G1', 'arm64-lse', 'aligned'): 'pass',
    ('G1', 'arm64-lse', 'unaligned'): 'pass',
    ('G1', 'arm64-nolse', 'aligned'): 'pass',
    ('G1', 'arm64-nolse', 'unaligned'): 'pass',
    ('G1', 'riscv', 'aligned'): 'pass',
    ('G1', 'riscv', 'unaligned'): 'pass',
    ('G1', 'riscv-zacas', 'aligned'): 'pass',
    ('G1', 'riscv-zacas', 'unaligned'): 'pass',
    ('G1', 'loongarch', 'aligned'): 'pass',
    ('G1', 'loongarch', 'unaligned'): 'pass',
    ('G1b', 'x86', 'aligned'): 'pass',
    ('G1b', 'x86', 'unaligned'): 'pass',
    ('G1b', 'arm64-lse', 'aligned'): 'pass',
    ('G1b', 'arm64-lse', 'unaligned'): 'pass',
    ('G1b', 'arm64-nolse', 'aligned'): 'pass',
    ('G1b', 'arm64-nolse', 'unaligned'): 'pass',
    ('G1b', 'riscv', 'aligned'): 'pass',
    ('G1b', 'riscv', 'unaligned'): 'pass',
    ('G1b', 'riscv-zacas', 'aligned'): 'pass',
    ('G1b', 'riscv-zacas', 'unaligned'): 'pass',
    ('G1b', 'loongarch', 'aligned'): 'pass',
    ('G1b', 'loongarch', 'unaligned'): 'pass',
    ('G2', 'x86', 'aligned'): 'pass',
    ('G2', 'x86', 'unaligned'): 'pass',
    ('G2', 'arm64-lse', 'aligned'): 'pass',
    ('G2', 'arm64-lse', 'unaligned'): 'pass',
    ('G2', 'arm64-nolse', 'aligned'): 'pass',
    ('G2', 'arm64-nolse', 'unaligned'): 'pass',
    ('G2', 'riscv', 'aligned'): 'pass',
    ('G2', 'riscv', 'unaligned'): 'pass',
    ('G2', 'riscv-zacas', 'aligned'): 'pass',
    ('G2', 'riscv-zacas', 'unaligned'): 'pass',
    ('G2', 'loongarch', 'aligned'): 'pass',
    ('G2', 'loongarch', 'unaligned'): 'pass',
    ('G3', 'x86', 'aligned'): 'pass',
    ('G3', 'x86', 'unaligned'): 'pass',
    ('G3', 'arm64-lse', 'aligned'): 'pass',
    ('G3', 'arm64-lse', 'unaligned'): 'pass',
    ('G3', 'arm64-nolse', 'aligned'): 'pass',
    ('G3', 'arm64-nolse', 'unaligned'): 'pass',
    ('G3', 'riscv', 'aligned'): 'pass',
    ('G3', 'riscv', 'unaligned'): 'pass',
    ('G3', 'riscv-zacas', 'aligned'): 'pass',
    ('G3', 'riscv-zacas', 'unaligned'): 'pass',
    ('G3', 'loongarch', 'aligned'): 'pass',
    ('G3', 'loongarch', 'unaligned'): 'pass',
}


def _verdict(name: str, gen: str, arch: str, target: str, **extra: str) -> str:
    sc = load_scenario(name)
    r = explore(sc.build({"gen": gen, "arch": arch, "target": target, **extra}), "dpor")
    return "pass" if r.violation is None else r.violation.kind


def test_seed_thread_verdict_g0_x86_read_before_free_cmpxchg_after_remap() -> None:
    doc = run_check(load_scenario("hvo-speculative-walker"),
                    {"gen": "G0", "arch": "x86", "target": "unaligned"})
    assert doc.violation is not None and doc.violation["kind"] == "oops"
    assert doc.trace is not None
    steps = doc.trace["steps"]
    walker = [s for s in steps if s["thread"] == 1]
    modifier = [s for s in steps if s["thread"] == 0]
    first_read = next(s["index"] for s in walker if "atomic_read" in s["label"])
    free = next(s["index"] for s in modifier if "atomic_dec_and_test" in s["label"])
    remap = next(s["index"] for s in modifier
                 if "set_pte_at" in s["label"] and "ro)" in s["label"])
    cmpxchg = steps[-1]
    assert cmpxchg["thread"] == 1 and "cmpxchg" in cmpxchg["label"]
    assert first_read < free < remap  # the cmpxchg is the last step
    # the compare failed (the tail's count is 0), yet x86 wrote: the seed's point
    assert any(n.get("compare_failed") for n in cmpxchg["notes"])


def test_every_pinned_seed_cell_is_record_or_found() -> None:
    assert not set(SEED_RECORD) & set(SEED_FOUND)
    assert len(SEED_RECORD) + len(SEED_FOUND) == len(_SEED_PINS) == 6 * 2 * len(ARCH_NAMES)


@pytest.mark.parametrize("cell", sorted(SEED_RECORD))
def test_seed_matrix_cell_record(cell: tuple[str, str, str]) -> None:
    verdict, source = SEED_RECORD[cell]
    assert _verdict("hvo-speculative-walker", *cell) == verdict, source


@pytest.mark.parametrize("cell, expected", sorted(SEED_FOUND.items()))
def test_seed_matrix_cell_found(cell: tuple[str, str, str], expected: str) -> None:
    assert _verdict("hvo-speculative-walker", *cell) == expected


@pytest.mark.parametrize("cell, expected", sorted(RESTORE_FOUND.items()))
def test_restore_matrix_cell_found(cell: tuple[str, str, str], expected: str) -> None:
    assert _verdict("hvo-restore-vs-walker", *cell) == expected


@pytest.mark.parametrize("name, executions, states", [
    ("hvo-speculative-walker", 12, 3),
    ("hvo-restore-vs-walker", 5, 2),
])
def test_golden_counts(name: str, executions: int, states: int) -> None:
    """DPOR, default parameters plus G2 / x86 / unaligned (a passing cell)."""
    sc = load_scenario(name)
    r = explore(sc.build({"gen": "G2", "arch": "x86", "target": "unaligned"}), "dpor",
                stop_on_violation=False)
    assert r.complete and r.violation is None
    assert (r.stats.executions, len(r.terminal_states)) == (executions, states)


@pytest.mark.parametrize("name", ["hvo-speculative-walker", "hvo-restore-vs-walker"])
def test_passing_cells_reach_their_window(name: str) -> None:
    sc = load_scenario(name)
    r = explore(sc.build({"gen": "G2", "arch": "x86", "target": "unaligned"}), "dpor")
    assert r.complete and r.violation is None
    assert r.sometimes and all(r.sometimes.values())


def test_real_geometry_agrees_with_scaled_on_the_seed_cells() -> None:
    for cell in [("G0", "x86", "unaligned"), ("G2", "x86", "aligned"), ("G3", "riscv", "aligned")]:
        assert _verdict("hvo-speculative-walker", *cell, geometry="real") == _SEED_PINS[cell]


def test_pagecache_walker_under_rcu_is_also_explored() -> None:
    assert _verdict("hvo-speculative-walker", "G0", "x86", "unaligned",
                    walker="pagecache") == "oops"
    assert _verdict("hvo-speculative-walker", "G2", "x86", "aligned",
                    walker="pagecache") == "pass"


def test_dfs_agrees_with_dpor_on_a_seed_cell() -> None:
    sc = load_scenario("hvo-speculative-walker")
    prog = sc.build({"gen": "G0", "arch": "riscv", "target": "unaligned"})
    dpor = explore(prog, "dpor", stop_on_violation=False)
    dfs = explore(prog, "dfs", stop_on_violation=False)
    assert dpor.violation_set() == dfs.violation_set()
    assert dpor.terminal_states == dfs.terminal_states
    assert dpor.stats.executions <= dfs.stats.executions


def test_check_json_contract_and_exit_status() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pagerace", "check",
                               "hvo-speculative-walker", *args, "--json"],
                              capture_output=True, text=True)
    bad = run("--gen", "G0", "--arch", "x86")
    assert bad.returncode == 1
    doc = json.loads(bad.stdout)
    assert doc["scenario"] == "hvo-speculative-walker"
    assert {"gen", "arch", "target"} <= set(doc["params"])
    assert doc["verdict"] == "violation" and doc["violation"]["kind"] == "oops"
    assert set(doc["stats"]) >= {"executions", "seconds"}
    replay = run("--gen", "G0", "--arch", "x86", "--replay", doc["schedule"])
    assert replay.returncode == 1
    assert json.loads(replay.stdout)["violation"] == doc["violation"]
    good = run("--gen", "G2")
    assert good.returncode == 0 and json.loads(good.stdout)["violation"] is None
    for args in (["--gen", "G9"], ["--param", "nope=1"], ["--param", "gen"],
                 ["--replay", "7,7,7"]):
        p = run(*args)
        assert p.returncode == 2, args
        assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_a_scenario_file_from_outside_the_catalog(tmp_path: Path) -> None:
    src = Path(load_scenario("hvo-speculative-walker").build_program.__code__.co_filename)
    mine = tmp_path / "my_scenario.py"
    mine.write_text(src.read_text().replace('name="hvo-speculative-walker"',
                                            'name="my-patch"'))
    p = subprocess.run([sys.executable, "-m", "pagerace", "check", str(mine), "--gen", "G2",
                        "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["verdict"] == "pass"
    p = subprocess.run([sys.executable, "-m", "pagerace", "check", str(tmp_path / "no.py")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_matrix_prints_table_and_failures() -> None:
    p = subprocess.run([sys.executable, "-m", "pagerace", "matrix", "hvo-restore-vs-walker",
                        "--jobs", "1"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "rw-tails" in p.stdout and "dedup-write" in p.stdout
    assert "failure 1 of" in p.stdout


def test_the_documented_example_scenario_runs() -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "walker_vs_free.py"
    p = subprocess.run([sys.executable, "-m", "pagerace", "matrix", str(example), "--json",
                        "--jobs", "1"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    cells = json.loads(p.stdout)
    assert len(cells) == 2 * len(ARCH_NAMES)  # arch x patched
    assert all(c["sometimes"] == {"walker-sees-zero": True} for c in cells)


def test_matrix_with_a_fixed_axis_and_bad_limits() -> None:
    p = subprocess.run([sys.executable, "-m", "pagerace", "matrix", "hvo-speculative-walker",
                        "--param", "gen=G2", "--json", "--jobs", "1"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    cells = json.loads(p.stdout)
    assert len(cells) == 3 * len(ARCH_NAMES) and {c["params"]["gen"] for c in cells} == {"G2"}
    p = subprocess.run([sys.executable, "-m", "pagerace", "check", "hvo-speculative-walker",
                        "--preemption-bound", "1"], capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip() == "pagerace: error: a preemption bound needs the dfs strategy"


def test_two_walkers_three_cpus() -> None:
    assert _verdict("hvo-speculative-walker", "G0", "x86", "unaligned", walkers="2") == "oops"
    sc = load_scenario("hvo-speculative-walker")
    r = explore(sc.build({"gen": "G2", "arch": "x86", "target": "unaligned", "walkers": "2"}),
                "dpor")
    assert r.complete and r.violation is None
    assert r.stats.executions > 11  # more CPUs, more traces than with one walker
