"""The vmemmap -> frame map of one observation, laid out for drawing, and its changes.

Input is the "vmemmap" member of an observation: a list of
`{"vpage": int, "frame": int | null, "perm": "rw" | "ro" | null}` (frame null = a hole:
the vmemmap page is not mapped; "first_pfn" and "alias" are used when present), and its
"frames" member (keyed by frame number, or a list of objects with a "frame" member).
`map_layout` places the vmemmap pages on one row and the frames they map on another,
with one link per mapping: read-only and read-write links get different classes, holes
get no link, frames that several pages map (or marked "shared") are flagged, frames
marked "free" (freed while still mapped) too, frames listed but unmapped are drawn
faded, the pages / frames the current step accessed or remapped are highlighted, and
pages some CPU caches a stale translation of (tlb_view.py) are flagged `tlb-stale`.
Maps larger than `MAX_BOXES` pages are drawn as runs (consecutive pages mapped to one
frame, or to consecutive frames, with the same permission: the shape HVO gives a folio).
`vmemmap_changes` describes in words which mappings a step changed.

Leaves out: drawing itself (the template turns the layout into SVG) and any meaning of
frame numbers beyond identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Entry = tuple[int, int | None, str | None]  # vpage, frame, perm

MAX_BOXES = 24
BOX_W, BOX_H, GAP, MARGIN_X, ROW_V, ROW_F = 64, 34, 12, 78, 12, 132
UNSEEN = "\0unseen"  # perm of a page an observation does not list (vmemmap_changes)


@dataclass(frozen=True)
class Run:
    """Consecutive vmemmap pages v0..v1 mapped to frame f0 (all) or to f0..f1 in step."""

    v0: int
    v1: int
    f0: int | None
    f1: int | None
    perm: str | None

    def vpages(self) -> range:
        return range(self.v0, self.v1 + 1)

    def vlabel(self) -> str:
        return f"v{self.v0}" if self.v0 == self.v1 else f"v{self.v0}-{self.v1}"

    def flabel(self) -> str:
        if self.f0 is None:
            return "hole"
        return f"f{self.f0}" if self.f0 == self.f1 else f"f{self.f0}-{self.f1}"

    def describe(self) -> str:
        if self.f0 is None:
            return "hole"
        frames = (f"frame {self.f0}" if self.f0 == self.f1
                  else f"frames {self.f0}-{self.f1}")
        return f"{frames} ({self.perm})" if self.perm else frames


def parse_entries(vm: Any) -> list[Entry]:
    """The well-formed entries of a "vmemmap" member, sorted by vmemmap page."""
    out: list[Entry] = []
    for e in vm if isinstance(vm, list) else []:
        if not isinstance(e, dict) or not isinstance(e.get("vpage"), int):
            continue
        frame = e.get("frame")
        perm = e.get("perm")
        out.append((e["vpage"], frame if isinstance(frame, int) else None,
                    str(perm) if perm is not None and frame is not None else None))
    return sorted(out)


def _extends(r: Run, v: int, f: int | None, p: str | None) -> bool:
    if v != r.v1 + 1 or p != r.perm:
        return False
    if f is None or r.f0 is None or r.f1 is None:
        return f is None and r.f0 is None
    if r.v0 == r.v1:
        return f in (r.f0, r.f0 + 1)
    return f == r.f0 if r.f0 == r.f1 else f == r.f1 + 1


def _grow(r: Run, v: int, f: int | None) -> Run:
    return Run(r.v0, v, r.f0, f, r.perm)


def runs(entries: Sequence[Entry]) -> list[Run]:
    """Group consecutive entries into runs (see Run)."""
    out: list[Run] = []
    for v, f, p in entries:
        if out and _extends(out[-1], v, f, p):
            out[-1] = _grow(out[-1], v, f)
        else:
            out.append(Run(v, v, f, f, p))
    return out


def vmemmap_changes(prev: Any, cur: Any, arrow: str = "->") -> list[str]:
    """"vmemmap pages 1-7: frames 9-15 (rw) -> frame 3 (ro)" for each changed run.

    A page the previous observation did not list is not assumed to be a hole: it reads
    "vmemmap page 0: now frame 64 (rw)"."""
    if prev is None or cur is None:
        return []
    unseen: tuple[int | None, str | None] = (None, UNSEEN)
    old = {v: (f, p) for v, f, p in parse_entries(prev)}
    new = {v: (f, p) for v, f, p in parse_entries(cur)}
    pairs: list[tuple[Run, Run]] = []
    for v in sorted(set(old) | set(new)):
        o = old.get(v, unseen)
        n = new.get(v, unseen)
        if o == n:
            continue
        if pairs and _extends(pairs[-1][0], v, *o) and _extends(pairs[-1][1], v, *n):
            ro, rn = pairs[-1]
            pairs[-1] = (_grow(ro, v, o[0]), _grow(rn, v, n[0]))
        else:
            pairs.append((Run(v, v, o[0], o[0], o[1]), Run(v, v, n[0], n[0], n[1])))
    lines = []
    for ro, rn in pairs:
        pages = (f"vmemmap page {rn.v0}" if rn.v0 == rn.v1
                 else f"vmemmap pages {rn.v0}-{rn.v1}")
        if ro.perm == UNSEEN:
            lines.append(f"{pages}: now {rn.describe()}")
        elif rn.perm == UNSEEN:
            lines.append(f"{pages}: no longer shown (was {ro.describe()})")
        else:
            lines.append(f"{pages}: {ro.describe()} {arrow} {rn.describe()}")
    return lines


def frames_of(observation: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The "frames" member by frame number: an object keyed by frame, or a list of
    objects with a "frame" member."""
    raw = observation.get("frames")
    out: dict[int, dict[str, Any]] = {}
    if isinstance(raw, dict):
        for k, v in raw.items():
            if str(k).isdigit() and isinstance(v, dict):
                out[int(k)] = v
    elif isinstance(raw, list):
        for v in raw:
            if isinstance(v, dict) and isinstance(v.get("frame"), int):
                out[v["frame"]] = v
    return out


