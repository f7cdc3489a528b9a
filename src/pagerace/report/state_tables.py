"""The rest of an observation as small tables, with the cells a step changed marked.

Every member of an observation except "vmemmap" (drawn as a picture, see
vmemmap_map.py) and "tlb" (drawn beside it, see tlb_view.py) becomes a table, chosen by
shape:

- an object of objects ("frames": {"7": {"shared": true}}) -> one row per key;
- a list of objects ("pages": [{"pfn": 5, "refcount": 1, "flags": [...]}]) -> one row
  per element, matched to the previous observation by "pfn" / "id" / "frame" / "vpage"
  when every row has one, else by position;
- an object of scalars -> name / value rows; top-level scalars and lists are collected
  into one "state" table; empty objects and lists are left out.

A cell is marked `changed` when the same cell of the previous observation held a
different value (rows that are new count as changed).

Leaves out: nesting deeper than one level (shown as compact JSON in the cell).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ROW_KEYS = ("pfn", "id", "frame", "vpage")
DRAWN = ("vmemmap", "tlb")  # members the map shows


@dataclass(frozen=True)
class Cell:
    text: str
    changed: bool = False


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def cell_text(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list) and all(isinstance(x, str | int) for x in v):
        return " ".join(str(x) for x in v) if v else "-"
    if isinstance(v, dict | list):
        return json.dumps(v, sort_keys=True)
    return str(v)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        cols.extend(k for k in r if k not in cols)
    return cols


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and len(name) > 1 else name


def _row_key(rows: list[dict[str, Any]]) -> str | None:
    for k in ROW_KEYS:
        if rows and all(k in r for r in rows):
            return k
    return None


def _records_table(title: str, rows: list[dict[str, Any]], prev: Any) -> Table:
    cols = _columns(rows)
    prev_rows = [r for r in prev if isinstance(r, dict)] if isinstance(prev, list) else None
    key = _row_key(rows)
    by_key: dict[str, dict[str, Any]] = {}
    if prev_rows is not None and key is not None:
        by_key = {json.dumps(r.get(key)): r for r in prev_rows}
    table = Table(title, cols)
    for i, r in enumerate(rows):
        old: dict[str, Any] | None = None
        if prev_rows is not None:
            if key is not None:
                old = by_key.get(json.dumps(r.get(key)))
            elif i < len(prev_rows):
                old = prev_rows[i]
        table.rows.append([Cell(cell_text(r.get(c)),
                                prev_rows is not None and (old is None or old.get(c) != r.get(c)))
                           for c in cols])
    return table


def _keyed_table(title: str, members: dict[str, Any], prev: Any) -> Table:
    inner = [v for v in members.values() if isinstance(v, dict)]
    cols = [_singular(title)] + _columns(inner)
    prev = prev if isinstance(prev, dict) else None
    table = Table(title, cols)
    for k in sorted(members, key=lambda s: (len(str(s)), str(s))):
        v = members[k]
        old = prev.get(k) if prev is not None else None
        old = old if isinstance(old, dict) else None
        row = [Cell(str(k), prev is not None and old is None)]
        for c in cols[1:]:
            row.append(Cell(cell_text(v.get(c)),
                            prev is not None and (old is None or old.get(c) != v.get(c))))
        table.rows.append(row)
    return table


def _pairs_table(title: str, pairs: dict[str, Any], prev: Any) -> Table:
    prev = prev if isinstance(prev, dict) else None
    table = Table(title, ["name", "value"])
    for k, v in pairs.items():
        changed = prev is not None and (k not in prev or prev[k] != v)
        table.rows.append([Cell(str(k)), Cell(cell_text(v), changed)])
    return table


def state_tables(observation: Any, prev: Any = None) -> list[Table]:
    """The tables for every member but those in DRAWN; `prev` is the previous
    observation."""
    if not isinstance(observation, dict):
        return []
    prev = prev if isinstance(prev, dict) else None
    tables: list[Table] = []
    scalars: dict[str, Any] = {}
    for name, value in observation.items():
        if name in DRAWN:
            continue
        before = prev.get(name) if prev is not None else None
        if isinstance(value, dict | list) and not value:
            continue  # nothing to show
        if isinstance(value, dict) and value and all(isinstance(v, dict)
                                                     for v in value.values()):
            tables.append(_keyed_table(name, value, before))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append(_records_table(name, value, before))
        elif isinstance(value, dict):
            tables.append(_pairs_table(name, value, before))
        else:
            scalars[name] = value
    if scalars:
        prev_scalars = ({k: v for k, v in prev.items() if k in scalars}
                        if prev is not None else None)
        tables.append(_pairs_table("state", scalars, prev_scalars))
    return tables
