"""The memmap report as a rich table and as one JSON object.

The table has one row per item (RAM outside pools, each hugetlb pool, each virtio-mem
device) and a total: descriptor memory without optimization, saved, remaining, and the
remaining share of the row's memory (of all RAM on the total row). A removed range
under --zero-struct-page gets a table of its own, since the host's totals count it as
the hole it is today. The JSON object carries every number in bytes, a per-row
breakdown with the vmemmap geometry a kernel developer checks first (descriptors and
vmemmap pages per folio, pages kept and freed), and the comparison of all options.

Leaves out: localisation; sizes in the table are rounded to two decimals, the JSON is
exact.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table

from pagerace.memmap.hvo import FolioVmemmap
from pagerace.memmap.model import Cost, MemmapReport, Option, PoolCost, VirtioMemCost
from pagerace.memmap.sizes import format_size

SCHEMA = "pagerace.memmap/1"


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def format_share(part: int, whole: int) -> str:
    """A percentage with four decimals: 64-byte descriptors of 4 KiB pages are 1.5625%."""
    return f"{100 * share(part, whole):.4f}%"


def host_title(report: MemmapReport) -> str:
    h = report.host
    nodes = "1 node" if h.nodes == 1 else f"{h.nodes} nodes"
    return (
        f"{format_size(report.ram_bytes)} RAM, {format_size(h.page_size)} pages, "
        f"{h.descriptor_size} B struct page, HVO {h.generation.value}, {nodes}"
    )


def _table(title: str) -> Table:
    return Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)


def cost_table(report: MemmapReport) -> Table:
    table = _table(host_title(report))
    table.caption = "share: remaining descriptor memory / the row's memory"
    table.caption_justify = "left"
    table.add_column("item")
    for name in ("memory", "descriptors", "saved", "remaining", "share"):
        table.add_column(name, justify="right")
    for row in report.rows:
        table.add_row(
            row.name,
            format_size(row.memory_bytes),
            format_size(row.descriptor_bytes),
            format_size(row.saved_bytes),
            format_size(row.remaining_bytes),
            format_share(row.remaining_bytes, row.memory_bytes),
        )
    table.add_section()
    table.add_row(
        "total",
        format_size(report.ram_bytes),
        format_size(report.descriptor_bytes_total),
        format_size(report.saved_bytes),
        format_size(report.remaining_bytes),
        format_share(report.remaining_bytes, report.ram_bytes),
        style="bold",
    )
    return table


def zero_struct_page_table(report: MemmapReport) -> Table | None:
    z = report.zero_struct_page
    if z is None:
        return None
    table = _table(f"removed range of {format_size(z.range_bytes)}: its vmemmap")
    table.add_column("vmemmap of the removed range")
    table.add_column("costs", justify="right")
    table.add_row("hole (today: unmapped and freed)", format_size(z.hole_bytes))
    table.add_row(
        f"zero struct page ({z.vmemmap_pages} pages onto 1 read-only frame)",
        format_size(z.zero_frame_bytes),
    )
    table.add_row("descriptors kept", format_size(z.kept_descriptor_bytes))
    return table


def options_table(options: tuple[Option, ...]) -> Table:
    table = _table("options compared")
    table.add_column("option")
    for name in ("saved", "remaining", "share of RAM"):
        table.add_column(name, justify="right")
    for opt in options:
        r = opt.report
        table.add_row(
            opt.label,
            format_size(r.saved_bytes),
            format_size(r.remaining_bytes),
            format_share(r.remaining_bytes, r.ram_bytes),
        )
    return table


def _folio_json(f: FolioVmemmap) -> dict[str, Any]:
    return {
        "descriptors": f.descriptors,
        "vmemmap_bytes": f.vmemmap_bytes,
        "vmemmap_pages": f.vmemmap_pages,
        "kept_pages": f.kept_pages,
        "freed_pages": f.freed_pages,
        "freed_bytes": f.freed_bytes,
        "why_nothing_freed": f.why_nothing_freed,
    }


def _row_json(row: Cost) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": row.name,
        "kind": "ram",
        "memory_bytes": row.memory_bytes,
        "descriptor_bytes": row.descriptor_bytes,
        "saved_bytes": row.saved_bytes,
        "remaining_bytes": row.remaining_bytes,
    }
    if isinstance(row, PoolCost):
        out.update(
            kind="hugetlb",
            folio_bytes=row.pool.folio_bytes,
            count=row.pool.count,
            per_folio=_folio_json(row.folio),
            shared_tail_frames=row.shared_tail_frames,
        )
    elif isinstance(row, VirtioMemCost):
        out.update(
            kind="virtio-mem",
            plugged_bytes=row.device.plugged_bytes,
            block_bytes=row.device.block_bytes,
            fake_offline_bytes=row.device.fake_offline_bytes,
            fake_offline_descriptor_bytes=row.fake_offline_descriptor_bytes,
            fake_offline_chunks=row.device.fake_offline_bytes // row.device.block_bytes,
            per_chunk=_folio_json(row.chunk),
            dedup_would_save_bytes=row.dedup_would_save_bytes,
        )
    return out


def report_json(report: MemmapReport, options: tuple[Option, ...]) -> dict[str, Any]:
    """Everything in bytes; `options` is the comparison of generations and proposals."""
    h = report.host
    z = report.zero_struct_page
    return {
        "schema": SCHEMA,
        "host": {
            "memory_bytes": h.memory_bytes,
            "ram_bytes": report.ram_bytes,
            "page_size": h.page_size,
            "descriptor_size": h.descriptor_size,
            "hvo": h.generation.value,
            "nodes": h.nodes,
            "hugetlb": [{"folio_bytes": p.folio_bytes, "count": p.count} for p in h.pools],
            "virtio_mem": [
                {
                    "plugged_bytes": d.plugged_bytes,
                    "block_bytes": d.block_bytes,
                    "fake_offline_bytes": d.fake_offline_bytes,
                }
                for d in h.virtio_mem
            ],
            "dedup_fake_offline": h.dedup_fake_offline,
            "zero_struct_page_range_bytes": h.zero_struct_page_bytes,
        },
        "descriptor_bytes_total": report.descriptor_bytes_total,
        "saved_bytes": report.saved_bytes,
        "remaining_bytes": report.remaining_bytes,
        "descriptor_share_of_ram": share(report.descriptor_bytes_total, report.ram_bytes),
        "remaining_share_of_ram": share(report.remaining_bytes, report.ram_bytes),
        "shared_tail_frames": report.shared_tail_frames,
        "items": [_row_json(r) for r in report.rows],
        "zero_struct_page": None if z is None else {
            "range_bytes": z.range_bytes,
            "vmemmap_pages": z.vmemmap_pages,
            "hole_bytes": z.hole_bytes,
            "zero_frame_bytes": z.zero_frame_bytes,
            "kept_descriptor_bytes": z.kept_descriptor_bytes,
            "extra_vs_hole_bytes": z.extra_vs_hole_bytes,
            "saved_vs_kept_bytes": z.saved_vs_kept_bytes,
        },
        "options": [
            {
                "option": o.label,
                "hvo": o.report.host.generation.value,
                "dedup_fake_offline": o.report.host.dedup_fake_offline,
                "saved_bytes": o.report.saved_bytes,
                "remaining_bytes": o.report.remaining_bytes,
            }
            for o in options
        ],
        "notes": list(report.notes),
    }
