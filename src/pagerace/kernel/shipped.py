"""Shipped or not: did this generation of the HVO code run on this architecture in a
mainline release?

A verdict for a combination that no released kernel contains describes what a patch or a
re-enable would face, not a bug anyone can hit today; the matrix marks such cells. The
answer is the overlap of two release windows, both data here:

- a generation's window: the mainline releases that carried its page_ref_add_unless() /
  HVO code (docs/kernel-record.md section 6): G0 v5.18-v6.9 (e7d324850bfc), G1
  v6.10-v6.14 (bd225530a4c7), G2 v6.15-v7.0 ("mm/hugetlb_vmemmap: fix memory loads
  ordering"), G3 from v7.1 (622026e87c40, 32c440d67e6c, 01b1d0ffb6f7). Never shipped:
  rw-tails (the June 2024 proposal), G1b (an mm-tree patch, Dec 2024, whose mainline
  status is not verified), G3-frozen-bit (the 2026 "page refcount locking via dedicated
  bit" series, pending), G2-noacquire (G2's order without the acquire: no kernel has it).
- an architecture's window: the releases in which it selects
  ARCH_WANT_OPTIMIZE_HUGETLB_VMEMMAP (earlier names ARCH_WANT_HUGETLB_PAGE_OPTIMIZE_VMEMMAP,
  ARCH_WANT_OPTIMIZE_VMEMMAP):
  x86-64 throughout; arm64 v5.18-v6.1 (disabled by 060a2c92d1b6 in the v6.2 cycle for
  break-before-make; the re-enabling series posted Nov 2024 was not merged);
  loongarch from v6.2 ("LoongArch: enable ARCH_WANT_HUGETLB_PAGE_OPTIMIZE_VMEMMAP",
  <20221027125253.3458989-5-chenhuacai@loongson.cn>, through the mm tree);
  riscv from v6.4 (selected in the riscv-for-linus-6.4-mw1 merge 89d77f71f493; fixed up
  for the rename by <20230429-trilogy-jolly-12bf5c53d62d@spud>); riscv with Zacas from
  v6.13 (the kernel's cmpxchg() uses amocas only since 38acdee32d23, applied for v6.13 in
  Nov 2024). The old profile name `llsc` stands for the LL/SC architectures that ship HVO
  (loongarch, riscv), so its window starts with loongarch's.

Leaves out: stable backports (a fix backported to an older stable series does not widen a
window here), distribution kernels, s390 (HVO enabled, then disabled again in Oct 2025;
not on the model's arch axis) and powerpc.
"""

from __future__ import annotations

from dataclasses import dataclass

Version = tuple[int, int]


@dataclass(frozen=True)
class Window:
    """Mainline releases first..last (last None: still current); what it is, in words."""

    first: Version
    last: Version | None
    what: str

    def overlaps(self, other: Window) -> bool:
        if self.last is not None and self.last < other.first:
            return False
        return other.last is None or other.last >= self.first


def _v(text: str) -> Version:
    major, minor = text.lstrip("v").split(".")
    return int(major), int(minor)


# generation -> its release window, or the reason it never shipped
GENERATIONS: dict[str, Window | str] = {
    "G0": Window(_v("v5.18"), _v("v6.9"), "G0 shipped v5.18-v6.9"),
    "G1": Window(_v("v6.10"), _v("v6.14"), "G1 shipped v6.10-v6.14"),
    "G2": Window(_v("v6.15"), _v("v7.0"), "G2 shipped v6.15-v7.0"),
    "G3": Window(_v("v7.1"), None, "G3 shipped from v7.1"),
    "rw-tails": "rw-tails was a June 2024 proposal, never merged",
    "G1b": "G1b is an mm-tree patch (Dec 2024); mainline status not verified",
    "G3-frozen-bit": "G3-frozen-bit is a pending 2026 series, not merged",
    "G2-noacquire": "G2-noacquire is G2's order without the acquire: in no kernel",
}

_ARM64 = Window(_v("v5.18"), _v("v6.1"),
                "arm64 HVO ran v5.18-v6.1: disabled by 060a2c92d1b6 (v6.2 cycle), the "
                "Nov 2024 re-enabling series was not merged")
_RISCV = Window(_v("v6.4"), None, "riscv ships HVO from v6.4")
_LOONGARCH = Window(_v("v6.2"), None, "loongarch ships HVO from v6.2")

# architecture (old and new names of the model's arch axis) -> its HVO window
ARCHITECTURES: dict[str, Window] = {
    "x86": Window(_v("v5.18"), None, "x86-64 ships HVO"),
    "arm64-lse": _ARM64,
    "arm64-nolse": _ARM64,
    "riscv": _RISCV,
    "riscv-zacas": Window(_v("v6.13"), None,
                          "riscv's cmpxchg() uses amocas only from v6.13 (38acdee32d23)"),
    "loongarch": _LOONGARCH,
    "llsc": Window(_v("v6.2"), None,
                   "llsc stands for the LL/SC architectures that ship HVO: loongarch from "
                   "v6.2, riscv from v6.4"),
}


def shipped(gen: str, arch: str) -> tuple[bool, str]:
    """(whether `gen` on `arch` ran in a mainline release, a one-line note saying why).

    ValueError for a generation or architecture these facts do not cover."""
    g = GENERATIONS.get(gen)
    if g is None:
        raise ValueError(f"no release facts for generation {gen!r} "
                         f"(known: {', '.join(GENERATIONS)})")
    a = ARCHITECTURES.get(arch)
    if a is None:
        raise ValueError(f"no release facts for architecture {arch!r} "
                         f"(known: {', '.join(ARCHITECTURES)})")
    if isinstance(g, str):
        return False, g
    if not g.overlaps(a):
        return False, a.what  # one note for every generation outside the window
    return True, f"{g.what}; {a.what}"


__all__ = ["ARCHITECTURES", "GENERATIONS", "Window", "shipped"]
