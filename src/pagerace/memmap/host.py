"""The host whose struct page memory is counted: RAM, hugetlb pools, virtio-mem devices.

Models what decides the memmap's size: `memory_bytes` of boot RAM described by one
descriptor per base page, hugetlb pools carved out of it (SIZE:COUNT, as
`hugepagesz=` / `hugepages=` set them up), NUMA nodes (G3 shares one tail frame per node
and order), and virtio-mem devices (PLUGGED:BLOCK:FAKEOFFLINE). A virtio-mem device's
PLUGGED memory is the device memory Linux has added - its memmap exists - on top of
boot RAM; FAKEOFFLINE is the part of it held in fake-offline chunks (unplugged chunks of
online memory blocks: descriptors that describe no usable memory). It also carries the
two proposals of the June 2024 linux-mm thread: deduplicating the vmemmap of
fake-offline chunks, and a shared read-only "zero struct page" for a removed range.

Leaves out: where pools live (they are counted against boot RAM only), per-zone
placement, memory holes and the exact section / memory-block layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pagerace.memmap.hvo import Generation
from pagerace.memmap.sizes import (
    SizeError,
    format_exact,
    format_size,
    is_power_of_two,
    parse_page_size,
    parse_size,
)


class HostError(ValueError):
    """An inconsistent host description; the message is one clear line."""


@dataclass(frozen=True)
class HugetlbPool:
    folio_bytes: int
    count: int


@dataclass(frozen=True)
class VirtioMemDevice:
    plugged_bytes: int
    block_bytes: int
    fake_offline_bytes: int


@dataclass(frozen=True)
class Host:
    memory_bytes: int
    page_size: int = 4096
    descriptor_size: int = 64
    pools: tuple[HugetlbPool, ...] = ()
    generation: Generation = Generation.G2
    nodes: int = 1
    virtio_mem: tuple[VirtioMemDevice, ...] = ()
    dedup_fake_offline: bool = False
    zero_struct_page_bytes: int | None = None

    @property
    def pool_bytes(self) -> int:
        return sum(p.folio_bytes * p.count for p in self.pools)

    @property
    def ram_bytes(self) -> int:
        """All memory with descriptors: boot RAM plus every virtio-mem device's memory."""
        return self.memory_bytes + sum(d.plugged_bytes for d in self.virtio_mem)

    def validate(self) -> None:
        """Raise HostError with one clear line when the description is inconsistent."""
        ps = self.page_size
        try:
            parse_page_size(str(ps))
        except SizeError as e:
            raise HostError(str(e)) from None
        if not 1 <= self.descriptor_size <= ps:
            raise HostError(
                f"descriptor size {self.descriptor_size} must be between 1 byte and the "
                f"page size ({format_size(ps)})"
            )
        if self.nodes < 1:
            raise HostError(f"--nodes {self.nodes}: a host has at least one NUMA node")
        _check_multiple("--memory", self.memory_bytes, ps, "the page size")
        if self.memory_bytes <= 0:
            raise HostError("--memory must be larger than zero")
        for pool in self.pools:
            _check_pool(pool, ps)
        if self.pool_bytes > self.memory_bytes:
            raise HostError(
                f"hugetlb pools take {format_size(self.pool_bytes)}, more than "
                f"--memory {format_size(self.memory_bytes)}"
            )
        for dev in self.virtio_mem:
            _check_virtio_mem(dev, ps)
        if self.zero_struct_page_bytes is not None:
            _check_zero_range(self.zero_struct_page_bytes, ps, self.descriptor_size)


def _check_multiple(what: str, value: int, unit: int, unit_name: str) -> None:
    if value % unit != 0:
        raise HostError(
            f"{what} {format_exact(value)} is not a multiple of {unit_name} "
            f"({format_size(unit)})"
        )


