"""Each CPU's cached vmemmap translations beside the page table, and why an entry is stale.

Input is the "tlb" member of an observation (kernel/observe.py, with per-CPU TLBs):
`{"<cpu>": {"entries": [{"vpage", "frame", "perm", "stale", "freed"}, ...],
"irqs_off": bool, "ipi_pending": [[first, end] | "all", ...]}}`, read together with its
"vmemmap" member (the page table). `tlb_table` lays it out as one row per vmemmap page
(its PTE) and one column per CPU (its cached entry, or none); an entry that differs from
the PTE now is `stale`, with a reason in words: the CPU has a flush IPI pending that it
cannot take with interrupts off, or no flush has reached it yet; an entry whose frame has
been freed says so. `tlb_changes` names the entries a step made stale or left pointing
at a freed frame. An observation without a "tlb" member (the model without TLBs) has no
table.

Leaves out: drawing (the HTML template and the text renderer decide) and any judgement
of whether a stale entry is harmful (the checker's violations say that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pagerace.report.vmemmap_map import MAX_BOXES, parse_entries


@dataclass(frozen=True)
class TlbEntry:
    """One cached translation of one CPU; `pte` is the page table's entry now and
    `reason` why a stale entry is still cached ("" when it is not stale)."""

    cpu: str
    vpage: int
    frame: int | None
    perm: str
    stale: bool
    freed: bool
    pte: str
    reason: str = ""

    @property
    def text(self) -> str:
        marks = (" stale" if self.stale else "") + (" freed" if self.freed else "")
        return f"f{self.frame} {self.perm}{marks}"

    @property
    def classes(self) -> str:
        return " ".join(["tlb-entry", self.perm] + (["stale"] if self.stale else [])
                        + (["freed"] if self.freed else []))

    @property
    def cached(self) -> str:
        return f"vmemmap[{self.vpage}] -> {_pte_text(self.frame, self.perm)}"

    def why(self) -> str:
        """", but the PTE now: hole: <reason>; frame 1 has been freed", or ""."""
        out = f", but the PTE now: {self.pte}: {self.reason}" if self.stale else ""
        return out + (f"; frame {self.frame} has been freed" if self.freed else "")

    @property
    def title(self) -> str:
        return f"CPU {self.cpu} caches {self.cached}{self.why()}"


@dataclass(frozen=True)
class TlbCpu:
    cpu: str
    irqs_off: bool
    pending: tuple[str, ...]  # the pending flush IPIs, described

    @property
    def label(self) -> str:
        return f"CPU {self.cpu}"

    @property
    def state(self) -> str:
        """"irqs off, flush IPI pending (vmemmap[4..7])", or ""."""
        parts = ["irqs off"] if self.irqs_off else []
        if self.pending:
            parts.append(f"flush IPI pending ({', '.join(self.pending)})")
        return ", ".join(parts)


@dataclass
class TlbRow:
    vpage: int
    pte: str  # "frame 64 (ro)", "hole", or "not shown"
    perm: str | None
    cells: list[TlbEntry | None]


@dataclass
class TlbTable:
    cpus: list[TlbCpu]
    rows: list[TlbRow] = field(default_factory=list)

    def entries(self) -> list[TlbEntry]:
        return [c for r in self.rows for c in r.cells if c is not None]

    def stale(self) -> list[TlbEntry]:
        return [e for e in self.entries() if e.stale]


def _pte_text(frame: int | None, perm: str | None) -> str:
    if frame is None:
        return "hole"
    return f"frame {frame} ({perm})" if perm else f"frame {frame}"


def _requests(raw: Any) -> list[tuple[int, int] | None]:
    """Pending flush requests: (first, end) or None for a flush of everything."""
    out: list[tuple[int, int] | None] = []
    for r in raw if isinstance(raw, list) else []:
        if isinstance(r, list) and len(r) == 2 and all(isinstance(x, int) for x in r):
            out.append((r[0], r[1]))
        elif r == "all" or r == []:
            out.append(None)
    return out


def _describe_request(r: tuple[int, int] | None) -> str:
    return "all" if r is None else f"vmemmap[{r[0]}..{r[1] - 1}]"


def stale_reason(cpu: str, irqs_off: bool, pending: list[tuple[int, int] | None],
                 vpage: int) -> str:
    """Why CPU `cpu` still holds a stale entry for `vpage`."""
    covers = [r for r in pending if r is None or r[0] <= vpage < r[1]]
    if covers and irqs_off:
        return f"CPU {cpu} has not handled the flush yet (interrupts off)"
    if covers:
        return f"CPU {cpu} has a flush IPI pending"
    if irqs_off:
        return f"no flush has reached CPU {cpu} yet (interrupts off)"
    return f"no flush has reached CPU {cpu} yet"


def _entry(cpu: str, info: dict[str, Any], raw: dict[str, Any], pte: str) -> TlbEntry:
    vpage, frame = raw["vpage"], raw.get("frame")
    stale = bool(raw.get("stale"))
    reason = stale_reason(cpu, bool(info.get("irqs_off")), _requests(info.get("ipi_pending")),
                          vpage) if stale else ""
    return TlbEntry(cpu, vpage, frame if isinstance(frame, int) else None,
                    str(raw.get("perm") or ""), stale, bool(raw.get("freed")), pte, reason)


def _cpus(tlb: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return sorted(((str(c), v) for c, v in tlb.items() if isinstance(v, dict)),
                  key=lambda cv: (len(cv[0]), cv[0]))


def tlb_table(observation: Any) -> TlbTable | None:
    """The page table with each CPU's cached entries, or None without per-CPU TLBs."""
    if not isinstance(observation, dict):
        return None
    tlb = observation.get("tlb")
    if not isinstance(tlb, dict) or not tlb:
        return None
    ptes = {v: (f, p) for v, f, p in parse_entries(observation.get("vmemmap"))}
    cpus = _cpus(tlb)
    cached: dict[tuple[str, int], dict[str, Any]] = {}
    for cpu, info in cpus:
        for e in info.get("entries") or []:
            if isinstance(e, dict) and isinstance(e.get("vpage"), int):
                cached[(cpu, e["vpage"])] = e
    vpages = {v for _, v in cached}
    vpages |= set(ptes) if len(ptes) <= MAX_BOXES else set()
    table = TlbTable([TlbCpu(cpu, bool(info.get("irqs_off")),
                             tuple(_describe_request(r)
                                   for r in _requests(info.get("ipi_pending"))))
                      for cpu, info in cpus])
    for v in sorted(vpages):
        frame, perm = ptes.get(v, (None, None))
        pte = _pte_text(frame, perm) if v in ptes else "not shown"
        cells = [_entry(cpu, info, cached[(cpu, v)], pte) if (cpu, v) in cached else None
                 for cpu, info in cpus]
        table.rows.append(TlbRow(v, pte, perm if v in ptes else None, cells))
    return table


def stale_vpages(table: TlbTable | None) -> dict[int, list[str]]:
    """vmemmap page -> the titles of the stale entries cached for it."""
    out: dict[int, list[str]] = {}
    for e in table.stale() if table is not None else []:
        out.setdefault(e.vpage, []).append(e.title)
    return out


def tlb_changes(prev: Any, cur: Any) -> list[str]:
    """The entries that are stale now but were not before, and those whose frame has
    been freed since the previous observation."""
    before = tlb_table(prev)
    now = tlb_table(cur)
    if before is None or now is None:
        return []
    old = {(e.cpu, e.vpage): e for e in before.entries()}
    lines = []
    for e in now.entries():
        was = old.get((e.cpu, e.vpage))
        same = was is not None and (was.frame, was.perm) == (e.frame, e.perm)
        if e.stale and not (same and was is not None and was.stale):
            lines.append(f"CPU {e.cpu}'s entry {e.cached} is stale (PTE: {e.pte}): "
                         f"{e.reason}" + ("; the frame is freed" if e.freed else ""))
        elif e.freed and not (same and was is not None and was.freed):
            lines.append(f"CPU {e.cpu}'s entry {e.cached} points at a freed frame")
    return lines
