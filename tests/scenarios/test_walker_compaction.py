"""walker=compaction: isolate_migratepages_block()'s lockless checks before the reference.

Every verdict here is FOUND. On the seed scenario the compaction walker gives the raw pfn
walker's verdict in every aligned / unaligned cell (its checks pass while page1 is still
an LRU page, before the free), and passes on the head. On the free path (de-HVO) it
never reaches the refcount: the folio is compound for the whole race, PageCompound()
skips it, so the window property is never hit and the checker reports the cell vacuous.
"""

from __future__ import annotations

import itertools

import pytest

from pagerace.engine import explore
from pagerace.kernel.arch import ARCH_NAMES
from pagerace.scenarios.catalog import load_scenario
from pagerace.scenarios.common import SEED_GENERATIONS

CELLS = list(itertools.product(SEED_GENERATIONS, ARCH_NAMES, ("aligned", "unaligned")))


def verdict(name: str, **params: str) -> str:
    r = explore(load_scenario(name).build(params), "dpor")
    return "pass" if r.violation is None else r.violation.kind


@pytest.mark.parametrize("gen,arch,target", CELLS)
def test_seed_cell_matches_the_raw_pfn_walker(gen: str, arch: str, target: str) -> None:
    assert verdict("hvo-speculative-walker", gen=gen, arch=arch, target=target,
                   walker="compaction") == \
        verdict("hvo-speculative-walker", gen=gen, arch=arch, target=target, walker="pfn")


@pytest.mark.parametrize("gen", SEED_GENERATIONS)
def test_seed_head_passes(gen: str) -> None:
    assert verdict("hvo-speculative-walker", gen=gen, target="head",
                   walker="compaction") == "pass"


@pytest.mark.parametrize("gen,target", list(itertools.product(
    SEED_GENERATIONS, ("aligned", "unaligned", "head"))))
def test_free_path_walker_skips_the_compound_folio(gen: str, target: str) -> None:
    r = explore(load_scenario("hvo-restore-vs-walker").build(
        {"gen": gen, "target": target, "walker": "compaction"}), "dpor")
    assert r.complete
    assert r.violation is not None and r.violation.kind == "sometimes"
    assert r.sometimes == {"walker-reads-hvo-mapping": False}
