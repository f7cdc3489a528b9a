"""What struct page metadata costs on a host, and what HVO and the proposals save.

Closed form, no per-page loop: a 64 TiB host costs as much to compute as a 4 GiB one.
Without optimization every base page has one descriptor, so the memmap takes
descriptor_size / page_size of memory: 64 / 4096 = 1.5625%, 16 GiB per TiB
(Documentation/mm/vmemmap_dedup.rst). Savings per row:
- hugetlb pool: count * vmemmap pages freed per folio (see `hvo`), less, under G3, one
  shared tail frame per node and folio order in use - min(nodes, count) frames, as a
  node without a folio of that order needs none;
- virtio-mem with `dedup_fake_offline`: each fake-offline chunk of the device block size
  keeps one vmemmap page and maps the rest onto it, like HVO for a folio of that size;
- a removed range with a "zero struct page": compared with today's hole it costs one
  shared read-only frame, compared with keeping its descriptors it saves all but that
  frame. It is reported apart: the host's totals count the range as a hole.

Leaves out: page-table pages of the vmemmap mapping, per-section rounding, memory holes,
and the descriptors of the vmemmap itself (none: vmemmap pages have no struct page use).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pagerace.memmap.host import Host, HugetlbPool, VirtioMemDevice
from pagerace.memmap.hvo import FolioVmemmap, Generation, folio_vmemmap
from pagerace.memmap.sizes import format_size


@dataclass(frozen=True, kw_only=True)
class Cost:
    """One row: memory described, its descriptors' bytes without optimization, saved."""

    name: str
    memory_bytes: int
    descriptor_bytes: int
    saved_bytes: int = 0

    @property
    def remaining_bytes(self) -> int:
        return self.descriptor_bytes - self.saved_bytes


@dataclass(frozen=True, kw_only=True)
class PoolCost(Cost):
    pool: HugetlbPool
    folio: FolioVmemmap
    shared_tail_frames: int = 0


@dataclass(frozen=True, kw_only=True)
class VirtioMemCost(Cost):
    device: VirtioMemDevice
    chunk: FolioVmemmap
    """Vmemmap geometry of one fake-offline chunk (kept_target None: not deduplicated)."""
    fake_offline_descriptor_bytes: int
    dedup_would_save_bytes: int


@dataclass(frozen=True)
class ZeroStructPageCost:
    """A removed range: hole (0) vs one shared zero frame vs keeping its descriptors."""

    range_bytes: int
    page_size: int
    descriptor_size: int

    @property
    def kept_descriptor_bytes(self) -> int:
        return self.range_bytes // self.page_size * self.descriptor_size

    @property
    def vmemmap_pages(self) -> int:
        """Vmemmap pages of the range, all mapped read-only onto the zero frame."""
        return self.kept_descriptor_bytes // self.page_size

    @property
    def zero_frame_bytes(self) -> int:
        return self.page_size

    @property
    def hole_bytes(self) -> int:
        return 0

    @property
    def extra_vs_hole_bytes(self) -> int:
        return self.zero_frame_bytes - self.hole_bytes

    @property
    def saved_vs_kept_bytes(self) -> int:
        return self.kept_descriptor_bytes - self.zero_frame_bytes


@dataclass(frozen=True)
class MemmapReport:
    host: Host
    ram: Cost
    pools: tuple[PoolCost, ...]
    virtio_mem: tuple[VirtioMemCost, ...]
    zero_struct_page: ZeroStructPageCost | None
    notes: tuple[str, ...] = field(default=())

    @property
    def rows(self) -> tuple[Cost, ...]:
        return (self.ram, *self.pools, *self.virtio_mem)

    @property
    def ram_bytes(self) -> int:
        return self.host.ram_bytes

    @property
    def descriptor_bytes_total(self) -> int:
        return sum(r.descriptor_bytes for r in self.rows)

    @property
    def saved_bytes(self) -> int:
        return sum(r.saved_bytes for r in self.rows)

    @property
    def remaining_bytes(self) -> int:
        return self.descriptor_bytes_total - self.saved_bytes

    @property
    def shared_tail_frames(self) -> int:
        return sum(p.shared_tail_frames for p in self.pools)


def _descriptor_bytes(host: Host, memory_bytes: int) -> int:
    return memory_bytes // host.page_size * host.descriptor_size


