"""The memmap model against Documentation/mm/vmemmap_dedup.rst's numbers, computed by hand.

Every expected value below is written out from the documentation's arithmetic (512
descriptors of 64 bytes = 8 vmemmap pages of 4 KiB, 7 freed = 28 KiB, ...), not taken
from the code under test.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pagerace.memmap.host import (
    Host,
    HostError,
    HugetlbPool,
    VirtioMemDevice,
    merge_pools,
    parse_pool,
    parse_virtio_mem,
)
from pagerace.memmap.hvo import FolioVmemmap, Generation, folio_vmemmap, parse_generation
from pagerace.memmap.model import compare_options, compute
from pagerace.memmap.sizes import (
    SizeError,
    format_exact,
    format_size,
    parse_page_size,
    parse_size,
)

K, M, G, T = 1024, 1024**2, 1024**3, 1024**4
HVO_ONE_KEPT = (Generation.G0, Generation.G1, Generation.G2, Generation.G3)


# --- sizes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512GiB", 512 * G),
        ("64TiB", 64 * T),
        ("2M", 2 * M),
        ("4k", 4 * K),
        ("4096", 4096),
        ("2MB", 2 * M),
        ("1.5G", 3 * G // 2),
        (" 1 GiB ", G),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["-4K", "abc", "1.5", "0", "4Q", "", "2M:1", "1e3"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(SizeError):
        parse_size(text)


def test_parse_size_zero_when_allowed() -> None:
    assert parse_size("0", allow_zero=True) == 0


@pytest.mark.parametrize("text", ["4K", "8KiB", "16k", "32K", "64KiB", "65536"])
def test_page_sizes_accepted(text: str) -> None:
    assert parse_page_size(text) == parse_size(text)


@pytest.mark.parametrize("text", ["2K", "12K", "128K", "4097", "2M"])
def test_unknown_page_sizes_rejected(text: str) -> None:
    with pytest.raises(SizeError, match="power of two between 4KiB and 64KiB"):
        parse_page_size(text)


def test_format_size() -> None:
    assert format_size(28 * K) == "28 KiB"
    assert format_size(3 * G // 2) == "1.50 GiB"
    assert format_size(64) == "64 B"
    assert format_size(16 * G) == "16 GiB"
    assert format_exact(5000) == "5000 bytes"
    assert format_exact(2 * M) == "2 MiB"


# --- one folio: Documentation/mm/vmemmap_dedup.rst ------------------------------------------


@pytest.mark.parametrize("gen", HVO_ONE_KEPT)
def test_doc_2mib_folio_frees_7_of_8(gen: Generation) -> None:
    f = folio_vmemmap(2 * M, 4 * K, 64, gen)
    assert f.descriptors == 512
    assert f.vmemmap_bytes == 32 * K
    assert f.vmemmap_pages == 8
    assert f.freed_pages == 7
    assert f.freed_bytes == 28 * K
    assert f.kept_pages == 1


@pytest.mark.parametrize("gen", HVO_ONE_KEPT)
def test_doc_1gib_folio_frees_4095(gen: Generation) -> None:
    f = folio_vmemmap(G, 4 * K, 64, gen)
    assert f.vmemmap_pages == 4096
    assert f.freed_pages == 4095


def test_g0a_before_v5_18_keeps_two() -> None:
    assert folio_vmemmap(2 * M, 4 * K, 64, Generation.G0A).freed_pages == 6
    assert folio_vmemmap(G, 4 * K, 64, Generation.G0A).freed_pages == 4094


def test_no_hvo_frees_nothing() -> None:
    f = folio_vmemmap(2 * M, 4 * K, 64, Generation.NONE)
    assert f.freed_pages == 0
    assert f.kept_pages == 8


def test_64k_pages_2mib_folio_is_less_than_one_vmemmap_page() -> None:
    f = folio_vmemmap(2 * M, 64 * K, 64, Generation.G2)
    assert f.descriptors == 32
    assert f.vmemmap_bytes == 2048
    assert f.vmemmap_pages == 1
    assert f.freed_pages == 0
    assert f.why_nothing_freed is not None and "less than one" in f.why_nothing_freed


def test_64k_pages_512mib_folio() -> None:
    # arm64 64K: a PMD folio is 512 MiB = 8192 pages; 8192 * 64 B = 512 KiB = 8 pages.
    f = folio_vmemmap(512 * M, 64 * K, 64, Generation.G0)
    assert f.vmemmap_pages == 8
    assert f.freed_pages == 7


def test_smaller_descriptors_leave_less_to_free() -> None:
    # memdesc: 32-byte struct page -> 512 * 32 = 16 KiB = 4 pages; 8 bytes -> 1 page.
    assert folio_vmemmap(2 * M, 4 * K, 32, Generation.G2).freed_pages == 3
    assert folio_vmemmap(2 * M, 4 * K, 32, Generation.G0A).freed_pages == 2
    eight = folio_vmemmap(2 * M, 4 * K, 8, Generation.G2)
    assert (eight.vmemmap_pages, eight.freed_pages) == (1, 0)


def test_non_power_of_two_descriptor_is_not_optimized() -> None:
    f = folio_vmemmap(2 * M, 4 * K, 56, Generation.G2)
    assert f.vmemmap_pages == 7  # ceil(512 * 56 / 4096) = ceil(7.0)
    assert f.freed_pages == 0
    assert f.why_nothing_freed is not None and "power of two" in f.why_nothing_freed


def test_parse_generation() -> None:
    assert parse_generation("g0A") is Generation.G0A
    assert parse_generation("None") is Generation.NONE
    with pytest.raises(ValueError, match="unknown HVO generation"):
        parse_generation("G9")


@given(
    page_shift=st.integers(12, 16),
    desc=st.integers(1, 256),
    order=st.integers(1, 9),
    gen=st.sampled_from(list(Generation)),
)
def test_vmemmap_pages_match_a_walk_of_the_descriptors(
    page_shift: int, desc: int, order: int, gen: Generation
) -> None:
    """The closed form against counting, descriptor by descriptor, the pages touched."""
    page = 1 << page_shift
    f = folio_vmemmap(page << order, page, desc, gen)
    touched = {(i * desc) // page for i in range(1 << order)}
    last = {((i + 1) * desc - 1) // page for i in range(1 << order)}
    assert f.vmemmap_pages == len(touched | last)
    assert 0 <= f.freed_pages <= max(0, f.vmemmap_pages - 1)
    assert f.kept_pages + f.freed_pages == f.vmemmap_pages


# --- a host ---------------------------------------------------------------------------


def test_descriptor_overhead_without_hvo_is_1_5625_percent() -> None:
    r = compute(Host(memory_bytes=T, generation=Generation.NONE))
    assert r.descriptor_bytes_total == 16 * G
    assert r.descriptor_bytes_total / r.ram_bytes == 0.015625
    assert r.saved_bytes == 0


def test_pool_saves_28k_per_2mib_folio() -> None:
    host = Host(memory_bytes=512 * G, pools=(HugetlbPool(2 * M, 40000),))
    r = compute(host)
    assert r.descriptor_bytes_total == 8 * G
    assert r.saved_bytes == 40000 * 28 * K
    assert r.remaining_bytes == 8 * G - 40000 * 28 * K
    pool = r.pools[0]
    assert pool.descriptor_bytes == 40000 * 32 * K
    assert pool.remaining_bytes == 40000 * 4 * K
    assert r.ram.memory_bytes == 512 * G - 40000 * 2 * M


def test_g3_pays_one_tail_frame_per_node_and_order() -> None:
    host = Host(memory_bytes=64 * T, pools=(HugetlbPool(G, 32768),),
                generation=Generation.G3, nodes=8)
    r = compute(host)
    assert r.descriptor_bytes_total == T
    assert r.shared_tail_frames == 8
    assert r.saved_bytes == 32768 * 4095 * 4 * K - 8 * 4 * K
    g2 = compute(replace(host, generation=Generation.G2))
    assert g2.saved_bytes - r.saved_bytes == 8 * 4 * K


def test_g3_two_orders_on_four_nodes() -> None:
    host = Host(memory_bytes=T, pools=(HugetlbPool(2 * M, 1000), HugetlbPool(G, 10)),
                generation=Generation.G3, nodes=4)
    r = compute(host)
    assert r.shared_tail_frames == 2 * 4
    assert r.saved_bytes == 1000 * 7 * 4 * K + 10 * 4095 * 4 * K - 2 * 4 * 4 * K


def test_g3_needs_no_frame_where_no_folio_or_nothing_freed() -> None:
    few = compute(Host(memory_bytes=T, pools=(HugetlbPool(G, 2),),
                       generation=Generation.G3, nodes=8))
    assert few.shared_tail_frames == 2  # only 2 nodes can hold a 1 GiB folio
    empty = compute(Host(memory_bytes=T, pools=(HugetlbPool(G, 0),),
                         generation=Generation.G3, nodes=8))
    assert empty.shared_tail_frames == 0
    big_pages = compute(Host(memory_bytes=T, page_size=64 * K, pools=(HugetlbPool(2 * M, 100),),
                             generation=Generation.G3, nodes=2))
    assert big_pages.shared_tail_frames == 0
    assert big_pages.saved_bytes == 0


def test_huge_host_is_exact() -> None:
    """2^62 bytes: a per-page loop could not finish; the closed form is exact."""
    r = compute(Host(memory_bytes=1 << 62, pools=(HugetlbPool(G, 1 << 20),)))
    assert r.descriptor_bytes_total == (1 << 62) // 64
    assert r.saved_bytes == (1 << 20) * 4095 * 4096


def test_virtio_mem_fake_offline_dedup() -> None:
    dev = VirtioMemDevice(64 * G, 2 * M, 16 * G)
    host = Host(memory_bytes=512 * G, pools=(), virtio_mem=(dev,))
    plain = compute(host)
    assert plain.ram_bytes == 576 * G
    assert plain.descriptor_bytes_total == 9 * G
    assert plain.saved_bytes == 0
    v = plain.virtio_mem[0]
    assert v.fake_offline_descriptor_bytes == 256 * M
    assert v.dedup_would_save_bytes == 8192 * 7 * 4 * K  # 224 MiB
    deduped = compute(replace(host, dedup_fake_offline=True))
    assert deduped.saved_bytes == 224 * M


@pytest.mark.parametrize("block", [128 * K, 256 * K])
def test_dedup_of_chunks_within_one_vmemmap_page_saves_nothing(block: int) -> None:
    # one 4 KiB vmemmap page describes 64 pages = 256 KiB
    dev = VirtioMemDevice(G, block, G // 2)
    r = compute(Host(memory_bytes=G, virtio_mem=(dev,), dedup_fake_offline=True))
    assert r.saved_bytes == 0


def test_zero_struct_page_costs_one_frame_vs_a_hole() -> None:
    host = Host(memory_bytes=512 * G, zero_struct_page_bytes=64 * G)
    r = compute(host)
    z = r.zero_struct_page
    assert z is not None
    assert z.kept_descriptor_bytes == G
    assert z.vmemmap_pages == 262144
    assert (z.hole_bytes, z.zero_frame_bytes) == (0, 4 * K)
    assert z.extra_vs_hole_bytes == 4 * K
    assert z.saved_vs_kept_bytes == G - 4 * K
    # the host's own totals count the removed range as the hole it is today
    assert r.descriptor_bytes_total == compute(replace(host, zero_struct_page_bytes=None)
                                               ).descriptor_bytes_total


def test_compare_options() -> None:
    host = Host(memory_bytes=512 * G, pools=(HugetlbPool(2 * M, 40000),),
                virtio_mem=(VirtioMemDevice(64 * G, 2 * M, 16 * G),))
    opts = compare_options(host)
    labels = [o.label for o in opts]
    assert labels == ["none", "G0a", "G0", "G1", "G2", "G3", "G2 + dedup fake-offline"]
    saved = {o.label: o.report.saved_bytes for o in opts}
    assert saved["none"] == 0
    assert saved["G0a"] == 40000 * 6 * 4 * K
    assert saved["G0"] == saved["G1"] == saved["G2"] == 40000 * 7 * 4 * K
    assert saved["G3"] == 40000 * 7 * 4 * K - 4 * K
    assert saved["G2 + dedup fake-offline"] == 40000 * 7 * 4 * K + 224 * M
    no_fake = compare_options(replace(host, virtio_mem=()))
    assert [o.label for o in no_fake][-1] == "G3"


# --- parsing and validation -------------------------------------------------------------


def test_parse_specs() -> None:
    assert parse_pool("2M:40000") == HugetlbPool(2 * M, 40000)
    assert parse_virtio_mem("64GiB:2MiB:16GiB") == VirtioMemDevice(64 * G, 2 * M, 16 * G)
    assert merge_pools((HugetlbPool(G, 2), HugetlbPool(2 * M, 5), HugetlbPool(G, 3))) == (
        HugetlbPool(2 * M, 5),
        HugetlbPool(G, 5),
    )


@pytest.mark.parametrize("spec", ["2M", "2M:1.5", "2M:x", "2M:-1", "x:1", ":3"])
def test_bad_pool_specs(spec: str) -> None:
    with pytest.raises(HostError):
        parse_pool(spec)


@pytest.mark.parametrize(
    ("host", "message"),
    [
        (Host(memory_bytes=G, pools=(HugetlbPool(2 * M, 1000),)), "more than --memory"),
        (Host(memory_bytes=G, pools=(HugetlbPool(6 * K, 1),)), "not a multiple"),
        (Host(memory_bytes=G, pools=(HugetlbPool(3 * M, 1),)), "power-of-two"),
        (Host(memory_bytes=G, pools=(HugetlbPool(4 * K, 1),)), "at least 2"),
        (Host(memory_bytes=G, virtio_mem=(VirtioMemDevice(G, 2 * M, 2 * G),)),
         "larger than the plugged"),
        (Host(memory_bytes=G, virtio_mem=(VirtioMemDevice(G, 3 * M, 0),)), "power of two"),
        (Host(memory_bytes=G, virtio_mem=(VirtioMemDevice(G, 2 * M, 3 * M),)),
         "not a multiple"),
        (Host(memory_bytes=5000), "not a multiple of the page size"),
        (Host(memory_bytes=G, descriptor_size=8 * K), "descriptor size"),
        (Host(memory_bytes=G, zero_struct_page_bytes=4 * K), "multiple of 256 KiB"),
        (Host(memory_bytes=G, nodes=0), "NUMA node"),
    ],
)
def test_inconsistent_hosts(host: Host, message: str) -> None:
    with pytest.raises(HostError, match=message):
        compute(host)


def test_folio_vmemmap_is_a_value() -> None:
    assert folio_vmemmap(2 * M, 4 * K, 64, Generation.G1) == FolioVmemmap(2 * M, 4 * K, 64, 1)


def test_memmap_generations_are_the_kernel_models() -> None:
    """One vocabulary: every memmap generation the kernel model runs takes its accounting
    from the kernel's entry."""
    from pagerace.kernel import GENERATION_NAMES, get_generation

    for g in Generation:
        if g.value in GENERATION_NAMES:
            entry = get_generation(g.value)
            assert g.kept_vmemmap_pages == entry.kept_vmemmap_pages
            assert g.shares_tail_frame == entry.shares_tail_frame
    assert {g.value for g in Generation} - set(GENERATION_NAMES) == {"none", "G0a"}
