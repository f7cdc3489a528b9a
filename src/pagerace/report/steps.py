"""What one trace step did, in words: the kernel function and its memory effect.

Shared by the text and the HTML renderers, working on the JSON form of a step (see
trace_json.py). For each step:

- `step_function`: the call chain below the CPU's own function, innermost last
  ("get_page_unless_zero > page_ref_add_unless > atomic_add_unless"), else the op label;
- `step_effects`: one `Effect` per thing the reader needs: each note the kernel model
  attached (a memory access is spelled out from its structured fields: access, field,
  pfn, vmemmap page, frame, permission, value read / written, for a compare-and-swap the
  compare outcome and whether a write cycle happened; RCU notes are marked as such), the
  vmemmap remaps the step made (from the observations), the raw locations read and
  written when the step attached no note, and the value the step returned;
- TLB events: a flush, the sending of flush IPIs, a CPU's handling of a pending IPI and
  an eviction are effects of their own kinds ("flush", "ipi", "evict"), and the TLB
  entries the step made stale (or left pointing at a freed frame) one "tlb" effect each
  (tlb_view.py);
- `step_kinds`: the classes of a step for the swim lanes: "tlb-flush", "ipi-send",
  "ipi-handle", "ipi-wait" (the sender's csd_lock_wait, known by its label: an Await
  carries no note), "tlb-evict".

Leaves out: colour and layout (the renderers decide), and notes' fields it does not know
(their text is still shown).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pagerace.report.tlb_view import tlb_changes
from pagerace.report.vmemmap_map import vmemmap_changes

RAW_LIMIT = 4
_RCU_TEXT = re.compile(r"\b(rcu|grace period|synchronize_rcu|call_rcu)", re.IGNORECASE)
_CSD_WAIT = re.compile(r"\bcsd_lock_wait\b")
TLB_EFFECTS = {"tlb-flush": "flush", "ipi": "ipi", "tlb-evict": "evict"}
STEP_KINDS = {  # class -> legend text
    "tlb-flush": "TLB flush",
    "ipi-send": "flush IPI sent",
    "ipi-handle": "flush IPI handled",
    "ipi-wait": "waits for the IPI (csd_lock_wait)",
    "tlb-evict": "TLB eviction",
}


@dataclass(frozen=True)
class Effect:
    """One line of a step's description. `kind` selects the style: memory, fault, rcu,
    flush, ipi, evict, tlb, note, vmemmap, read, write, result."""

    kind: str
    text: str
    detail: str = ""


def fmt_value(v: Any) -> str:
    if isinstance(v, str):
        return v
    if v is None:
        return "None"
    return json.dumps(v) if isinstance(v, bool | list | dict) else str(v)


def _inner_stack(step: dict[str, Any]) -> list[str]:
    """The stack below the CPU's own function, repeated names (a wrapper calling the
    function of the same name) shown once."""
    out: list[str] = []
    for name in [str(s) for s in step.get("stack") or []][1:]:
        if not out or out[-1] != name:
            out.append(name)
    return out


def step_function(step: dict[str, Any]) -> str:
    """The call chain below the CPU's function, or the op label when there is none."""
    inner = _inner_stack(step)
    return " > ".join(inner) if inner else str(step.get("label", ""))


def step_op(step: dict[str, Any]) -> str:
    """The op label, or "" when it only repeats the innermost function name."""
    label = str(step.get("label", ""))
    inner = _inner_stack(step)
    if not inner or label == inner[-1]:
        return ""
    return label


def is_rcu_note(note: dict[str, Any]) -> bool:
    """An RCU read-side section or grace-period event."""
    if note.get("access") == "rcu" or note.get("kind") in ("rcu", "grace-period"):
        return True
    if any(str(k).startswith(("rcu", "gp", "grace")) for k in note):
        return True
    return bool(_RCU_TEXT.search(f"{note.get('func', '')} {note.get('text', '')}"))


def step_kinds(step: dict[str, Any]) -> list[str]:
    """The TLB classes of a step (keys of STEP_KINDS), in that order; [] for most."""
    kinds: set[str] = set()
    notes = [n for n in step.get("notes") or [] if isinstance(n, dict)]
    for n in notes:
        access = n.get("access")
        if access == "tlb-flush":
            kinds.add("tlb-flush")
            if n.get("mode") == "ipi":
                kinds.add("ipi-send")
        elif access == "ipi":
            kinds.add("ipi-handle")
        elif access == "tlb-evict":
            kinds.add("tlb-evict")
    if not notes and _CSD_WAIT.search(str(step.get("label", ""))):
        kinds.add("ipi-wait")
    return [k for k in STEP_KINDS if k in kinds]


def is_memory_note(note: dict[str, Any]) -> bool:
    """An access to a descriptor field with its route: pfn plus vmemmap page or frame."""
    return ("pfn" in note and ("vpage" in note or "frame" in note)
            and note.get("access") != "rcu")