def _pool_cost(host: Host, pool: HugetlbPool, notes: list[str]) -> PoolCost:
    gen = host.generation
    folio = folio_vmemmap(pool.folio_bytes, host.page_size, host.descriptor_size, gen)
    name = f"hugetlb {format_size(pool.folio_bytes)} x {pool.count}"
    frames = 0
    if gen.shares_tail_frame and folio.freed_pages > 0 and pool.count > 0:
        frames = min(host.nodes, pool.count)
        notes.append(
            f"{name}: G3 adds {frames} shared tail frame(s) "
            f"({format_size(frames * host.page_size)}), one per node holding such folios"
        )
    why = folio.why_nothing_freed
    if gen is not Generation.NONE and why is not None and pool.count > 0:
        notes.append(f"{name}: HVO frees nothing: {why}")
    return PoolCost(
        name=name,
        memory_bytes=pool.folio_bytes * pool.count,
        descriptor_bytes=pool.count * folio.vmemmap_bytes,
        saved_bytes=pool.count * folio.freed_bytes - frames * host.page_size,
        pool=pool,
        folio=folio,
        shared_tail_frames=frames,
    )


def _virtio_mem_cost(
    host: Host, index: int, dev: VirtioMemDevice, notes: list[str]
) -> VirtioMemCost:
    name = f"virtio-mem{index}"
    deduped = FolioVmemmap(dev.block_bytes, host.page_size, host.descriptor_size, 1)
    chunks = dev.fake_offline_bytes // dev.block_bytes
    would_save = chunks * deduped.freed_bytes
    fake_descriptors = _descriptor_bytes(host, dev.fake_offline_bytes)
    if chunks:
        notes.append(
            f"{name}: {format_size(dev.fake_offline_bytes)} of its "
            f"{format_size(dev.plugged_bytes)} fake-offline in {chunks} chunk(s) of "
            f"{format_size(dev.block_bytes)}: {format_size(fake_descriptors)} of "
            "descriptors describe no usable memory"
        )
    if chunks and deduped.why_nothing_freed is not None:
        notes.append(f"virtio-mem{index}: deduplicating fake-offline chunks frees nothing: "
                     f"{deduped.why_nothing_freed}")
    elif chunks and not host.dedup_fake_offline:
        notes.append(f"virtio-mem{index}: --dedup-fake-offline would save "
                     f"{format_size(would_save)}")
    chunk = deduped if host.dedup_fake_offline else replace(deduped, kept_target=None)
    return VirtioMemCost(
        name=name,
        memory_bytes=dev.plugged_bytes,
        descriptor_bytes=_descriptor_bytes(host, dev.plugged_bytes),
        saved_bytes=would_save if host.dedup_fake_offline else 0,
        device=dev,
        chunk=chunk,
        fake_offline_descriptor_bytes=fake_descriptors,
        dedup_would_save_bytes=would_save,
    )


def compute(host: Host) -> MemmapReport:
    """The memmap cost of `host`; HostError if its description is inconsistent."""
    host.validate()
    notes: list[str] = []
    outside = host.memory_bytes - host.pool_bytes
    ram = Cost(
        name="RAM outside pools",
        memory_bytes=outside,
        descriptor_bytes=_descriptor_bytes(host, outside),
    )
    pools = tuple(_pool_cost(host, p, notes) for p in host.pools)
    devices = tuple(
        _virtio_mem_cost(host, i, d, notes) for i, d in enumerate(host.virtio_mem)
    )
    zero = None
    if host.zero_struct_page_bytes is not None:
        zero = ZeroStructPageCost(
            host.zero_struct_page_bytes, host.page_size, host.descriptor_size
        )
    return MemmapReport(host, ram, pools, devices, zero, tuple(notes))


@dataclass(frozen=True)
class Option:
    """One configuration of the comparison: an HVO generation, maybe with a proposal."""

    label: str
    report: MemmapReport


def compare_options(host: Host) -> tuple[Option, ...]:
    """Every HVO generation without proposals, then the selected one with dedup.

    The dedup option appears only when some virtio-mem device has fake-offline memory.
    """
    options = [
        Option(g.value, compute(replace(host, generation=g, dedup_fake_offline=False)))
        for g in Generation
    ]
    if any(d.fake_offline_bytes for d in host.virtio_mem):
        label = f"{host.generation.value} + dedup fake-offline"
        options.append(Option(label, compute(replace(host, dedup_fake_offline=True))))
    return tuple(options)
