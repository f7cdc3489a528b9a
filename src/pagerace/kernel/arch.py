"""Architecture profiles: what a compare-and-swap does to a read-only mapping.

Models (kernel-background.md section 4):
- x86: LOCK CMPXCHG always produces a write cycle; when the compare fails it writes the old
  value back (Intel SDM, CMPXCHG). A cmpxchg on a read-only page faults either way.
- arm64-lse: CAS; "if the comparison is not equal, the architecture permits writing the
  value read": a failed CAS may or may not write, so the checker explores both outcomes.
- llsc: load-exclusive / compare / branch out before the store-conditional (arm64 without
  LSE, powerpc, riscv without Zacas, loongarch): no store, no fault, when the compare fails.
- riscv-zacas: amocas "always requires write permissions": faults even when it fails.

Leaves out: s390 (CS stores back on some models; behaves as x86 here if added), memory
ordering differences between architectures (the model is sequentially consistent).
"""

from __future__ import annotations

import enum
import platform
from dataclasses import dataclass


class FailedCasWrite(enum.Enum):
    """Whether a compare-and-swap whose compare fails performs a write cycle."""

    ALWAYS = "always"
    MAYBE = "maybe"
    NEVER = "never"


@dataclass(frozen=True)
class ArchProfile:
    name: str
    failed_cas_writes: FailedCasWrite
    instruction: str
    description: str

    def failed_cas_may_fault(self) -> bool:
        return self.failed_cas_writes is not FailedCasWrite.NEVER

    def failed_cas_must_fault(self) -> bool:
        return self.failed_cas_writes is FailedCasWrite.ALWAYS


PROFILES: dict[str, ArchProfile] = {
    p.name: p
    for p in (
        ArchProfile("x86", FailedCasWrite.ALWAYS, "lock cmpxchg",
                    "LOCK CMPXCHG always writes: faults on a read-only page even when the "
                    "compare fails"),
        ArchProfile("arm64-lse", FailedCasWrite.MAYBE, "cas",
                    "a failed CAS may write the value read: both outcomes are explored"),
        ArchProfile("llsc", FailedCasWrite.NEVER, "ldxr/stxr",
                    "LL/SC branches out before the store-conditional: a failed compare "
                    "never stores"),
        ArchProfile("riscv-zacas", FailedCasWrite.ALWAYS, "amocas",
                    "amocas always requires write permission"),
    )
}

ARCH_NAMES: tuple[str, ...] = tuple(PROFILES)


def get_profile(name: str) -> ArchProfile:
    """The profile called `name`; ValueError naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown architecture {name!r} (known: {', '.join(ARCH_NAMES)})"
        ) from None


def host_profile(machine: str | None = None, cpu_features: str | None = None) -> ArchProfile:
    """The profile that describes this host's compare-and-swap.

    `machine` is `platform.machine()`; `cpu_features` the text of /proc/cpuinfo (read when
    not given). Unknown machines are treated as LL/SC.
    """
    m = (machine or platform.machine()).lower()
    if m in ("x86_64", "amd64", "i386", "i686", "x86"):
        return PROFILES["x86"]
    if cpu_features is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                cpu_features = f.read()
        except OSError:
            cpu_features = ""
    words = set(cpu_features.replace(":", " ").replace("_", " ").split())
    if m in ("aarch64", "arm64"):
        return PROFILES["arm64-lse"] if "atomics" in words else PROFILES["llsc"]
    if m.startswith("riscv"):
        return PROFILES["riscv-zacas"] if "zacas" in cpu_features.lower() else PROFILES["llsc"]
    return PROFILES["llsc"]
