"""virtio-mem fake-offline chunks and their memory notifier, mainline and PG_offline_skippable.

Models drivers/virtio/virtio_mem.c (Big Block / Sub Block Mode alike, as far as offlining
goes):

- virtio_mem_fake_offline(): alloc_contig_range() of the chunk (each page leaves the buddy
  allocator with refcount 1), then virtio_mem_set_fake_offline(): __SetPageOffline() and,
  with the 2025 driver, __SetPageOfflineSkippable() on each page; then the unplug request
  hands the chunk to the hypervisor (ghost `("ghost", "hypervisor_owned", pfn)`).
- driver "mainline" (v5.8 .. v7.1-rc1, still what mainline runs): on MEM_GOING_OFFLINE
  virtio_mem_fake_offline_going_offline() drops each page's reference:
      if (WARN_ON(!page_ref_dec_and_test(page)))
              dump_page(page, "fake-offline page referenced");
  and on MEM_CANCEL_OFFLINE virtio_mem_fake_offline_cancel_offline() takes them back with
  page_ref_inc(). The core then uses the "refcount" PageOffline rule.
- driver "skippable" (David Hildenbrand, "mm/memory_hotplug: PG_offline_skippable for
  offlining memory blocks with PageOffline pages", v2, May 2025,
  <20250520164216.866543-1-david@redhat.com>; not merged: v7.1-rc1's
  __offline_isolated_pages() still has BUG_ON(page_count(page))): no refcount change on
  offlining; the core uses the "skippable" rule.

That no page the hypervisor owns reaches the buddy allocator is an instrument
(checks.py: HypervisorPagesNotFreed), not a change to the kernel.

Leaves out: the device protocol and the hypervisor, subblock bitmaps and state machines
(the notifier knows the unplugged chunks of its block), the hotplug_mutex, the managed
page counters, page_offline_begin()/end() (they serialise against /proc/kcore readers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pagerace.engine.ops import Atomic
from pagerace.engine.view import StepView
from pagerace.kernel import buddy
from pagerace.kernel import struct_page as sp
from pagerace.kernel.descriptor import update_desc, write_descs
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.hotplug.memory_hotplug import (
    MEM_CANCEL_OFFLINE,
    MEM_GOING_OFFLINE,
    PG_OFFLINE_SKIPPABLE,
    WARN,
    MemoryNotifier,
)
from pagerace.kernel.memory_model import locked_load
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import FLAGS, REFCOUNT, ghost_loc

Driver = Literal["mainline", "skippable"]
DRIVERS: tuple[Driver, ...] = ("mainline", "skippable")


def owned_loc(pfn: int) -> tuple[str | int, ...]:
    return ghost_loc("hypervisor_owned", pfn)


@dataclass(frozen=True)
class Chunk:
    """An unplugged (fake-offline) subblock: pfns [start, start + nr)."""

    start: int
    nr: int

    @property
    def pfns(self) -> range:
        return range(self.start, self.start + self.nr)


def alloc_contig_range(k: KernelHandle, chunk: Chunk) -> Gen:
    """alloc_contig_range(start, end): isolate, migrate, take the free pages, and hand each
    page out with refcount 1 (split_free_pages / set_page_refcounted)."""
    def take(view: StepView, outcome: int) -> bool:
        ranges = tuple(locked_load(view, buddy.FREE_LOC, ()))
        if not buddy.is_free(ranges, chunk.start, chunk.start + chunk.nr):
            return False
        view.store(buddy.FREE_LOC, buddy.subtract(ranges, chunk.start,
                                                  chunk.start + chunk.nr))
        view.note(f"alloc_contig_range: pfns {chunk.start}..{chunk.pfns[-1]}",
                  func="alloc_contig_range", access="alloc", pfn=chunk.start)
        return True
    if not (yield Atomic(take, f"alloc_contig_range(pfns {chunk.start}..{chunk.pfns[-1]})")):
        return False
    yield from write_descs(k, [(p, REFCOUNT, 1) for p in chunk.pfns], "alloc_contig_range",
                           "alloc_contig_range: set_page_refcounted")
    return True


def virtio_mem_fake_offline(k: KernelHandle, chunk: Chunk, driver: Driver) -> Gen:
    """Unplug a chunk of an online block: alloc_contig_range(), mark fake-offline, and send
    the unplug request (the hypervisor now owns the memory)."""
    if not (yield from alloc_contig_range(k, chunk)):
        return False
    for pfn in chunk.pfns:  # virtio_mem_set_fake_offline()
        yield from sp.SetPageOffline(k, pfn)
        if driver == "skippable":
            yield from update_desc(k, pfn, FLAGS, lambda f: f | PG_OFFLINE_SKIPPABLE,
                                   "__SetPageOfflineSkippable",
                                   f"__SetPageOfflineSkippable [pfn {pfn}]")

    def unplug(view: StepView, outcome: int) -> None:
        for pfn in chunk.pfns:
            view.store(owned_loc(pfn), True)
        view.note(f"virtio_mem_send_unplug_request: pfns {chunk.start}..{chunk.pfns[-1]} "
                  "belong to the hypervisor", func="virtio_mem_send_unplug_request")
    yield Atomic(unplug, "virtio_mem_send_unplug_request")
    return True


def virtio_mem_fake_offline_going_offline(k: KernelHandle, chunk: Chunk) -> Gen:
    """Drop our reference to the pages so the memory can get offlined."""
    func = "virtio_mem_fake_offline_going_offline"
    for pfn in chunk.pfns:
        if not (yield from sp.page_ref_dec_and_test(k, pfn, func)):
            yield from WARN(k, func, f"WARN_ON(!page_ref_dec_and_test(page)): "
                            f"dump_page(pfn {pfn}, \"fake-offline page referenced\")")


def virtio_mem_fake_offline_cancel_offline(k: KernelHandle, chunk: Chunk) -> Gen:
    """Get the reference again that we dropped via page_ref_dec_and_test()."""
    for pfn in chunk.pfns:
        yield from sp.page_ref_inc(k, pfn, "virtio_mem_fake_offline_cancel_offline")


def virtio_mem_notifier(driver: Driver,
                        chunks: Sequence[Chunk]) -> MemoryNotifier:
    """virtio_mem_memory_notifier_cb() for the chunks unplugged from its blocks."""
    def notifier(k: KernelHandle, action: str, start_pfn: int, nr_pages: int) -> Gen:
        mine = [c for c in chunks if start_pfn <= c.start < start_pfn + nr_pages]
        if driver == "mainline":
            for c in mine:
                if action == MEM_GOING_OFFLINE:
                    yield from virtio_mem_fake_offline_going_offline(k, c)
                elif action == MEM_CANCEL_OFFLINE:
                    yield from virtio_mem_fake_offline_cancel_offline(k, c)
        return 0
    return notifier


def expected_refcount(driver: Driver, block_state: str) -> int:
    """The driver's own reference on a fake-offline page: the mainline driver dropped it once
    the block went offline; the skippable one keeps 1."""
    return 0 if driver == "mainline" and block_state == "offline" else 1


__all__ = ["DRIVERS", "Chunk", "expected_refcount",
           "owned_loc", "virtio_mem_fake_offline", "virtio_mem_notifier"]
