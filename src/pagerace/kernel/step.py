"""The type of a modelled kernel function.

Every modelled kernel function that touches shared memory is a generator of engine ops
(`pagerace.engine.ops`), one op per atomic step, called with `yield from`; its return
value is the C function's. This module is the ground floor of the kernel layer: it imports
nothing of it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pagerace.engine.ops import Op

Gen = Generator[Op, Any, Any]

__all__ = ["Gen"]
