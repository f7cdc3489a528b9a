"""virtio-mem-going-offline: the full matrix pinned, targeted races, and the offlining model."""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from typing import Any

import pytest

from pagerace.engine import Program, ThreadSpec, explore
from pagerace.kernel.arch import ARCH_NAMES
from pagerace.kernel.buddy import pfn_is_free
from pagerace.kernel.hotplug.memory_hotplug import (
    EBUSY,
    MEM_CANCEL_OFFLINE,
    MEM_GOING_OFFLINE,
    MEM_OFFLINE,
    SECTION_IS_ONLINE,
    WARNINGS,
    block_loc,
    section_loc,
)
from pagerace.kernel.hotplug.offline_pages import memory_block_offline
from pagerace.kernel.hotplug.virtio_mem import virtio_mem_notifier
from pagerace.kernel.kernel import Kernel
from pagerace.kernel.observe import read_field
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import REFCOUNT
from pagerace.scenarios.catalog import load_scenario
from pagerace.scenarios.hotplug_common import BLOCK, CHUNKS, TARGET, initial_state, make_kernel

SCENARIO = load_scenario("virtio-mem-going-offline")

# Where each pinned verdict comes from. RECORD: the kernel record states it; FOUND: the
# checker (DPOR) found it and no one in the record stated it.
WARN_SOURCE = ("the seed thread (June 2024): the WARN in "
               "virtio_mem_fake_offline_going_offline() would trigger on a speculative "
               "reference; the PG_offline_skippable posting "
               "<20250520164216.866543-1-david@redhat.com>")
# (driver, rcu, arch) -> (verdict, source) / verdict
RECORD = {("mainline", rcu, arch): ("warn", WARN_SOURCE)
          for rcu, arch in itertools.product(("off", "on"), ARCH_NAMES)}
FOUND = {("skippable", rcu, arch): "warn"
         for rcu, arch in itertools.product(("off", "on"), ARCH_NAMES)}
# with warn=ignore (the kernel carries on after the WARN): all FOUND
FOUND_WARN_IGNORED = {"mainline": "hypervisor-page-freed", "skippable": "pass"}


def verdict(**params: str) -> str:
    result = explore(SCENARIO.build(params), "dpor")
    return result.violation.kind if result.violation else "pass"


CELLS = list(itertools.product(("mainline", "skippable"), ("off", "on"), ARCH_NAMES))


def test_every_pinned_cell_is_record_or_found() -> None:
    assert not set(RECORD) & set(FOUND) and set(RECORD) | set(FOUND) == set(CELLS)


@pytest.mark.parametrize("driver,rcu,arch", sorted(RECORD))
def test_matrix_cell_record(driver: str, rcu: str, arch: str) -> None:
    expected, source = RECORD[driver, rcu, arch]
    assert verdict(driver=driver, rcu=rcu, arch=arch) == expected, source


@pytest.mark.parametrize("driver,rcu,arch", sorted(FOUND))
def test_matrix_cell_found(driver: str, rcu: str, arch: str) -> None:
    assert verdict(driver=driver, rcu=rcu, arch=arch) == FOUND[driver, rcu, arch]


def test_golden_counts() -> None:
    """DPOR, default parameters, every execution (stateright-style pinned counts)."""
    r = explore(SCENARIO.build({}), "dpor", stop_on_violation=False)
    assert r.complete
    # 9 since a violation no longer hides another thread's (8 before: the WARN hid
    # hypervisor-page-freed)
    assert (r.stats.executions, len(r.terminal_states)) == (9, 2)


@pytest.mark.parametrize("driver,rcu,arch", CELLS)
def test_matrix_cell_with_warnings_ignored(driver: str, rcu: str, arch: str) -> None:
    assert verdict(driver=driver, rcu=rcu, arch=arch, warn="ignore") == \
        FOUND_WARN_IGNORED[driver]


def test_mainline_driver_warns_on_a_reference_taken_before_going_offline() -> None:
    """The seed thread: the WARN in virtio_mem_fake_offline_going_offline() "would trigger
    on a speculative reference"."""
    result = explore(SCENARIO.build({"driver": "mainline"}), "dpor")
    assert result.violation is not None
    assert result.violation.kind == "warn"
    assert "virtio_mem_fake_offline_going_offline" in result.violation.message
    assert "fake-offline page referenced" in result.violation.message


def test_mainline_driver_then_frees_the_hypervisor_page_when_the_walker_drops_it() -> None:
    """The PG_offline_skippable commit message: "once that unexpected reference would get
    dropped, we would end up freeing that page to the buddy: ouch"."""
    result = explore(SCENARIO.build({"driver": "mainline", "warn": "ignore"}), "dpor")
    assert result.violation is not None
    assert result.violation.kind == "hypervisor-page-freed"
    assert f"pfn {TARGET}" in result.violation.message


