"""A small HVO-shaped race with observations: the program the report tests render.

Four vmemmap pages (two struct pages each) map frames 10..12 read-write; vmemmap page 3
is a hole. CPU "cpu1_vmemmap_modifier" drops pfn 2's last reference and, with gen=G1,
remaps vmemmap pages 1-2 read-only onto frame 10 (HVO), then waits for a grace period.
CPU "cpu2_pfn_walker" takes a speculative reference on pfn `target` inside an RCU
read-side section. On x86 a failed cmpxchg still writes, so the walker oopses when it
reaches the remapped page with a refcount of 0; on llsc it does not. The notes and the
observation follow the shapes the kernel model produces. The tests below pin the toy's
answers so that the report tests that use it are not vacuous.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from pagerace.engine import Atomic, Await, Program, ThreadSpec, Violation, explore
from pagerace.engine.view import StepView
from pagerace.scenarios.base import Param, Scenario

Body = Generator[Any, Any, Any]
VPAGES = 4
HOLE_VPAGE = 3
PER_VPAGE = 2


def _translate(view: StepView, pfn: int, access: str, func: str) -> tuple[int, int, str]:
    vpage, slot = divmod(pfn, PER_VPAGE)
    pte = view.load(("pte", vpage), None)
    if pte is None:
        view.note(f"pfn {pfn} via vmemmap[{vpage}]: HOLE", pfn=pfn, vpage=vpage, frame=None,
                  perm=None, field="_refcount", access=access, func=func)
        raise Violation("oops", f"{func}: pfn {pfn} through a vmemmap hole")
    frame, perm = pte
    return frame, slot, perm


def page_ref_dec(pfn: int) -> Body:
    def fn(view: StepView, outcome: int) -> int:
        frame, slot, perm = _translate(view, pfn, "write", "page_ref_dec")
        old = view.load(("ref", frame, slot))
        view.store(("ref", frame, slot), old - 1)
        view.note(f"pfn {pfn} via vmemmap[{pfn // PER_VPAGE}] -> frame {frame} ({perm}): "
                  f"_refcount {old} -> {old - 1}", pfn=pfn, vpage=pfn // PER_VPAGE,
                  frame=frame, perm=perm, field="_refcount", access="write", old=old,
                  new=old - 1, func="page_ref_dec")
        return old - 1
    return (yield Atomic(fn, f"page_ref_dec pfn {pfn}"))


def put_page(pfn: int) -> Body:
    return (yield from page_ref_dec(pfn))


def vmemmap_remap_pte() -> Body:
    def fn(view: StepView, outcome: int) -> None:
        for v in (1, 2):
            view.store(("pte", v), (10, "ro"))
        view.store(("shared", 10), True)
        view.note("vmemmap_remap_pte: vmemmap[1..2] -> frame 10 (ro)",
                  func="vmemmap_remap_pte", access="remap")
    yield Atomic(fn, "vmemmap_remap_pte")


def hugetlb_vmemmap_optimize_folio() -> Body:
    yield from vmemmap_remap_pte()


def synchronize_rcu() -> Body:
    def snap(view: StepView, outcome: int) -> bool:
        inside = view.load(("rcu", 1)) > 0
        view.note("synchronize_rcu: waiting for CPU 1's section" if inside else
                  "synchronize_rcu: grace period ends", func="synchronize_rcu",
                  access="rcu")
        return inside
    if (yield Atomic(snap, "synchronize_rcu")):
        yield Await(lambda v: v.load(("rcu", 1)) == 0,
                    "synchronize_rcu: CPU 1's section has ended: grace period ends")


def rcu_read(delta: int, what: str) -> Body:
    def fn(view: StepView, outcome: int) -> None:
        n = view.load(("rcu", 1)) + delta
        view.store(("rcu", 1), n)
        view.note(f"{what} (CPU 1, nesting {n})", func=what, access="rcu", cpu=1, nesting=n)
    yield Atomic(fn, what)


def atomic_add_unless(pfn: int, arch: str) -> Body:
    def fn(view: StepView, outcome: int) -> bool:
        frame, slot, perm = _translate(view, pfn, "cmpxchg", "atomic_add_unless")
        cur = view.load(("ref", frame, slot))
        failed = cur == 0
        cycle = not failed or arch == "x86" or (arch == "arm64-lse" and outcome == 1)
        view.note(f"pfn {pfn} via vmemmap[{pfn // PER_VPAGE}] -> frame {frame} ({perm}): "
                  f"cmpxchg", pfn=pfn, vpage=pfn // PER_VPAGE, frame=frame, perm=perm,
                  field="_refcount", access="cmpxchg", value=cur, expected=cur,
                  new=cur + 1, compare_failed=failed, write_cycle=cycle)
        if cycle and perm == "ro":
            raise Violation("oops", f"atomic_add_unless: write to read-only vmemmap: "
                            f"pfn {pfn} via vmemmap[{pfn // PER_VPAGE}] -> frame {frame}")
        if cycle:
            view.store(("ref", frame, slot), cur if failed else cur + 1)
        return not failed
    return (yield Atomic(fn, "atomic_add_unless", outcomes=2 if arch == "arm64-lse" else 1))


def page_ref_add_unless(pfn: int, arch: str) -> Body:
    return (yield from atomic_add_unless(pfn, arch))


def get_page_unless_zero(pfn: int, arch: str) -> Body:
    return (yield from page_ref_add_unless(pfn, arch))


def observe(s: Mapping[Any, Any]) -> dict[str, Any]:
    vm = []
    for v in range(VPAGES):
        pte = s.get(("pte", v))
        vm.append({"vpage": v, "frame": pte[0] if pte else None,
                   "perm": pte[1] if pte else None})
    pages = []
    for pfn in range((VPAGES - 1) * PER_VPAGE):
        frame, perm = s[("pte", pfn // PER_VPAGE)]
        pages.append({"pfn": pfn, "refcount": s.get(("ref", frame, pfn % PER_VPAGE), 0),
                      "flags": ["PG_head"] if pfn == 0 else []})
    return {"vmemmap": vm,
            "frames": {str(f): {"shared": bool(s.get(("shared", f)))} for f in (10, 11, 12)},
            "pages": pages, "rcu_nesting": {"cpu2_pfn_walker": s.get(("rcu", 1), 0)}}


def build(params: Mapping[str, str]) -> Program:
    arch, gen, target = params["arch"], params["gen"], params["target"]
    pfn = 2 if target == "tail" else 0

    def cpu1_vmemmap_modifier() -> Body:
        yield from put_page(2)
        if gen == "G1":
            yield from hugetlb_vmemmap_optimize_folio()
            yield from synchronize_rcu()

    def cpu2_pfn_walker() -> Body:
        yield from rcu_read(+1, "rcu_read_lock")
        if (yield from get_page_unless_zero(pfn, arch)):
            yield from put_page(pfn)
        yield from rcu_read(-1, "rcu_read_unlock")

    initial: dict[Any, Any] = {("pte", v): (10 + v, "rw") for v in range(VPAGES)
                               if v != HOLE_VPAGE}
    initial.update({("ref", 10, 0): 0, ("ref", 11, 0): 1, ("rcu", 1): 0})
    return Program([ThreadSpec("cpu1_vmemmap_modifier", cpu1_vmemmap_modifier),
                    ThreadSpec("cpu2_pfn_walker", cpu2_pfn_walker)],
                   initial, observe=observe, name="mini-hvo")


SCENARIO = Scenario(
    "mini-hvo", "A toy HVO speculative-walker race", build,
    (Param("arch", "x86", ("x86", "llsc", "arm64-lse"), matrix=True),
     Param("gen", "G1", ("G0", "G1"), matrix=True),
     Param("target", "tail", ("tail", "head"), matrix=True)),
    story=__doc__ or "", matrix_rows="gen")


def test_x86_g1_tail_oopses() -> None:
    r = explore(SCENARIO.build({"arch": "x86"}), "dfs")
    assert r.violation is not None and r.violation.kind == "oops"
    assert "read-only vmemmap" in r.violation.message


def test_llsc_and_g0_and_head_pass() -> None:
    for params in ({"arch": "llsc"}, {"gen": "G0"}, {"target": "head"}):
        r = explore(SCENARIO.build(params), "dfs")
        assert r.violation is None and r.complete, params


def test_arm64_lse_oopses_only_through_its_write_outcome() -> None:
    r = explore(SCENARIO.build({"arch": "arm64-lse"}), "dfs")
    assert r.violation is not None and r.violation.kind == "oops"
