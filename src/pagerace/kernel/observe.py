"""A JSON-able snapshot of the kernel state for traces and the HTML report.

`observe(k, state, watch)` returns the vmemmap map (for every vmemmap page that has a PTE
in the state, plus those holding watched pfns: its frame, permission, whether it is a
deduplicated alias, whether it is still the boot mapping), the frames those PTEs point at
(who maps them, freed or not), the descriptors of the watched pfns as they read through the
current mapping (refcount, flags, compound head, page type, fake head), the buddy free
ranges, RCU nesting per CPU, the hugetlb bookkeeping and, with per-CPU TLBs, each CPU's
cached translations (stale or not, the frame freed or not), interrupt state and
pending flush IPIs (observe_tlb). Addresses and masks wider than 53 bits are hex
strings, so JavaScript reads them exactly.

Pure: reads the state directly, never through a StepView, so observing creates no steps.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from pagerace.kernel import buddy
from pagerace.kernel import struct_page as sp
from pagerace.kernel.handle import KernelHandle
from pagerace.kernel.irq import ipi_loc, irqs_off_loc
from pagerace.kernel.page_ref import ref_count_value
from pagerace.kernel.tlb import tlb_loc
from pagerace.kernel.vmemmap import (
    DEDUP_WRITES,
    FIELD_DEFAULTS,
    FLAGS,
    FREED_WHILE_MAPPED,
    HOLE,
    PAGE_TYPE,
    REFCOUNT,
    boot_frame_maps,
    field_loc,
    ghost_loc,
)


def _json(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return f"{value:#x}" if abs(value) >= 1 << 53 else value
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    return repr(value)


def pte_of(k: KernelHandle, state: Mapping[Hashable, Any], vpage: int) -> tuple[int, str] | None:
    pte = state.get(("pte", vpage))
    if pte is None:
        return (vpage, "rw") if k.vpage_present(vpage) else None
    if pte == HOLE:
        return None
    return int(pte[0]), str(pte[1])


def read_field(k: KernelHandle, state: Mapping[Hashable, Any], pfn: int, name: str) -> Any:
    pte = pte_of(k, state, k.geometry.vpage(pfn))
    if pte is None:
        return None
    return state.get(field_loc(pte[0], k.geometry.slot(pfn), name), FIELD_DEFAULTS[name])


def ref_count(k: KernelHandle, state: Mapping[Hashable, Any], pfn: int) -> Any:
    """pfn's _refcount as page_ref_count() reads it (a frozen-bit count is 0, page_ref.py);
    None through a hole."""
    value = read_field(k, state, pfn, REFCOUNT)
    return None if value is None else ref_count_value(k, value)


def describe_page(k: KernelHandle, state: Mapping[Hashable, Any], pfn: int) -> dict[str, Any]:
    g = k.geometry
    vpage = g.vpage(pfn)
    pte = pte_of(k, state, vpage)
    out: dict[str, Any] = {"pfn": pfn, "vpage": vpage, "slot": g.slot(pfn),
                           "frame": pte[0] if pte else None, "perm": pte[1] if pte else None}
    if pte is None:
        out["hole"] = True
        return out
    flags = read_field(k, state, pfn, FLAGS)
    info = read_field(k, state, pfn, k.compound_field)
    head = sp.decode_compound_head(k, pfn, info)
    fake = False
    if k.gen.fake_heads and head is None and flags & sp.PG_HEAD and g.desc_page_aligned(pfn):
        info1 = read_field(k, state, pfn + 1, k.compound_field)
        real = sp.decode_compound_head(k, pfn, info1) if info1 is not None else None
        fake = real is not None and real != pfn
        head = real if fake else None
    out.update({
        "refcount": read_field(k, state, pfn, REFCOUNT),
        "flags": sp.flag_names(flags),
        k.compound_field: _json(info),
        "head": head,
        "fake_head": fake,
        "page_type": read_field(k, state, pfn, PAGE_TYPE),
        "buddy_free": buddy.pfn_is_free(dict(state), pfn),
    })
    return out


def observe(k: KernelHandle, state: Mapping[Hashable, Any],
            watch: tuple[int, ...]) -> dict[str, Any]:
    g = k.geometry
    vpages: set[int] = {g.vpage(p) for p in watch}
    hugetlb: dict[str, dict[str, Any]] = {}
    tails: dict[str, Any] = {}
    for key in state:
        if not isinstance(key, tuple) or not key:
            continue
        if key[0] == "pte" and len(key) == 2:
            vpages.add(int(key[1]))
        elif key[0] == "hugetlb" and len(key) == 3:
            hugetlb.setdefault(str(key[1]), {})[str(key[2])] = _json(state[key])
        elif key[0] == "vmemmap_tail":
            tails[f"node {key[1]} order {key[2]}"] = state[key]
    vmemmap = []
    mapped_by: dict[int, list[int]] = {}
    for v in sorted(vpages):
        pte = pte_of(k, state, v)
        entry: dict[str, Any] = {"vpage": v, "first_pfn": g.vpage_first_pfn(v),
                                 "frame": pte[0] if pte else None,
                                 "perm": pte[1] if pte else None,
                                 "hole": pte is None,
                                 "boot": ("pte", v) not in state,
                                 "alias": bool(state.get(ghost_loc("alias", v), False))}
        vmemmap.append(entry)
        if pte:
            mapped_by.setdefault(pte[0], []).append(v)
    frames = [{"frame": f, "mapped_by": vs,
               "maps": state.get(ghost_loc("frame_maps", f), boot_frame_maps(k, f)),
               "free": bool(state.get(ghost_loc("frame_free", f), False))}
              for f, vs in sorted(mapped_by.items())]
    return {
        "geometry": g.name,
        "descs_per_vmemmap_page": g.descs_per_vmemmap_page,
        "generation": k.gen.name,
        "arch": k.arch.name,
        "vmemmap": vmemmap,
        "frames": frames,
        "pages": [describe_page(k, state, p) for p in sorted(set(watch))],
        "buddy_free": _json(tuple(state.get(buddy.FREE_LOC, ()))),
        "rcu": {str(c): state.get(("rcu", c, "nesting"), 0) for c in range(k.config.ncpus)},
        "hugetlb": hugetlb,
        "vmemmap_tails": tails,
        "tlb": observe_tlb(k, state) if k.config.tlb == "percpu" else {},
        "ghost": {"dedup_writes": state.get(DEDUP_WRITES, 0),
                  "freed_while_mapped": state.get(FREED_WHILE_MAPPED, 0)},
    }


def observe_tlb(k: KernelHandle, state: Mapping[Hashable, Any]) -> dict[str, Any]:
    """Each CPU's cached translations (with `stale` against the PTE now and `freed` if
    the cached frame has been freed), its interrupt state and its pending flush IPIs -
    for traces and the HTML map."""
    out: dict[str, Any] = {}
    for cpu in range(k.config.ncpus):
        rows = []
        for vpage, frame, perm in tuple(state.get(tlb_loc(cpu), ())):
            rows.append({"vpage": vpage, "frame": frame, "perm": perm,
                         "stale": pte_of(k, state, vpage) != (frame, perm),
                         "freed": bool(state.get(ghost_loc("frame_free", frame), False))})
        out[str(cpu)] = {"entries": rows,
                         "irqs_off": bool(state.get(irqs_off_loc(cpu), False)),
                         "ipi_pending": [list(r) if r else "all"
                                         for r in state.get(ipi_loc(cpu), ())]}
    return out
