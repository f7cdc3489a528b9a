"""G3-frozen-bit on hvo-speculative-walker: every architecture, every target.

G3-frozen-bit is v7.1's HVO (one shared read-only tail frame, no fake heads, frozen
hugetlb) with the pending "mm: improve folio refcount scalability" series' speculative
get, page_ref_add_unless_zero(): an unconditional atomic_add_return() whose result's
PAGEREF_FROZEN_BIT decides (postings cited in src/pagerace/kernel/page_ref.py). The
verdicts below are FOUND: the checker's, pinned so a change of the model shows.
"""

from __future__ import annotations

import pytest

from pagerace.engine import explore
from pagerace.kernel.arch import ARCH_NAMES
from pagerace.kernel.generations import get_generation
from pagerace.scenarios.catalog import load_scenario

SCENARIO = "hvo-speculative-walker"


def run(arch: str, target: str) -> tuple[str, str]:
    prog = load_scenario(SCENARIO).build({"gen": "G3-frozen-bit", "arch": arch,
                                          "target": target})
    r = explore(prog, "dpor")
    if r.violation is None:
        return "pass", ""
    return r.violation.kind, r.violation.message


def test_the_generation_is_g3_with_the_series_get_and_put() -> None:
    g3, fb = get_generation("G3"), get_generation("G3-frozen-bit")
    assert fb.hugetlb_vmemmap_optimize_folio is g3.hugetlb_vmemmap_optimize_folio
    assert fb.hugetlb_vmemmap_restore_folio is g3.hugetlb_vmemmap_restore_folio
    assert fb.hugetlb_frozen_alloc and fb.shares_tail_frame and not fb.fake_heads
    assert fb.page_ref_add_unless is not g3.page_ref_add_unless
    assert fb.page_ref_dec_and_test is not None and g3.page_ref_dec_and_test is None


@pytest.mark.parametrize("arch", ARCH_NAMES)
@pytest.mark.parametrize("target", ["aligned", "unaligned"])
def test_a_tail_get_faults_on_the_shared_read_only_tail(arch: str, target: str) -> None:
    """FOUND: the walker's atomic_add_return() on a tail that HVO has remapped onto the
    shared read-only tail frame is a write through a read-only PTE - an oops on every
    architecture, whatever the count, in the first execution (HVO done, then the get:
    no race needed)."""
    kind, message = run(arch, target)
    assert kind == "oops"
    assert message.startswith("page_ref_add_unless_zero: write to read-only vmemmap")
    assert "(ro), _refcount (atomic read-modify-write" in message


@pytest.mark.parametrize("arch", ARCH_NAMES)
def test_a_head_get_is_safe(arch: str) -> None:
    """FOUND: on the head (its vmemmap page stays read-write) the frozen bit turns the
    walker away from a freed or frozen folio, and no reference is leaked or lost."""
    assert run(arch, "head") == ("pass", "")


@pytest.mark.parametrize("arch", ["arm64-nolse", "riscv", "riscv-zacas", "loongarch"])
def test_g3_passes_those_tail_cells_on_ll_sc(arch: str) -> None:
    """FOUND: G3's atomic_add_unless() reads the tail's 0 and branches out before any
    store on these LL/SC sequences, so G3 passes where the series faults."""
    prog = load_scenario(SCENARIO).build({"gen": "G3", "arch": arch, "target": "aligned"})
    assert explore(prog, "dpor").violation is None
