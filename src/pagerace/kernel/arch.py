"""Architecture profiles, per primitive: what each kernel atomic compiles to, per arch.

The question "does this fault on a read-only struct page?" is asked of a primitive, not of
an architecture: x86 and arm64 have no arch_atomic_fetch_add_unless(), so
atomic_add_unless() takes the generic fallback of include/linux/atomic/atomic-arch-fallback.h
(raw_atomic_fetch_add_unless: `c = raw_atomic_read(v); do { if (unlikely(c == u)) break; }
while (!raw_atomic_try_cmpxchg(v, &c, c + a));`) and so runs the arch's cmpxchg; riscv
and loongarch define their own LL/SC arch_atomic_fetch_add_unless() that compares before
the store-conditional and never runs a CAS (riscv uses amocas, under Zacas, only in
arch_cmpxchg()).

Each `Primitive` entry records, for one (architecture, kernel atomic): the instruction
sequence the kernel runs, the arch source file it comes from, its `Sequence` shape (what the
model executes), whether a store it does not need still writes (`NeedlessStore`: a failed
compare, a value equal to u; an unconditional RMW or a store always writes, a load never),
and the memory ordering it implies when it stores and when it does not (data for weak
memory models; the checker itself is sequentially consistent).

Sources read (torvalds/linux): arch/x86/include/asm/{atomic,cmpxchg,barrier}.h;
arch/arm64/include/asm/{atomic,atomic_lse,atomic_ll_sc,barrier}.h;
arch/riscv/include/asm/{atomic,cmpxchg,barrier}.h (amocas.w.aqrl under Zacas in
__arch_cmpxchg, lr.w/sc.w.rl otherwise); arch/loongarch/include/asm/{atomic,cmpxchg,
barrier}.h. Architecture facts: Intel SDM (LOCK CMPXCHG always writes), Arm ARM (a failed
CAS "permits writing the value read"), RISC-V Zacas (amocas "always requires write
permissions"); docs/kernel-record.md section 4.

Leaves out: powerpc and s390 (powerpc has its own lwarx/stwcx. fetch_add_unless and would
look like loongarch; s390 CS stores back on some models, like x86); 64-bit atomics;
arm64 LSE out-of-line LL/SC fallback selection at boot (a profile is one CPU kind);
riscv Zabha/Zalasr variants; the loongarch no-store ordering of __WEAK_LLSC_MB (taken as
relaxed: the barrier depends on the CPU configuration).
"""

from __future__ import annotations

import enum
import platform
from collections.abc import Mapping
from dataclasses import dataclass


class NeedlessStore(enum.Enum):
    """Whether a primitive writes when it need not store (compare failed, value == u)."""

    ALWAYS = "always"
    MAYBE = "maybe"  # explored as two outcomes
    NEVER = "never"


FailedCasWrite = NeedlessStore  # the name this enum had when only cmpxchg was profiled


class Ordering(enum.Enum):
    FULL = "full barrier"
    ACQUIRE = "acquire"
    RELEASE = "release"
    RELAXED = "relaxed"


class Sequence(enum.Enum):
    """The shape of an instruction sequence, as the model executes it (one step each,
    except FALLBACK: a read step, then one cmpxchg step per loop iteration)."""

    LOAD = "load"
    STORE = "store"
    RMW = "unconditional read-modify-write"
    CAS = "compare-and-swap instruction"
    LLSC = "load-exclusive / compare / store-conditional loop"
    FALLBACK = "generic fallback: atomic_read, then a try_cmpxchg loop"


PRIMITIVES: tuple[str, ...] = (
    "atomic_read", "atomic_read_acquire", "atomic_set_release", "atomic_inc",
    "atomic_add_return", "atomic_dec_and_test", "cmpxchg", "atomic_fetch_add_unless",
)


@dataclass(frozen=True)
class Primitive:
    """One kernel atomic on one architecture."""

    name: str
    insns: str
    source: str
    sequence: Sequence
    needless_store: NeedlessStore
    ordering: Ordering
    ordering_no_store: Ordering


def _load(name: str, insns: str, source: str, ordering: Ordering) -> Primitive:
    return Primitive(name, insns, source, Sequence.LOAD, NeedlessStore.NEVER, ordering,
                     ordering)


def _store(insns: str, source: str) -> Primitive:
    return Primitive("atomic_set_release", insns, source, Sequence.STORE,
                     NeedlessStore.ALWAYS, Ordering.RELEASE, Ordering.RELEASE)


def _rmw(name: str, insns: str, source: str, ordering: Ordering) -> Primitive:
    return Primitive(name, insns, source, Sequence.RMW, NeedlessStore.ALWAYS, ordering,
                     ordering)


def _cond(name: str, insns: str, source: str, seq: Sequence, needless: NeedlessStore,
          no_store: Ordering) -> Primitive:
    return Primitive(name, insns, source, seq, needless, Ordering.FULL, no_store)


