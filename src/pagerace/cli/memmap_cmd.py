"""`pagerace memmap`: what struct page metadata costs on a host, and what HVO saves.

A thin wrapper over pagerace.memmap: parse the options into a Host, compute the closed
form, print a table (or one JSON object) and optionally write a comparison chart.
"""

from __future__ import annotations

import json
import os
import sys

import click
from rich.console import Console

from pagerace.cli.errors import BadInput
from pagerace.memmap.host import (
    Host,
    HostError,
    HugetlbPool,
    merge_pools,
    parse_pool,
    parse_virtio_mem,
)
from pagerace.memmap.hvo import GENERATION_NAMES, Generation, parse_generation
from pagerace.memmap.model import compare_options, compute
from pagerace.memmap.render import (
    cost_table,
    options_table,
    report_json,
    zero_struct_page_table,
)
from pagerace.memmap.sizes import GiB, MiB, SizeError, parse_page_size, parse_size

DEFAULT_MEMORY = 512 * GiB
DEFAULT_POOL = HugetlbPool(2 * MiB, 40000)
DEFAULT_GENERATION = Generation.G2


def _size(option: str, text: str) -> int:
    try:
        return parse_size(text)
    except SizeError as e:
        raise BadInput(f"{option}: {e}") from None


def _host(
    memory: str | None,
    page_size: str,
    descriptor_size: str,
    hugetlb: tuple[str, ...],
    hvo: str,
    nodes: int,
    virtio_mem: tuple[str, ...],
    dedup_fake_offline: bool,
    zero_struct_page: str | None,
) -> Host:
    """The Host the options describe; BadInput for anything unparsable."""
    try:
        ps = parse_page_size(page_size)
    except SizeError as e:
        raise BadInput(f"--page-size: {e}") from None
    try:
        pools = tuple(parse_pool(s) for s in hugetlb)
        devices = tuple(parse_virtio_mem(s) for s in virtio_mem)
        generation = parse_generation(hvo)
    except ValueError as e:
        raise BadInput(str(e)) from None
    if memory is None and not pools:
        pools = (DEFAULT_POOL,)
    zero = None if zero_struct_page is None else _size("--zero-struct-page", zero_struct_page)
    return Host(
        memory_bytes=DEFAULT_MEMORY if memory is None else _size("--memory", memory),
        page_size=ps,
        descriptor_size=_size("--descriptor-size", descriptor_size),
        pools=merge_pools(pools),
        generation=generation,
        nodes=nodes,
        virtio_mem=devices,
        dedup_fake_offline=dedup_fake_offline,
        zero_struct_page_bytes=zero,
    )


def _console() -> Console:
    """Rich's console; 100 columns rather than 80 when stdout is a pipe or file."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, width=100 if piped else None)


@click.command()
@click.option("--memory", metavar="SIZE",
              help="Boot RAM, e.g. 512GiB or 64TiB (binary units: 4K = 4KiB). "
                   "[default: 512GiB]")
@click.option("--page-size", default="4KiB", show_default=True, metavar="SIZE",
              help="Base page size: a power of two from 4KiB to 64KiB.")
@click.option("--descriptor-size", default="64", show_default=True, metavar="BYTES",
              help="sizeof(struct page); memdesc plans 32, then 8.")
@click.option("--hugetlb", multiple=True, metavar="SIZE:COUNT",
              help="A hugetlb pool carved out of --memory, e.g. 2M:40000 or 1G:64. "
                   "Repeatable; counts of one size add up.")
@click.option("--hvo", default=DEFAULT_GENERATION.value, show_default=True,
              metavar="[" + "|".join(GENERATION_NAMES) + "]",
              help="HVO generation: none; G0a (before v5.18, 2 vmemmap pages kept per "
                   "folio); G0, G1, G2 (1 kept); G3 (1 kept plus a shared read-only tail "
                   "frame per node and folio order in use).")
@click.option("--nodes", type=click.IntRange(min=1), default=1, show_default=True,
              help="NUMA nodes: G3 shares one tail frame per node and order, on no more "
                   "nodes than the pool has folios.")
@click.option("--virtio-mem", multiple=True, metavar="PLUGGED:BLOCK:FAKEOFFLINE",
              help="A virtio-mem device, e.g. 64GiB:2MiB:16GiB: device memory added on top "
                   "of --memory, device block size, and how much of it is fake-offline. "
                   "Repeatable.")
@click.option("--dedup-fake-offline", is_flag=True,
              help="Proposal: each fake-offline chunk of the device block size keeps one "
                   "vmemmap page and maps the rest onto it, like HVO.")
@click.option("--zero-struct-page", metavar="RANGE_SIZE",
              help="Proposal: a removed range of this size maps its vmemmap onto one "
                   "read-only zero struct page frame instead of a hole; shows the cost "
                   "against a hole and against keeping its descriptors (reported apart: "
                   "the totals count the range as the hole it is today).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
@click.option("--chart", metavar="FILE",
              help="Also write a chart comparing every option (.png or .svg).")
def memmap(
    memory: str | None,
    page_size: str,
    descriptor_size: str,
    hugetlb: tuple[str, ...],
    hvo: str,
    nodes: int,
    virtio_mem: tuple[str, ...],
    dedup_fake_offline: bool,
    zero_struct_page: str | None,
    as_json: bool,
    chart: str | None,
) -> None:
    """What struct page metadata costs, and what HVO and the proposals save.

    Without optimization every base page has a descriptor: 64 / 4096 = 1.5625% of
    memory. HVO frees most of a hugetlb folio's vmemmap (7 of 8 pages of a 2 MiB folio;
    Documentation/mm/vmemmap_dedup.rst). Computed in closed form: any host size is
    instant.

    With neither --memory nor --hugetlb, the example host is used: 512GiB with one
    pool of 40000 2 MiB folios (--hugetlb 2M:40000), HVO G2.
    """
    host = _host(memory, page_size, descriptor_size, hugetlb, hvo, nodes, virtio_mem,
                 dedup_fake_offline, zero_struct_page)
    try:
        if chart is not None:
            from pagerace.memmap.chart import ChartError, check_writable

            try:
                check_writable(chart)
            except ChartError as e:
                raise BadInput(str(e)) from None
        report = compute(host)
        options = compare_options(host)
    except HostError as e:
        raise BadInput(str(e)) from None
    if chart is not None:
        from pagerace.memmap.chart import write_chart

        try:
            write_chart(report, options, chart)
        except OSError as e:
            raise BadInput(f"--chart {chart!r}: cannot write: {e.strerror or e}") from None
    if as_json:
        click.echo(json.dumps(report_json(report, options), indent=2))
        return
    console = _console()
    console.print(cost_table(report))
    zero = zero_struct_page_table(report)
    if zero is not None:
        console.print(zero)
    console.print(options_table(options))
    for note in report.notes:
        console.print(f"note: {note}", soft_wrap=True)
    if chart is not None:
        console.print(f"chart written to {chart}", soft_wrap=True)
