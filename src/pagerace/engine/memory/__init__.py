"""Memory models the engine can explore a program under (`Program.memory`).

- "sc": sequential consistency, the engine's default (no model object: plain values).
- "tso": x86-TSO as messages and views (tso.py).
- "relaxed": the promise-free fragment of Promising-ARM/RISC-V (promising.py), with
  per-CPU store buffers (storebuffer.py);
- "relaxed-nosb": the same without store buffers (no store->store reordering).

Under a weak model the engine keeps per-location message histories and per-thread views
in its state (history.py), hands every step a `WeakStepView` (weak_view.py) and explores
each step's alternatives - which message each load reads - as outcomes (choices.py).
"""

from __future__ import annotations

from pagerace.engine.memory.base import MemoryModel
from pagerace.engine.memory.promising import Relaxed
from pagerace.engine.memory.tso import Tso

MODELS = ("sc", "tso", "relaxed", "relaxed-nosb")


def make_model(name: str) -> MemoryModel | None:
    """The model object for `name` (None for "sc"); ValueError for an unknown name."""
    if name == "sc":
        return None
    if name == "tso":
        return Tso()
    if name == "relaxed":
        return Relaxed()
    if name == "relaxed-nosb":
        return Relaxed(store_buffer=False)
    raise ValueError(f"unknown memory model {name!r} (known: {', '.join(MODELS)})")


def describe(name: str) -> str:
    model = make_model(name)
    return "sequential consistency" if model is None else model.follows


__all__ = ["MODELS", "MemoryModel", "describe", "make_model"]
