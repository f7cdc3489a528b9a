"""Stable fingerprints of states: a SHA-256 over a canonical, type-tagged encoding.

Never Python's `hash()` (it depends on PYTHONHASHSEED for str). Values are tagged by type
so that `0`, `False`, `0.0` and `"0"` never collide, and dict items are sorted by their
encoded keys so that insertion order does not matter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping
from typing import Any


def encode(value: Any) -> bytes:
    """Canonical bytes of an immutable value (None, bool, int, float, str, tuples, dicts)."""
    if value is None:
        return b"N"
    if value is True:
        return b"T"
    if value is False:
        return b"F"
    if isinstance(value, int):
        return b"i%d;" % value
    if isinstance(value, float):
        return b"f" + value.hex().encode() + b";"
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return b"s%d:" % len(raw) + raw
    if isinstance(value, bytes):
        return b"b%d:" % len(value) + value
    if isinstance(value, tuple | list):
        return b"(" + b"".join(encode(v) for v in value) + b")"
    if isinstance(value, frozenset | set):
        return b"{" + b"".join(sorted(encode(v) for v in value)) + b"}"
    if isinstance(value, Mapping):
        items = sorted((encode(k), encode(v)) for k, v in value.items())
        return b"<" + b"".join(k + v for k, v in items) + b">"
    if hasattr(value, "value") and hasattr(value, "name"):  # enum members
        return b"e" + encode(type(value).__name__) + encode(value.name)
    raise TypeError(f"cannot fingerprint a value of type {type(value).__name__}")


def fingerprint(state: Mapping[Hashable, Any], results: tuple[Any, ...] = ()) -> str:
    """Hex digest identifying a state and the threads' return values."""
    h = hashlib.sha256()
    h.update(encode(dict(state)))
    h.update(encode(tuple(results)))
    return h.hexdigest()[:32]