def test_skippable_warns_in_offline_isolated_pages_only() -> None:
    result = explore(SCENARIO.build({"driver": "skippable"}), "dpor")
    assert result.violation is not None
    assert "WARN_ON_ONCE(page_count(page) != 1)" in result.violation.message


def test_racy_window_is_reached() -> None:
    result = explore(SCENARIO.build({"driver": "skippable", "warn": "ignore"}), "dpor")
    assert result.complete and result.violation is None
    assert result.sometimes["walker-takes-reference"]


# -- the offlining model on its own, no walker ------------------------------------------------

def offline_alone(driver: str | None, extra_ref: int = 0,
                  rule: str | None = None) -> tuple[Kernel, dict[Hashable, Any], Any, list[str]]:
    params = {"arch": "x86", "gen": "G3", "warn": "ignore", "driver": driver or "none"}
    k = make_kernel(params, **({"offline_rule": rule} if rule else {}))
    state = initial_state(k, driver)  # type: ignore[arg-type]
    if extra_ref:
        page = TARGET
        state[("frame", k.geometry.vpage(page), k.geometry.slot(page), REFCOUNT)] += extra_ref
    seen: list[str] = []
    inner = virtio_mem_notifier(driver or "mainline", CHUNKS if driver else ())  # type: ignore[arg-type]

    def spy(kk: Any, action: str, start: int, nr: int) -> Gen:
        seen.append(action)
        return (yield from inner(kk, action, start, nr))

    ret = k.run_setup(state, lambda: memory_block_offline(k, BLOCK, [spy]))
    return k, state, ret, seen


@pytest.mark.parametrize("driver", ["mainline", "skippable"])
def test_offlining_a_fake_offline_block_succeeds(driver: str) -> None:
    k, state, ret, seen = offline_alone(driver)
    assert ret == 0
    assert seen == [MEM_GOING_OFFLINE, MEM_OFFLINE]
    assert WARNINGS not in state
    assert state[block_loc(BLOCK)] == "offline"
    assert not state[section_loc(BLOCK)] & SECTION_IS_ONLINE
    want = 0 if driver == "mainline" else 1
    assert all(read_field(k, state, p, REFCOUNT) == want for p in range(4, 8))


def test_offlining_free_memory_takes_it_off_the_free_lists() -> None:
    k, state, ret, seen = offline_alone(None)
    assert ret == 0
    assert not any(pfn_is_free(state, p) for p in range(4, 8))
    assert all(pfn_is_free(state, p) for p in range(0, 4))


def test_ebusy_on_a_referenced_pageoffline_page_and_cancel_notifies() -> None:
    """scan_movable_pages(): PageOffline with a nonzero count (after MEM_GOING_OFFLINE) is
    definitely unmovable: -EBUSY, MEM_CANCEL_OFFLINE, and the mainline driver retakes its refs."""
    k, state, ret, seen = offline_alone("mainline", extra_ref=1)
    assert ret == -EBUSY
    assert seen == [MEM_GOING_OFFLINE, MEM_CANCEL_OFFLINE]
    assert state.get(block_loc(BLOCK), "online") == "online"
    assert read_field(k, state, TARGET, REFCOUNT) == 2  # 2 -> 1 -> 2: the extra ref stays
    assert state[WARNINGS] == 1  # and the mainline driver's WARN_ON fired on it
    assert all(read_field(k, state, p, REFCOUNT) == 1 for p in (4, 5, 7))


def test_pageoffline_page_without_a_driver_is_unmovable() -> None:
    """A PageOffline page whose driver keeps its reference (no notifier) blocks offlining."""
    k, state, ret, seen = offline_alone("skippable", rule="refcount")
    assert ret == -EBUSY
    assert seen == [MEM_GOING_OFFLINE, MEM_CANCEL_OFFLINE]


def test_bug_on_a_referenced_pageoffline_page_at_the_point_of_no_return() -> None:
    """__offline_isolated_pages(): BUG_ON(page_count(page)) for a PageOffline page. A
    reference that appears after test_pages_isolated() (here: a second CPU that took it,
    scheduled exactly there) hits it."""
    params = {"arch": "x86", "gen": "G3", "warn": "ignore", "driver": "mainline"}
    k = make_kernel(params)
    state = initial_state(k, "mainline")
    notifier = virtio_mem_notifier("mainline", CHUNKS)
    cpu1, cpu2 = k.on_cpu(0), k.on_cpu(1)

    def offliner() -> Gen:
        yield from memory_block_offline(cpu1, BLOCK, [notifier])

    def bad_inc() -> Gen:  # an unconditional page_ref_inc (not a get_unless_zero)
        yield from cpu2.page_ref_inc(TARGET)

    result = explore(Program([ThreadSpec("offliner", offliner), ThreadSpec("inc", bad_inc)],
                             initial=state), "dpor", stop_on_violation=False)
    kinds = {v.kind for v in result.violations}
    assert "bug" in kinds
    assert any("BUG_ON(page_count(page))" in v.message for v in result.violations)