FALLBACK_SRC = "include/linux/atomic/atomic-arch-fallback.h"
X86 = "arch/x86/include/asm/"
A64 = "arch/arm64/include/asm/"
RV = "arch/riscv/include/asm/"
LA = "arch/loongarch/include/asm/"


def _x86() -> tuple[Primitive, ...]:
    return (
        _load("atomic_read", "mov", X86 + "atomic.h", Ordering.RELAXED),
        _load("atomic_read_acquire", "mov (TSO: barrier() only)", X86 + "barrier.h",
              Ordering.ACQUIRE),
        _store("mov (TSO: barrier() only)", X86 + "barrier.h"),
        _rmw("atomic_inc", "lock incl", X86 + "atomic.h", Ordering.FULL),
        _rmw("atomic_add_return", "lock xadd", X86 + "atomic.h", Ordering.FULL),
        _rmw("atomic_dec_and_test", "lock decl; sete", X86 + "atomic.h", Ordering.FULL),
        _cond("cmpxchg", "lock cmpxchg", X86 + "cmpxchg.h", Sequence.CAS,
              NeedlessStore.ALWAYS, Ordering.FULL),
        _cond("atomic_fetch_add_unless", "mov; cmp; je; lock cmpxchg; jne (loop)",
              FALLBACK_SRC, Sequence.FALLBACK, NeedlessStore.ALWAYS, Ordering.FULL),
    )


def _arm64(lse: bool) -> tuple[Primitive, ...]:
    src = A64 + ("atomic_lse.h" if lse else "atomic_ll_sc.h")
    if lse:
        inc, add_ret, dec = "stadd", "ldaddal; add", "neg; ldaddal; add"
        cas, cas_needless, cas_no_store = "casal", NeedlessStore.MAYBE, Ordering.ACQUIRE
    else:
        inc = "ldxr; add; stxr; cbnz"
        add_ret = "ldxr; add; stlxr; cbnz; dmb ish"
        dec = "ldxr; sub; stlxr; cbnz; dmb ish"
        cas = "ldxr; eor; cbnz; stlxr; cbnz; dmb ish"
        cas_needless, cas_no_store = NeedlessStore.NEVER, Ordering.RELAXED
    return (
        _load("atomic_read", "ldr", A64 + "atomic.h", Ordering.RELAXED),
        _load("atomic_read_acquire", "ldar", A64 + "barrier.h", Ordering.ACQUIRE),
        _store("stlr", A64 + "barrier.h"),
        _rmw("atomic_inc", inc, src, Ordering.RELAXED),
        _rmw("atomic_add_return", add_ret, src, Ordering.FULL),
        _rmw("atomic_dec_and_test", dec + " (fallback: dec_return() == 0)", src,
             Ordering.FULL),
        _cond("cmpxchg", cas, src, Sequence.CAS if lse else Sequence.LLSC, cas_needless,
              cas_no_store),
        _cond("atomic_fetch_add_unless", f"ldr; cmp; b.eq; {cas} (loop)", FALLBACK_SRC,
              Sequence.FALLBACK, cas_needless, cas_no_store),
    )


def _riscv(zacas: bool) -> tuple[Primitive, ...]:
    if zacas:
        cas = _cond("cmpxchg", "amocas.w.aqrl", RV + "cmpxchg.h", Sequence.CAS,
                    NeedlessStore.ALWAYS, Ordering.FULL)
    else:
        cas = _cond("cmpxchg", "lr.w; bne; sc.w.rl; bnez; fence rw,rw", RV + "cmpxchg.h",
                    Sequence.LLSC, NeedlessStore.NEVER, Ordering.RELAXED)
    return (
        _load("atomic_read", "lw", RV + "atomic.h", Ordering.RELAXED),
        _load("atomic_read_acquire", "lw; fence r,rw", RV + "barrier.h", Ordering.ACQUIRE),
        _store("fence rw,w; sw", RV + "barrier.h"),
        _rmw("atomic_inc", "amoadd.w", RV + "atomic.h", Ordering.RELAXED),
        _rmw("atomic_add_return", "amoadd.w.aqrl; add", RV + "atomic.h", Ordering.FULL),
        _rmw("atomic_dec_and_test", "amoadd.w.aqrl (-1) (fallback: dec_return() == 0)",
             RV + "atomic.h", Ordering.FULL),
        cas,
        # its own LR/SC loop, with or without Zacas: never amocas, no separate plain read
        _cond("atomic_fetch_add_unless", "lr.w; beq; add; sc.w.rl; bnez; fence rw,rw",
              RV + "atomic.h", Sequence.LLSC, NeedlessStore.NEVER, Ordering.RELAXED),
    )


