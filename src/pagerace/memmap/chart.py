"""A chart comparing the memmap cost of one host under every option, written atomically.

One bar per option (no HVO, G0a, G0-G2 - identical in memory -, G3, and the selected
generation with fake-offline deduplication when the host has fake-offline memory). Each
bar stacks the remaining descriptor memory of every row (RAM outside pools, each hugetlb
pool, each virtio-mem device) and, hatched on top, what the option saves: every bar is
as tall as the unoptimized memmap. With --zero-struct-page a second panel compares the
removed range's vmemmap as a hole, as one zero frame, and kept.

Rendered with matplotlib's Agg canvas (no pyplot, no display); PNG or SVG by the file's
extension. The file is written to a temporary file in the same directory and moved into
place with os.replace, so an interrupted run never leaves a half-written chart.

Leaves out: interactive output and any other image format.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pagerace.memmap.hvo import Generation
from pagerace.memmap.model import MemmapReport, Option, ZeroStructPageCost
from pagerace.memmap.render import host_title
from pagerace.memmap.sizes import GiB, KiB, MiB, TiB, format_size

FORMATS = ("png", "svg")
_SAME_MEMORY = (Generation.G1.value, Generation.G2.value)


class ChartError(ValueError):
    """The chart cannot be written where asked; the message is one clear line."""


def chart_format(path: str | os.PathLike[str]) -> str:
    """'png' or 'svg' from the file name; ChartError for anything else."""
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise ChartError(f"--chart {os.fspath(path)!r}: the file name must end in .png or .svg")
    return ext


def check_writable(path: str | os.PathLike[str]) -> None:
    """ChartError unless `path` has a chart extension and its directory exists."""
    chart_format(path)
    directory = Path(path).resolve().parent
    if not directory.is_dir():
        raise ChartError(f"--chart {os.fspath(path)!r}: directory {str(directory)!r} "
                         "does not exist")


def _unit(nbytes: int) -> tuple[str, int]:
    for name, factor in (("TiB", TiB), ("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if nbytes >= factor:
            return name, factor
    return "B", 1


def _bars(options: tuple[Option, ...]) -> list[Option]:
    """The options to draw: G1 and G2 cost what G0 costs, so they share G0's bar."""
    bars = []
    for opt in options:
        if opt.label in _SAME_MEMORY:
            continue
        label = "G0-G2" if opt.label == Generation.G0.value else opt.label
        bars.append(Option(label.replace(" + ", "\n+ "), opt.report))
    return bars


def _draw_options(ax: Axes, options: tuple[Option, ...]) -> None:
    bars = _bars(options)
    first = bars[0].report
    unit, factor = _unit(first.descriptor_bytes_total)
    xs = list(range(len(bars)))
    bottoms = [0.0] * len(bars)
    for i, row in enumerate(first.rows):
        heights = [b.report.rows[i].remaining_bytes / factor for b in bars]
        ax.bar(xs, heights, bottom=bottoms, label=row.name, color=f"C{i % 10}")
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    saved = [b.report.saved_bytes / factor for b in bars]
    ax.bar(xs, saved, bottom=bottoms, label="saved", color="none", edgecolor="0.5",
           hatch="//", linewidth=0.8)
    for x, b, top in zip(xs, bars, bottoms, strict=True):
        ax.annotate(format_size(b.report.remaining_bytes), (x, top), ha="center",
                    va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
    ax.set_xticks(xs, [b.label for b in bars], fontsize=8)
    ax.set_ylim(0, first.descriptor_bytes_total / factor * 1.08)
    ax.set_ylabel(f"descriptor memory ({unit})")
    ax.set_title("remaining (solid, labelled) and saved (hatched)", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3,
              frameon=False)


def _draw_zero_range(ax: Axes, z: ZeroStructPageCost) -> None:
    values = [z.hole_bytes, z.zero_frame_bytes, z.kept_descriptor_bytes]
    labels = ["hole\n(today)", "zero struct\npage", "descriptors\nkept"]
    unit, factor = _unit(max(values))
    xs = list(range(len(values)))
    ax.bar(xs, [v / factor for v in values], color=["0.7", "C2", "C3"])
    ax.set_ylim(0, max(values) / factor * 1.08)
    for x, v in zip(xs, values, strict=True):
        ax.annotate(format_size(v), (x, v / factor), ha="center", va="bottom", fontsize=8,
                    xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(xs, labels, fontsize=8)
    ax.set_ylabel(f"vmemmap memory ({unit})")
    ax.set_title(f"removed {format_size(z.range_bytes)} range", fontsize=10)


def render(report: MemmapReport, options: tuple[Option, ...]) -> Figure:
    """The comparison figure for `report`'s host."""
    zero = report.zero_struct_page
    fig = Figure(figsize=(11 if zero else 8, 5), layout="constrained")
    FigureCanvasAgg(fig)
    if zero is None:
        _draw_options(fig.add_subplot(1, 1, 1), options)
    else:
        left, right = fig.subplots(1, 2, width_ratios=[3, 1])
        _draw_options(left, options)
        _draw_zero_range(right, zero)
    fig.suptitle(f"struct page memory: {host_title(report)}", fontsize=11)
    return fig


def write_chart(
    report: MemmapReport, options: tuple[Option, ...], path: str | os.PathLike[str]
) -> None:
    """Render and write the chart atomically: a temporary file, then os.replace."""
    fmt = chart_format(path)
    target = Path(path)
    fig = render(report, options)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f, rc_context({"svg.hashsalt": "pagerace"}):
            metadata = {"Date": None} if fmt == "svg" else {"Software": None}
            fig.savefig(f, format=fmt, metadata=metadata)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