def _check_pool(pool: HugetlbPool, page_size: int) -> None:
    name = f"--hugetlb {format_exact(pool.folio_bytes)}:{pool.count}"
    _check_multiple(f"{name}: folio size", pool.folio_bytes, page_size, "the page size")
    if pool.folio_bytes < 2 * page_size or not is_power_of_two(pool.folio_bytes):
        raise HostError(
            f"{name}: a hugetlb folio is a power-of-two number (at least 2) of "
            f"{format_size(page_size)} pages"
        )
    if pool.count < 0:
        raise HostError(f"{name}: count {pool.count} is negative")


def _check_virtio_mem(dev: VirtioMemDevice, page_size: int) -> None:
    name = f"--virtio-mem {format_size(dev.plugged_bytes)}"
    if not is_power_of_two(dev.block_bytes) or dev.block_bytes % page_size != 0:
        raise HostError(
            f"{name}: device block size {format_size(dev.block_bytes)} must be a power "
            f"of two and a multiple of the page size ({format_size(page_size)})"
        )
    _check_multiple(f"{name}: plugged size", dev.plugged_bytes, dev.block_bytes,
                    "the device block size")
    _check_multiple(f"{name}: fake-offline size", dev.fake_offline_bytes, dev.block_bytes,
                    "the device block size")
    if dev.fake_offline_bytes > dev.plugged_bytes:
        raise HostError(
            f"{name}: fake-offline size {format_size(dev.fake_offline_bytes)} is larger "
            f"than the plugged size {format_size(dev.plugged_bytes)}"
        )


def zero_range_unit(page_size: int, descriptor_size: int) -> int:
    """The smallest range whose descriptors fill whole vmemmap pages."""
    pages = page_size // math.gcd(descriptor_size, page_size)
    return pages * page_size


def _check_zero_range(range_bytes: int, page_size: int, descriptor_size: int) -> None:
    unit = zero_range_unit(page_size, descriptor_size)
    if range_bytes % unit != 0:
        raise HostError(
            f"--zero-struct-page {format_size(range_bytes)}: the removed range's vmemmap "
            f"must be whole vmemmap pages, so the range must be a multiple of "
            f"{format_size(unit)}"
        )


def parse_pool(spec: str) -> HugetlbPool:
    """`SIZE:COUNT`, e.g. `2M:40000` or `1G:64`."""
    size_text, sep, count_text = spec.partition(":")
    if not sep:
        raise HostError(f"--hugetlb {spec!r}: expected SIZE:COUNT, e.g. 2M:40000")
    try:
        size = parse_size(size_text)
    except SizeError as e:
        raise HostError(f"--hugetlb {spec!r}: {e}") from None
    count_text = count_text.strip()
    if count_text.startswith("-") and count_text[1:].isdigit():
        raise HostError(f"--hugetlb {spec!r}: count {count_text} is negative")
    if not count_text.isdigit():
        raise HostError(f"--hugetlb {spec!r}: count {count_text!r} is not an integer")
    return HugetlbPool(size, int(count_text))


def parse_virtio_mem(spec: str) -> VirtioMemDevice:
    """`PLUGGED:BLOCK:FAKEOFFLINE`, e.g. `64GiB:2MiB:16GiB`."""
    parts = spec.split(":")
    if len(parts) != 3:
        raise HostError(
            f"--virtio-mem {spec!r}: expected PLUGGED:BLOCK:FAKEOFFLINE, e.g. 64GiB:2MiB:16GiB"
        )
    try:
        plugged = parse_size(parts[0], allow_zero=True)
        block = parse_size(parts[1])
        fake = parse_size(parts[2], allow_zero=True)
    except SizeError as e:
        raise HostError(f"--virtio-mem {spec!r}: {e}") from None
    return VirtioMemDevice(plugged, block, fake)


def merge_pools(pools: tuple[HugetlbPool, ...]) -> tuple[HugetlbPool, ...]:
    """One pool per folio size, counts of repeated sizes added up, smallest size first."""
    counts: dict[int, int] = {}
    for p in pools:
        counts[p.folio_bytes] = counts.get(p.folio_bytes, 0) + p.count
    return tuple(HugetlbPool(size, counts[size]) for size in sorted(counts))