@dataclass
class Box:
    x: float
    y: float
    label: str
    sub: str
    classes: str
    title: str
    w: float = BOX_W
    h: float = BOX_H

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass
class Link:
    x1: float
    y1: float
    x2: float
    y2: float
    classes: str
    title: str


@dataclass
class MapLayout:
    width: float
    height: float
    vboxes: list[Box] = field(default_factory=list)
    fboxes: list[Box] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    grouped: bool = False


def _row_x(i: int, n: int, width: float) -> float:
    used = n * BOX_W + (n - 1) * GAP
    return MARGIN_X + (width - MARGIN_X - used) / 2 + i * (BOX_W + GAP)


def map_layout(observation: dict[str, Any], accessed: set[int] | None = None,
               changed: set[int] | None = None,
               accessed_frames: set[int] | None = None,
               stale: dict[int, list[str]] | None = None) -> MapLayout | None:
    """The picture of `observation["vmemmap"]`, or None when there is none. `stale`:
    vmemmap page -> why each stale TLB entry of it is stale (tlb_view.stale_vpages)."""
    entries = parse_entries(observation.get("vmemmap"))
    if not entries:
        return None
    accessed, changed = accessed or set(), changed or set()
    accessed_frames, stale = accessed_frames or set(), stale or {}
    grouped = len(entries) > MAX_BOXES
    groups = runs(entries) if grouped else [Run(v, v, f, f, p) for v, f, p in entries]
    info = frames_of(observation)
    users: dict[int, int] = {}
    for _, f, _ in entries:
        if f is not None:
            users[f] = users.get(f, 0) + 1
    fkeys = sorted({(g.f0, g.f1) for g in groups if g.f0 is not None and g.f1 is not None})
    covered = {f for f0, f1 in fkeys for f in range(f0, f1 + 1)}
    unreferenced = sorted(f for f in info if f not in covered)
    if len(fkeys) + len(unreferenced) <= 2 * MAX_BOXES:
        fkeys = sorted(fkeys + [(f, f) for f in unreferenced])
    width = MARGIN_X + max(len(groups), len(fkeys), 1) * (BOX_W + GAP) + GAP
    out = MapLayout(width, ROW_F + BOX_H + 16, grouped=grouped)
    fpos: dict[tuple[int, int], Box] = {}
    for i, (f0, f1) in enumerate(fkeys):
        frames = range(f0, f1 + 1)
        about = [info.get(f, {}) for f in frames]
        shared = any(users.get(f, 0) > 1 for f in frames) or any(
            a.get("shared") or len(a.get("mapped_by") or []) > 1 for a in about)
        free = any(a.get("free") is True for a in about)
        cls = ["frame"] + (["shared"] if shared else []) + (["free"] if free else [])
        cls += ["unreferenced"] if not covered.intersection(frames) else []
        cls += ["accessed"] if accessed_frames.intersection(frames) else []
        label = f"f{f0}" if f0 == f1 else f"f{f0}-{f1}"
        sub = "free" if free else ("shared" if shared else "")
        title = f"frame {label[1:]}" + (f" ({sub})" if sub else "")
        box = Box(_row_x(i, len(fkeys), width), ROW_F, label, sub, " ".join(cls), title)
        fpos[(f0, f1)] = box
        out.fboxes.append(box)
    details = {e["vpage"]: e for e in observation.get("vmemmap") or []
               if isinstance(e, dict) and isinstance(e.get("vpage"), int)}
    per_page = observation.get("descs_per_vmemmap_page")
    for i, g in enumerate(groups):
        perm = g.perm or ""
        cls = ["vpage", "hole" if g.f0 is None else (perm or "mapped")]
        if accessed.intersection(g.vpages()):
            cls.append("accessed")
        if changed.intersection(g.vpages()):
            cls.append("changed")
        first, last = details.get(g.v0, {}), details.get(g.v1, {})
        if any(details.get(v, {}).get("alias") for v in g.vpages()):
            cls.append("alias")
        pfns = ""
        if isinstance(first.get("first_pfn"), int) and isinstance(last.get("first_pfn"), int) \
                and isinstance(per_page, int):
            pfns = f" (pfns {first['first_pfn']}-{last['first_pfn'] + per_page - 1})"
        title = f"vmemmap page {g.vlabel()[1:]}{pfns} -> {g.describe()}"
        why = [t for v in g.vpages() for t in stale.get(v, [])]
        if why:
            cls.append("tlb-stale")
            title += "; stale TLB: " + "; ".join(why)
        box = Box(_row_x(i, len(groups), width), ROW_V, g.vlabel(),
                  "hole" if g.f0 is None else perm, " ".join(cls), title)
        out.vboxes.append(box)
        if g.f0 is not None and g.f1 is not None:
            target = fpos[(g.f0, g.f1)]
            out.links.append(Link(box.cx, ROW_V + BOX_H, target.cx, ROW_F,
                                  "link " + (perm or "mapped"), title))
    return out