def is_fault_note(note: dict[str, Any]) -> bool:
    """The access that faults: through a hole, or a write cycle on a read-only page."""
    if not is_memory_note(note):
        return False
    if "frame" in note and note["frame"] is None:
        return True
    writes = note.get("write_cycle") or note.get("access") == "write"
    return note.get("perm") == "ro" and bool(writes)


def accessed(step: dict[str, Any]) -> tuple[set[int], set[int]]:
    """(vmemmap pages, frames) the step's memory notes went through."""
    vpages: set[int] = set()
    frames: set[int] = set()
    for n in step.get("notes") or []:
        if isinstance(n, dict) and is_memory_note(n):
            if isinstance(n.get("vpage"), int):
                vpages.add(n["vpage"])
            if isinstance(n.get("frame"), int):
                frames.add(n["frame"])
    return vpages, frames


def describe_access(note: dict[str, Any], arrow: str = "->") -> str:
    """"cmpxchg _refcount of pfn 5 via vmemmap page 2 -> frame 7 (ro): read 1, ..."."""
    head = " ".join(str(x) for x in (note.get("access"), note.get("field")) if x)
    where: list[str] = []
    if "pfn" in note:
        where.append(f"pfn {fmt_value(note['pfn'])}")
    if "vpage" in note:
        where.append(f"via vmemmap page {fmt_value(note['vpage'])}")
    if "frame" in note:
        frame = note["frame"]
        target = "hole (unmapped)" if frame is None else f"frame {fmt_value(frame)}"
        where.append(f"{arrow} {target}")
    if note.get("perm"):
        where.append(f"({note['perm']})")
    if note.get("tlb"):
        where.append(f"[{note['tlb']}]")
    text = " ".join(p for p in (head, "of" if head and "pfn" in note else "", *where) if p)
    return text + _values(note, arrow)


def _values(note: dict[str, Any], arrow: str) -> str:
    access = str(note.get("access", ""))
    parts: list[str] = []
    if "old" in note and "new" in note:
        parts.append(f"{fmt_value(note['old'])} {arrow} {fmt_value(note['new'])}")
    elif "value" in note:
        verb = "wrote" if access == "write" else "read"
        parts.append(f"{verb} {fmt_value(note['value'])}")
    if "expected" in note:
        parts.append(f"expected {fmt_value(note['expected'])}")
    if "new" in note and "old" not in note:
        parts.append(f"new {fmt_value(note['new'])}")
    if "compare_failed" in note:
        parts.append("compare failed" if note["compare_failed"] else "compare succeeded")
    if "write_cycle" in note:
        parts.append("write cycle" if note["write_cycle"] else "no write cycle")
    return ": " + ", ".join(parts) if parts else ""


def _note_effect(note: dict[str, Any], arrow: str) -> Effect:
    text = str(note.get("text", "")).strip()
    if is_memory_note(note):
        main = describe_access(note, arrow)
        # the model's text usually starts with the same route: keep only what it adds
        if text.startswith("pfn ") and ": " in text:
            text = text.split(": ", 1)[1]
        return Effect("fault" if is_fault_note(note) else "memory", main,
                      text if text != main else "")
    if note.get("access") in TLB_EFFECTS:
        return Effect(TLB_EFFECTS[str(note["access"])], text or str(note["access"]))
    if is_rcu_note(note):
        return Effect("rcu", text or "rcu event")
    return Effect("note", text or json.dumps(note, sort_keys=True))


def step_effects(step: dict[str, Any], prev_observation: Any = None,
                 arrow: str = "->") -> list[Effect]:
    """Everything one step did, in reading order."""
    notes = [n for n in step.get("notes") or [] if isinstance(n, dict)]
    out = [_note_effect(n, arrow) for n in notes]
    if not notes and _RCU_TEXT.search(str(step.get("label", ""))):
        out.append(Effect("rcu", str(step.get("label"))))
    cur = step.get("observation")
    if isinstance(prev_observation, dict) and isinstance(cur, dict):
        for line in vmemmap_changes(prev_observation.get("vmemmap"), cur.get("vmemmap"),
                                    arrow):
            out.append(Effect("vmemmap", line))
        out += [Effect("tlb", line) for line in tlb_changes(prev_observation, cur)]
    reads = step.get("reads") or []
    writes = step.get("writes") or []
    if not notes:
        for loc, value in reads[:RAW_LIMIT]:
            out.append(Effect("read", f"read {loc} = {fmt_value(value)}"))
        if len(reads) > RAW_LIMIT:
            out.append(Effect("read", f"... and {len(reads) - RAW_LIMIT} more reads"))
        for loc, old, new in writes[:RAW_LIMIT]:
            out.append(Effect("write",
                              f"write {loc}: {fmt_value(old)} {arrow} {fmt_value(new)}"))
        if len(writes) > RAW_LIMIT:
            out.append(Effect("write", f"... and {len(writes) - RAW_LIMIT} more writes"))
    result = step.get("result")
    plain_read = not notes and len(reads) == 1 and reads[0][1] == result
    if result is not None and not plain_read:
        out.append(Effect("result", f"returns {fmt_value(result)}"))
    return out
