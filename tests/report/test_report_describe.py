"""Step descriptions, the vmemmap map layout and the state tables, on hand-made inputs."""

from __future__ import annotations

from typing import Any

from pagerace.report.state_tables import state_tables
from pagerace.report.steps import (
    accessed,
    describe_access,
    is_fault_note,
    is_rcu_note,
    step_effects,
    step_function,
    step_op,
)
from pagerace.report.vmemmap_map import MAX_BOXES, map_layout, runs, vmemmap_changes

CAS = {"text": "pfn 5 via vmemmap[2] -> frame 7 (ro): lock cmpxchg _refcount: 0 != 1",
       "pfn": 5, "vpage": 2, "frame": 7, "perm": "ro", "field": "_refcount",
       "access": "cmpxchg", "value": 0, "expected": 1, "new": 2,
       "compare_failed": True, "write_cycle": True, "func": "atomic_add_unless"}


def vm(*entries: tuple[int, int | None, str | None]) -> list[dict[str, Any]]:
    return [{"vpage": v, "frame": f, "perm": p} for v, f, p in entries]


def test_cmpxchg_names_route_value_compare_and_write_cycle() -> None:
    text = describe_access(CAS)
    assert text == ("cmpxchg _refcount of pfn 5 via vmemmap page 2 -> frame 7 (ro): "
                    "read 0, expected 1, new 2, compare failed, write cycle")
    assert is_fault_note(CAS)
    llsc = {**CAS, "write_cycle": False}
    assert describe_access(llsc).endswith("compare failed, no write cycle")
    assert not is_fault_note(llsc)


def test_write_and_hole_access() -> None:
    write = {"pfn": 3, "vpage": 1, "frame": 11, "perm": "rw", "field": "flags",
             "access": "write", "old": 0, "new": 64}
    assert describe_access(write, arrow="=>") == (
        "write flags of pfn 3 via vmemmap page 1 => frame 11 (rw): 0 => 64")
    hole = {"pfn": 9, "vpage": 4, "frame": None, "perm": None, "access": "read",
            "field": "_refcount"}
    assert "-> hole (unmapped)" in describe_access(hole)
    assert is_fault_note(hole)


def test_rcu_notes_are_recognised_but_memory_notes_are_not_rcu() -> None:
    assert is_rcu_note({"text": "rcu_read_lock (CPU 1, nesting 1)", "access": "rcu"})
    assert is_rcu_note({"text": "synchronize_rcu: waiting for CPU 1's section"})
    assert not is_rcu_note({"text": "buddy: free pfns 0..7"})


def test_step_effects_of_a_kernel_step() -> None:
    step = {"label": "atomic_add_unless", "thread": 1, "result": 0, "reads": [["a", 0]],
            "writes": [],
            "stack": ["cpu2_pfn_walker", "get_page_unless_zero", "atomic_add_unless"],
            "notes": [CAS, {"text": "rcu_read_lock (CPU 1, nesting 1)", "access": "rcu"}]}
    assert step_function(step) == "get_page_unless_zero > atomic_add_unless"
    assert step_op(step) == ""
    effects = step_effects(step)
    assert [e.kind for e in effects] == ["fault", "rcu", "result"]
    # the model's text keeps only what it adds to the structured route
    assert effects[0].detail == "lock cmpxchg _refcount: 0 != 1"
    assert accessed(step) == ({2}, {7})


def test_step_effects_without_notes_show_raw_accesses() -> None:
    step = {"label": "store", "stack": ["t0"], "result": None, "notes": [],
            "reads": [["y", 0]], "writes": [["x", 0, 1]]}
    assert step_function(step) == "store"
    texts = [e.text for e in step_effects(step)]
    assert texts == ["read y = 0", "write x: 0 -> 1"]
    load = {"label": "load", "stack": ["t0"], "result": 5, "notes": [],
            "reads": [["x", 5]], "writes": []}
    assert [e.text for e in step_effects(load)] == ["read x = 5"]


def test_remap_effect_from_observations() -> None:
    before = {"vmemmap": vm((0, 10, "rw"), (1, 11, "rw"), (2, 12, "rw"), (3, None, None))}
    after = {"vmemmap": vm((0, 10, "rw"), (1, 10, "ro"), (2, 10, "ro"), (3, None, None))}
    step = {"label": "remap", "stack": ["cpu1"], "notes": [{"text": "remap"}],
            "observation": after, "reads": [], "writes": []}
    lines = [e.text for e in step_effects(step, before) if e.kind == "vmemmap"]
    assert lines == ["vmemmap pages 1-2: frames 11-12 (rw) -> frame 10 (ro)"]
    assert vmemmap_changes(after["vmemmap"], before["vmemmap"]) == [
        "vmemmap pages 1-2: frame 10 (ro) -> frames 11-12 (rw)"]
    gone = vm((0, 10, "rw"), (1, None, None), (2, None, None), (3, None, None))
    assert vmemmap_changes(before["vmemmap"], gone) == [
        "vmemmap pages 1-2: frames 11-12 (rw) -> hole"]


