"""hot-remove-vs-walker: the full matrix pinned, targeted races, and the removal model."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from pagerace.engine import explore
from pagerace.engine.violation import Violation
from pagerace.kernel.arch import ARCH_NAMES
from pagerace.kernel.descriptor import read_desc
from pagerace.kernel.hotplug.config import HotplugGeometry
from pagerace.kernel.hotplug.memory_hotplug import block_loc, section_loc
from pagerace.kernel.hotplug.memory_remove import offline_and_remove_memory, try_remove_memory
from pagerace.kernel.hotplug.virtio_mem import virtio_mem_notifier
from pagerace.kernel.observe import pte_of, read_field
from pagerace.kernel.vmemmap import FREED_WHILE_MAPPED, REFCOUNT, ghost_loc
from pagerace.scenarios.catalog import load_scenario
from pagerace.scenarios.hotplug_common import BLOCK, CHUNKS, TARGET, initial_state, make_kernel

SCENARIO = load_scenario("hot-remove-vs-walker")
DRIVERS = ("mainline", "skippable")
CELLS = list(itertools.product(("hole", "zero-page"), ("off", "on"), ARCH_NAMES))
DRIVER_CELLS = [(d, *c) for d in DRIVERS for c in CELLS]

# driver -> (vmemmap, rcu) -> verdict for every arch. Every cell is FOUND: the checker
# (DPOR) found it and no one in the record stated it.
FOUND = {
    "mainline": {("hole", "off"): "oops", ("hole", "on"): "warn",
                 ("zero-page", "off"): "warn", ("zero-page", "on"): "warn"},
    "skippable": {(v, r): "warn" for v, r in itertools.product(("hole", "zero-page"),
                                                                ("off", "on"))},
}
FOUND_WARN_IGNORED = {
    "mainline": {("hole", "off"): "oops", ("hole", "on"): "hypervisor-page-freed",
                 ("zero-page", "off"): "hypervisor-page-freed",
                 ("zero-page", "on"): "hypervisor-page-freed"},
    "skippable": {("hole", "off"): "oops", ("hole", "on"): "pass",
                  ("zero-page", "off"): "oops", ("zero-page", "on"): "pass"},
}
FOUND_FREE_RANGE = {("hole", "off"): "oops", ("hole", "on"): "pass",
                       ("zero-page", "off"): "pass", ("zero-page", "on"): "pass"}


def check(**params: str) -> Any:
    return explore(SCENARIO.build(params), "dpor")


def verdict(**params: str) -> str:
    result = check(**params)
    return result.violation.kind if result.violation else "pass"


@pytest.mark.parametrize("driver,vmemmap,rcu,arch", DRIVER_CELLS)
def test_matrix_cell(driver: str, vmemmap: str, rcu: str, arch: str) -> None:
    assert verdict(driver=driver, vmemmap=vmemmap, rcu=rcu, arch=arch) == \
        FOUND[driver][vmemmap, rcu]


@pytest.mark.parametrize("driver,vmemmap,rcu,arch", DRIVER_CELLS)
def test_matrix_cell_with_warnings_ignored(driver: str, vmemmap: str, rcu: str,
                                           arch: str) -> None:
    assert verdict(driver=driver, vmemmap=vmemmap, rcu=rcu, arch=arch, warn="ignore") == \
        FOUND_WARN_IGNORED[driver][vmemmap, rcu]


def test_golden_counts() -> None:
    """DPOR, default parameters, every execution (stateright-style pinned counts)."""
    r = explore(SCENARIO.build({}), "dpor", stop_on_violation=False)
    assert r.complete
    # 15 since a violation no longer hides another thread's (14 before)
    assert (r.stats.executions, len(r.terminal_states)) == (15, 2)


def test_default_driver_is_mainline() -> None:
    assert SCENARIO.resolve({})["driver"] == "mainline"


def test_mainline_hole_faults_before_any_warn() -> None:
    """FOUND: with the mainline driver and no grace period the first violation is the
    walker's atomic_add_unless() reading the removed vmemmap, not a WARN: the walker got
    the struct page from pfn_to_online_page() before the section went offline."""
    result = check()
    assert result.violation is not None and result.violation.kind == "oops"
    assert "read of _refcount" in result.violation.message
    assert "vmemmap hole" in result.violation.message


@pytest.mark.parametrize("arch", ARCH_NAMES)
def test_mainline_zero_page_cmpxchg_of_a_count_read_before_removal(arch: str) -> None:
    """FOUND: behind the WARN, the mainline driver's zero-page cell also has the seed
    race: the walker reads the fake-offline count 1 before removal, the zero struct page
    (refcount 0, read-only) is mapped, and the cmpxchg(1 -> 2) fails its compare - which
    faults where atomic_add_unless() is the generic loop around a cmpxchg that writes
    (x86, arm64-lse) and passes where it is one LL/SC loop that branches out before the
    store (arm64-nolse, riscv with or without Zacas, loongarch).

    FOUND as well, on every architecture: a walker whose put_page() drops the last
    reference frees the page after the zero struct page is mapped, and
    free_pages_prepare()'s plain store to page->flags faults. (DPOR missed it while a
    violation could hide another thread's: another order ends in hypervisor-page-freed.)"""
    result = explore(SCENARIO.build({"vmemmap": "zero-page", "arch": arch, "warn": "ignore"}),
                     "dpor", stop_on_violation=False)
    ro_oops = [v for v in result.violations
               if v.kind == "oops" and "write to read-only vmemmap" in v.message]
    cmpxchg = [v for v in ro_oops if v.message.startswith("atomic_add_unless")]
    assert bool(cmpxchg) == (arch in ("x86", "arm64-lse"))
    assert any(v.message.startswith("free_pages_prepare") for v in ro_oops)


