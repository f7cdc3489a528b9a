"""Hand-assembled compare-and-swap functions, as raw machine code, one per host architecture.

Each function has the C signature

    uint32_t cas(uint32_t *addr, uint32_t expected, uint32_t new);

performs one 32-bit compare-and-swap on `*addr` and returns the value it read from memory
(the old value, whether or not the compare succeeded). The probe calls it with an `expected`
that differs from the stored value, so the compare fails; what is being measured is whether
that failed compare-and-swap still needs write permission.

Variants:
- x86-64 (System V ABI: rdi = addr, esi = expected, edx = new):
      89 f0          mov  eax, esi
      f0 0f b1 17    lock cmpxchg dword ptr [rdi], edx
      c3             ret
  CMPXCHG leaves the value read in eax when the compare fails, and eax already holds it
  (== expected) when the compare succeeds, so eax is the return value either way.
- aarch64 LSE (AAPCS64: x0 = addr, w1 = expected, w2 = new), for CPUs with `atomics`:
      cas  w1, w2, [x0]      w1 receives the value read
      mov  w0, w1
      ret
- aarch64 LL/SC, for CPUs without LSE (what the kernel's LL/SC cmpxchg does: branch out
  before the store-exclusive when the compare fails):
      retry: ldxr w3, [x0]
             cmp  w3, w1
             b.ne out
             stxr w4, w2, [x0]
             cbnz w4, retry
      out:   mov  w0, w3
             ret

The aarch64 words are built from the instruction field layouts (Arm ARM, A64 encoding
index) by the small encoders below; they were cross-checked against an assembler's output
and are unit-tested against those reference words, but they have NOT been executed on an
aarch64 CPU during development (only the x86-64 variant has been run).

Leaves out: 32-bit x86 (cdecl passes arguments on the stack; not written), riscv (amocas /
lr.w-sc.w), powerpc, s390, loongarch: the probe reports those hosts as unsupported. The
aarch64 code uses the relaxed forms (cas, ldxr/stxr) rather than the kernel's fully ordered
ones (casal, ldxr/stlxr + dmb): ordering does not change whether a write is attempted.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class CasCode:
    """One hand-assembled compare-and-swap function."""

    variant: str
    """Short name, passed to the child process: "x86-64", "aarch64-lse", "aarch64-llsc"."""
    instruction: str
    """The compare-and-swap instruction(s) under test, in assembler syntax."""
    assembly: tuple[str, ...]
    """The whole function, one instruction per item."""
    code: bytes
    """The machine code, little-endian."""
    executed_in_development: bool
    """False for encodings that were only checked on paper and against an assembler."""

    def hex(self) -> str:
        """The code bytes as space-separated hex pairs."""
        return self.code.hex(" ")


# --------------------------------------------------------------------------- x86-64

_X86_64_CODE = bytes(
    [
        0x89, 0xF0,              # mov eax, esi          (89 /r, ModRM 11 110 000)
        0xF0, 0x0F, 0xB1, 0x17,  # lock cmpxchg [rdi], edx (F0 prefix, 0F B1 /r, ModRM 00 010 111)
        0xC3,                    # ret
    ]
)

X86_64 = CasCode(
    variant="x86-64",
    instruction="lock cmpxchg dword ptr [rdi], edx",
    assembly=("mov eax, esi", "lock cmpxchg dword ptr [rdi], edx", "ret"),
    code=_X86_64_CODE,
    executed_in_development=True,
)

# --------------------------------------------------------------------------- aarch64

A64_RET = 0xD65F03C0
"""ret (RET x30)."""

A64_COND_NE = 0b0001


def _reg(r: int) -> int:
    if not 0 <= r <= 31:
        raise ValueError(f"register number out of range: {r}")
    return r


def a64_cas_w(rs: int, rt: int, rn: int) -> int:
    """CAS Ws, Wt, [Xn]: size=10 0010001 L=0 1 Rs o0=0 Rt2=11111 Rn Rt."""
    return 0x88A07C00 | _reg(rs) << 16 | _reg(rn) << 5 | _reg(rt)


def a64_ldxr_w(rt: int, rn: int) -> int:
    """LDXR Wt, [Xn]: size=10 0010000 L=1 0 Rs=11111 o0=0 Rt2=11111 Rn Rt."""
    return 0x885F7C00 | _reg(rn) << 5 | _reg(rt)


def a64_stxr_w(rs: int, rt: int, rn: int) -> int:
    """STXR Ws, Wt, [Xn]: size=10 0010000 L=0 0 Rs o0=0 Rt2=11111 Rn Rt."""
    return 0x88007C00 | _reg(rs) << 16 | _reg(rn) << 5 | _reg(rt)


def a64_cmp_w(rn: int, rm: int) -> int:
    """CMP Wn, Wm == SUBS WZR, Wn, Wm (shifted register, LSL #0): sf=0 op=1 S=1 01011 ..."""
    return 0x6B000000 | _reg(rm) << 16 | _reg(rn) << 5 | 31


def a64_mov_w(rd: int, rm: int) -> int:
    """MOV Wd, Wm == ORR Wd, WZR, Wm: sf=0 opc=01 01010 shift=00 N=0 Rm imm6=0 Rn=11111 Rd."""
    return 0x2A0003E0 | _reg(rm) << 16 | _reg(rd)


def _imm19(offset_insns: int) -> int:
    if not -(1 << 18) <= offset_insns < (1 << 18):
        raise ValueError(f"branch offset out of range: {offset_insns}")
    return offset_insns & 0x7FFFF


def a64_b_cond(cond: int, offset_insns: int) -> int:
    """B.cond label: 0101010 0 imm19 0 cond; offset counted in instructions from this one."""
    return 0x54000000 | _imm19(offset_insns) << 5 | (cond & 0xF)


def a64_cbnz_w(rt: int, offset_insns: int) -> int:
    """CBNZ Wt, label: sf=0 011010 op=1 imm19 Rt; offset counted in instructions."""
    return 0x35000000 | _imm19(offset_insns) << 5 | _reg(rt)


def words_to_bytes(words: list[int] | tuple[int, ...]) -> bytes:
    """32-bit instruction words as little-endian bytes (A64 instructions are always LE)."""
    return struct.pack(f"<{len(words)}I", *words)


AARCH64_LSE_WORDS: tuple[int, ...] = (
    a64_cas_w(1, 2, 0),  # cas w1, w2, [x0]
    a64_mov_w(0, 1),     # mov w0, w1
    A64_RET,             # ret
)

AARCH64_LLSC_WORDS: tuple[int, ...] = (
    a64_ldxr_w(3, 0),              # 0: retry: ldxr w3, [x0]
    a64_cmp_w(3, 1),               # 1:        cmp  w3, w1
    a64_b_cond(A64_COND_NE, +3),   # 2:        b.ne out        (-> 5)
    a64_stxr_w(4, 2, 0),           # 3:        stxr w4, w2, [x0]
    a64_cbnz_w(4, -4),             # 4:        cbnz w4, retry  (-> 0)
    a64_mov_w(0, 3),               # 5: out:   mov  w0, w3
    A64_RET,                       # 6:        ret
)

AARCH64_LSE = CasCode(
    variant="aarch64-lse",
    instruction="cas w1, w2, [x0]",
    assembly=("cas w1, w2, [x0]", "mov w0, w1", "ret"),
    code=words_to_bytes(AARCH64_LSE_WORDS),
    executed_in_development=False,
)

AARCH64_LLSC = CasCode(
    variant="aarch64-llsc",
    instruction="ldxr w3, [x0]; cmp w3, w1; b.ne; stxr w4, w2, [x0]",
    assembly=(
        "retry: ldxr w3, [x0]",
        "cmp w3, w1",
        "b.ne out",
        "stxr w4, w2, [x0]",
        "cbnz w4, retry",
        "out: mov w0, w3",
        "ret",
    ),
    code=words_to_bytes(AARCH64_LLSC_WORDS),
    executed_in_development=False,
)

VARIANTS: dict[str, CasCode] = {c.variant: c for c in (X86_64, AARCH64_LSE, AARCH64_LLSC)}

X86_64_MACHINES = frozenset({"x86_64", "amd64"})
AARCH64_MACHINES = frozenset({"aarch64", "arm64"})


def select_code(machine: str, profile_name: str, pointer_bits: int) -> CasCode | None:
    """The variant to run on a host, or None when there is none for it.

    `machine` is `platform.machine()`, `profile_name` the host's model profile (it decides
    LSE versus LL/SC on aarch64), `pointer_bits` the width of this process's pointers (a
    32-bit interpreter on a 64-bit kernel cannot run 64-bit code).
    """
    m = machine.lower()
    if pointer_bits != 64:
        return None
    if m in X86_64_MACHINES:
        return X86_64
    if m in AARCH64_MACHINES:
        return AARCH64_LSE if profile_name == "arm64-lse" else AARCH64_LLSC
    return None