def test_small_map_draws_every_page_and_links_by_permission() -> None:
    obs = {"vmemmap": vm((0, 10, "rw"), (1, 10, "ro"), (2, 10, "ro"), (3, None, None)),
           "frames": {"10": {"shared": True}, "11": {"shared": False}}}
    layout = map_layout(obs, accessed={1}, changed={2}, accessed_frames={10})
    assert layout is not None and not layout.grouped
    assert [b.label for b in layout.vboxes] == ["v0", "v1", "v2", "v3"]
    assert [b.label for b in layout.fboxes] == ["f10", "f11"]
    assert [lk.classes for lk in layout.links] == ["link rw", "link ro", "link ro"]
    classes = {b.label: b.classes.split() for b in layout.vboxes + layout.fboxes}
    assert "hole" in classes["v3"] and "accessed" in classes["v1"]
    assert "changed" in classes["v2"] and "shared" in classes["f10"]
    assert "accessed" in classes["f10"] and "unreferenced" in classes["f11"]
    f10 = layout.fboxes[0]
    assert all(lk.x2 == f10.cx for lk in layout.links)


def test_large_map_is_drawn_as_runs() -> None:
    n = 512
    entries = [(0, 100, "rw")] + [(v, 200, "ro") for v in range(1, n - 8)] + [
        (v, 300 + v, "rw") for v in range(n - 8, n)]
    assert len(runs(entries)) == 3
    layout = map_layout({"vmemmap": vm(*entries)})
    assert layout is not None and layout.grouped and n > MAX_BOXES
    assert [b.label for b in layout.vboxes] == ["v0", "v1-503", "v504-511"]
    assert [b.label for b in layout.fboxes] == ["f100", "f200", "f804-811"]


def test_no_vmemmap_no_picture() -> None:
    assert map_layout({"pages": []}) is None
    assert map_layout({"vmemmap": "garbage"}) is None


def test_state_tables_by_shape_and_changed_cells() -> None:
    prev = {"vmemmap": [], "frames": {"10": {"shared": False}},
            "pages": [{"pfn": 0, "refcount": 1, "flags": ["PG_head"]},
                      {"pfn": 1, "refcount": 0, "flags": []}],
            "rcu": {"cpu1": 0}, "grace_periods": 0}
    cur = {"vmemmap": [], "frames": {"10": {"shared": True}},
           "pages": [{"pfn": 1, "refcount": 0, "flags": []},
                     {"pfn": 0, "refcount": 2, "flags": ["PG_head"]}],
           "rcu": {"cpu1": 1}, "grace_periods": 0}
    tables = {t.title: t for t in state_tables(cur, prev)}
    assert list(tables) == ["frames", "pages", "rcu", "state"]
    assert tables["frames"].columns == ["frame", "shared"]
    assert [(c.text, c.changed) for c in tables["frames"].rows[0]] == [
        ("10", False), ("yes", True)]
    pages = tables["pages"]
    assert pages.columns == ["pfn", "refcount", "flags"]
    # rows are matched by pfn, not position: only pfn 0's refcount changed
    assert [[c.changed for c in r] for r in pages.rows] == [
        [False, False, False], [False, True, False]]
    assert pages.rows[1][2].text == "PG_head"
    assert [(c.text, c.changed) for c in tables["rcu"].rows[0]] == [
        ("cpu1", False), ("1", True)]
    assert tables["state"].rows[0][1].changed is False
    assert all(not c.changed for t in state_tables(cur) for r in t.rows for c in r)


def test_pages_missing_from_the_previous_observation_are_not_holes() -> None:
    before = vm((1, 1, "rw"))
    after = vm((0, 64, "rw"), (1, 64, "ro"), (2, 64, "ro"), (3, 64, "ro"))
    assert vmemmap_changes(before, after) == [
        "vmemmap page 0: now frame 64 (rw)",
        "vmemmap page 1: frame 1 (rw) -> frame 64 (ro)",
        "vmemmap pages 2-3: now frame 64 (ro)"]
    assert vmemmap_changes(after, before) == [
        "vmemmap page 0: no longer shown (was frame 64 (rw))",
        "vmemmap page 1: frame 64 (ro) -> frame 1 (rw)",
        "vmemmap pages 2-3: no longer shown (was frame 64 (ro))"]


def test_frames_as_a_list_shared_by_use_and_freed_while_mapped() -> None:
    """The kernel model's shape: frames listed with "mapped_by" and "free"."""
    obs = {"descs_per_vmemmap_page": 4,
           "vmemmap": [{"vpage": 0, "first_pfn": 0, "frame": 64, "perm": "rw"},
                       {"vpage": 1, "first_pfn": 4, "frame": 64, "perm": "ro", "alias": True},
                       {"vpage": 2, "first_pfn": 8, "frame": 2, "perm": "rw"}],
           "frames": [{"frame": 64, "mapped_by": [0, 1], "free": False},
                      {"frame": 2, "mapped_by": [2], "free": True}]}
    layout = map_layout(obs)
    assert layout is not None
    frames = {b.label: b for b in layout.fboxes}
    assert "shared" in frames["f64"].classes.split() and frames["f64"].sub == "shared"
    assert "free" in frames["f2"].classes.split() and frames["f2"].sub == "free"
    v1 = layout.vboxes[1]
    assert "alias" in v1.classes.split()
    assert v1.title == "vmemmap page 1 (pfns 4-7) -> frame 64 (ro)"
    # without "frames", a frame two pages map is still shared
    bare = map_layout({"vmemmap": obs["vmemmap"]})
    assert bare is not None and "shared" in bare.fboxes[1].classes.split()


def test_wrappers_of_the_same_name_are_shown_once() -> None:
    step = {"label": "folio_put: atomic_dec_and_test(&page->_refcount) [pfn 5]",
            "stack": ["cpu1", "put_page", "put_page", "folio_put", "page_ref_dec_and_test"]}
    assert step_function(step) == "put_page > folio_put > page_ref_dec_and_test"
    assert step_op(step) == step["label"]