@pytest.mark.parametrize("vmemmap,rcu,arch", CELLS)
def test_matrix_cell_free_range(vmemmap: str, rcu: str, arch: str) -> None:
    assert verdict(vmemmap=vmemmap, rcu=rcu, arch=arch, range="free") == \
        FOUND_FREE_RANGE[vmemmap, rcu]


def test_walker_touching_the_removed_vmemmap_faults() -> None:
    """The seed thread: a walker still holding a struct page pointer after removal touches
    a vmemmap hole."""
    result = check(vmemmap="hole", range="free")
    assert result.violation is not None and result.violation.kind == "oops"
    assert "vmemmap hole" in result.violation.message
    assert f"pfn {TARGET}" in result.violation.message


def test_zero_page_read_only_faults_a_put_of_a_held_reference() -> None:
    result = check(vmemmap="zero-page", warn="ignore", arch="arm64-nolse", driver="skippable")
    assert result.violation is not None and result.violation.kind == "oops"
    assert "read-only vmemmap" in result.violation.message


def test_skippable_warns_when_the_walker_holds_its_reference_at_commit() -> None:
    result = check(driver="skippable")
    assert result.violation is not None
    assert "WARN_ON_ONCE(page_count(page) != 1)" in result.violation.message


@pytest.mark.parametrize("vmemmap", ["hole", "zero-page"])
def test_racy_window_is_reached_under_rcu(vmemmap: str) -> None:
    result = check(vmemmap=vmemmap, rcu="on", warn="ignore", driver="skippable")
    assert result.complete and result.violation is None
    assert result.sometimes["walker-holds-pointer-across-offline"]


# -- the removal model on its own ---------------------------------------------------------------

def remove_alone(vmemmap: str, ghost: str = "record") -> tuple[Any, dict[Any, Any], Any]:
    params = {"arch": "x86", "gen": "G3", "driver": "skippable"}
    zero = make_kernel(params).first_fresh_frame
    k = make_kernel(params, ghost_violations=ghost, vmemmap=vmemmap, zero_frame=zero)
    state = initial_state(k, "skippable")
    notifier = virtio_mem_notifier("skippable", CHUNKS)
    ret = k.run_setup(state, lambda: offline_and_remove_memory(k, BLOCK, [notifier]))
    return k, state, ret


def test_removal_makes_the_vmemmap_a_hole_and_frees_its_frames() -> None:
    k, state, ret = remove_alone("hole")
    assert ret == 0
    vpage = k.geometry.vpage(TARGET)
    assert pte_of(k, state, vpage) is None
    assert state[ghost_loc("frame_free", vpage)] is True
    assert state[block_loc(BLOCK)] == "removed"
    assert state[section_loc(BLOCK)] == 0
    assert pte_of(k, state, 0) == (0, "rw")  # block 0 keeps its memmap
    with pytest.raises(Violation, match="vmemmap hole"):
        k.run_setup(state, lambda: read_desc(k, TARGET, REFCOUNT, "test"))


def test_x86_frees_the_vmemmap_frame_before_clearing_its_pte() -> None:
    """remove_pte_table(): free_pagetable() then pte_clear(): freed while still mapped."""
    k, state, ret = remove_alone("hole")
    assert state[FREED_WHILE_MAPPED] == 1
    with pytest.raises(Violation, match="freed while still mapped"):
        remove_alone("hole", ghost="raise")


def test_zero_page_maps_a_shared_read_only_zeroed_frame() -> None:
    k, state, ret = remove_alone("zero-page")
    assert ret == 0
    zero = k.first_fresh_frame
    vpage = k.geometry.vpage(TARGET)
    assert pte_of(k, state, vpage) == (zero, "ro")
    assert state[ghost_loc("frame_free", vpage)] is True
    assert FREED_WHILE_MAPPED not in state
    assert read_field(k, state, TARGET, REFCOUNT) == 0


def test_removal_refuses_an_online_block() -> None:
    k = make_kernel({"arch": "x86", "gen": "G3"})
    state = initial_state(k, "skippable")
    assert k.run_setup(state, lambda: try_remove_memory(k, BLOCK)) == -16
    assert pte_of(k, state, k.geometry.vpage(TARGET)) == (1, "rw")


def test_real_sizes() -> None:
    geo = HotplugGeometry.real(block_mib=2048)
    assert geo.pages_per_section * 4096 == 128 << 20
    assert geo.block_bytes() == 2 << 30 and geo.sections_per_block == 16
    assert HotplugGeometry.real().block_bytes() == 128 << 20
    with pytest.raises(ValueError):
        HotplugGeometry.real(block_mib=64)