def _loongarch() -> tuple[Primitive, ...]:
    return (
        _load("atomic_read", "ld.w", LA + "atomic.h", Ordering.RELAXED),
        _load("atomic_read_acquire", "ld.w; dbar", LA + "barrier.h", Ordering.ACQUIRE),
        _store("dbar; st.w", LA + "barrier.h"),
        _rmw("atomic_inc", "amadd_db.w", LA + "atomic.h", Ordering.FULL),
        _rmw("atomic_add_return", "amadd_db.w; add.w (fallback fences around _relaxed)",
             LA + "atomic.h", Ordering.FULL),
        _rmw("atomic_dec_and_test", "amadd_db.w (-1) (fallback: dec_return() == 0)",
             LA + "atomic.h", Ordering.FULL),
        _cond("cmpxchg", "ll.w; bne; move; sc.w; beqz; __WEAK_LLSC_MB", LA + "cmpxchg.h",
              Sequence.LLSC, NeedlessStore.NEVER, Ordering.RELAXED),
        _cond("atomic_fetch_add_unless", "ll.w; beq; add.w; sc.w; beqz; b; __WEAK_LLSC_MB",
              LA + "atomic.h", Sequence.LLSC, NeedlessStore.NEVER, Ordering.RELAXED),
    )


@dataclass(frozen=True)
class ArchProfile:
    name: str
    description: str
    primitives: Mapping[str, Primitive]

    def op(self, primitive: str) -> Primitive:
        """The entry for one kernel atomic (KeyError naming the known ones otherwise)."""
        try:
            return self.primitives[primitive]
        except KeyError:
            raise KeyError(f"{self.name} has no profile entry for {primitive!r} "
                           f"(known: {', '.join(PRIMITIVES)})") from None

    @property
    def instruction(self) -> str:
        """The kernel's cmpxchg() instruction(s) on this architecture."""
        return self.op("cmpxchg").insns

    @property
    def failed_cas_writes(self) -> NeedlessStore:
        """Whether the kernel's cmpxchg() writes when its compare fails."""
        return self.op("cmpxchg").needless_store

    def failed_cas_may_fault(self) -> bool:
        return self.failed_cas_writes is not NeedlessStore.NEVER

    def failed_cas_must_fault(self) -> bool:
        return self.failed_cas_writes is NeedlessStore.ALWAYS


def _profile(name: str, description: str, prims: tuple[Primitive, ...]) -> ArchProfile:
    table = {p.name: p for p in prims}
    assert tuple(table) == PRIMITIVES, name
    return ArchProfile(name, description, table)


PROFILES: dict[str, ArchProfile] = {
    p.name: p
    for p in (
        _profile("x86", "LOCK CMPXCHG always writes (the old value back when the compare "
                 "fails); atomic_add_unless() is the generic read + cmpxchg loop", _x86()),
        _profile("arm64-lse", "a failed CASAL may write the value read (both outcomes "
                 "explored); atomic_add_unless() is the generic read + cmpxchg loop",
                 _arm64(lse=True)),
        _profile("arm64-nolse", "LL/SC cmpxchg branches out before stlxr: no store on a "
                 "failed compare; atomic_add_unless() is the generic read + cmpxchg loop",
                 _arm64(lse=False)),
        _profile("riscv", "LR/SC everywhere: cmpxchg and atomic_fetch_add_unless() "
                 "branch out before sc.w: no store", _riscv(zacas=False)),
        _profile("riscv-zacas", "cmpxchg is amocas (always needs write permission); "
                 "atomic_fetch_add_unless() stays an LR/SC loop that never runs amocas",
                 _riscv(zacas=True)),
        _profile("loongarch", "LL/SC cmpxchg and its own LL/SC atomic_fetch_add_unless(): "
                 "no store when the compare fails", _loongarch()),
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


def host_profile(machine: str | None = None,
                 cpu_features: str | None = None) -> ArchProfile | None:
    """The profile of this host's kernel atomics (None for a machine without one).

    `machine` is `platform.machine()`; `cpu_features` the text of /proc/cpuinfo (read when
    not given): the arm64 "atomics" feature selects LSE, the riscv "zacas" extension Zacas.
    """
    m = (machine or platform.machine()).lower()
    if m in ("x86_64", "amd64", "i386", "i686", "x86"):
        return PROFILES["x86"]
    if m.startswith("loongarch"):
        return PROFILES["loongarch"]
    if not (m in ("aarch64", "arm64") or m.startswith("riscv")):
        return None
    if cpu_features is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                cpu_features = f.read()
        except OSError:
            cpu_features = ""
    if m.startswith("riscv"):
        return PROFILES["riscv-zacas" if "zacas" in cpu_features.lower() else "riscv"]
    words = set(cpu_features.replace(":", " ").replace("_", " ").split())
    return PROFILES["arm64-lse" if "atomics" in words else "arm64-nolse"]
