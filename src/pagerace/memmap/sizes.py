"""Byte sizes as a kernel developer writes them: 512GiB, 64TiB, 2M, 4k, 64.

Models the kernel's `memparse()` convention: every suffix is binary (K = KiB = 1024),
so `2M`, `2MB` and `2MiB` all mean 2 * 2^20 bytes; a bare number is a byte count. A
fraction is accepted when it comes to a whole number of bytes (`1.5G`).

Base page sizes are powers of two from 4 KiB (x86-64, arm64 4K) to 64 KiB (arm64 64K,
powerpc 64K); `format_size` prints sizes back in the largest binary unit that fits.

Leaves out: decimal (SI) units - `MB` is binary here, as on the kernel command line.
"""

from __future__ import annotations

import re
from fractions import Fraction

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40
PiB = 1 << 50

MIN_PAGE_SIZE = 4 * KiB
MAX_PAGE_SIZE = 64 * KiB

_UNITS: dict[str, int] = {"": 1, "b": 1}
for _letter, _factor in (("k", KiB), ("m", MiB), ("g", GiB), ("t", TiB), ("p", PiB)):
    for _suffix in (_letter, _letter + "b", _letter + "ib"):
        _UNITS[_suffix] = _factor

_SIZE_RE = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-z]*)$")

_PRINT_UNITS: tuple[tuple[str, int], ...] = (
    ("PiB", PiB),
    ("TiB", TiB),
    ("GiB", GiB),
    ("MiB", MiB),
    ("KiB", KiB),
)


class SizeError(ValueError):
    """A size that cannot be parsed or is out of range; the message is one clear line."""


def is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def ceil_div(a: int, b: int) -> int:
    """`DIV_ROUND_UP(a, b)` for non-negative integers."""
    return -(-a // b)


def parse_size(text: str, *, allow_zero: bool = False) -> int:
    """The number of bytes `text` denotes; SizeError if unparsable, negative or fractional."""
    s = text.strip().lower()
    if s.startswith("-"):
        raise SizeError(f"size {text!r} is negative")
    m = _SIZE_RE.match(s)
    if m is None:
        raise SizeError(
            f"cannot parse size {text!r} (expected a number with an optional binary "
            "suffix, e.g. 4K, 2MiB, 512GiB, 64TiB)"
        )
    number, suffix = m.groups()
    if suffix not in _UNITS:
        raise SizeError(f"unknown unit {suffix!r} in size {text!r} (use K, M, G, T or P)")
    value = Fraction(number) * _UNITS[suffix]
    if value.denominator != 1:
        raise SizeError(f"size {text!r} is not a whole number of bytes")
    size = int(value)
    if size == 0 and not allow_zero:
        raise SizeError(f"size {text!r} must be larger than zero")
    return size


def parse_page_size(text: str) -> int:
    """A base page size: a power of two between 4 KiB and 64 KiB."""
    size = parse_size(text)
    if not is_power_of_two(size) or not MIN_PAGE_SIZE <= size <= MAX_PAGE_SIZE:
        raise SizeError(
            f"unknown page size {text!r}: must be a power of two between 4KiB and 64KiB "
            "(4K, 8K, 16K, 32K or 64K)"
        )
    return size


def format_exact(n: int) -> str:
    """`format_size(n)` when that is exact, else the byte count: '2 MiB', '5000 bytes'."""
    text = format_size(n)
    return text if "." not in text else f"{n} bytes"


def format_size(n: int) -> str:
    """`n` bytes in the largest binary unit not above it: '28 KiB', '1.22 GiB', '64 B'."""
    magnitude = abs(n)
    for name, factor in _PRINT_UNITS:
        if magnitude >= factor:
            if n % factor == 0:
                return f"{n // factor} {name}"
            return f"{n / factor:.2f} {name}"
    return f"{n} B"
