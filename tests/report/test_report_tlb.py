"""Per-CPU TLBs in the reports: each CPU's cached entries beside the page table, stale
entries marked and explained, flush / IPI steps marked in the lanes, the text TLB table.

The traces are real checks of the kernel model: the hot-remove counterexample (FOUND by
the checker: stale-tlb-write, pinned in test_scenario_tlb.py) and a replay of the G3
irq-off IPI cell of hvo-speculative-walker along a schedule written here (the walker
disables interrupts and fills its TLB, HVO remaps and sends the flush IPI, the walker's
cmpxchg goes through its stale entry, then it enables interrupts and takes the IPI):
the schedule is input, every observation in the trace is the model's.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from test_browser import ARGS, CHROMIUM, Page
from test_report_html import Node, Tree
from test_report_toy import SCENARIO

from pagerace.check import CheckOptions, CheckResult, run_check
from pagerace.report.atomic import write_atomic
from pagerace.report.html import render_check_html
from pagerace.report.state_tables import state_tables
from pagerace.report.text import make_console, render_trace_text
from pagerace.report.tlb_view import stale_reason, tlb_changes, tlb_table
from pagerace.scenarios.catalog import load_scenario

HVO = dict(gen="G3", arch="x86", target="unaligned", context="irq-off", tlb_flush="ipi")
# walker: irq off, read; HVO: 26 steps to its IPI flush; walker: cmpxchg, irq on; HVO: rest
SCHEDULE = ",".join(["1"] * 2 + ["0"] * 26 + ["1"] * 2 + ["0"] * 6)
STALE_STEP, SEND_STEP, HANDLE_STEP, WAIT_STEP = 29, 28, 30, 31


@pytest.fixture(scope="module")
def hot_remove() -> CheckResult:
    return run_check(load_scenario("hot-remove-vs-walker"),
                     {"driver": "skippable", "context": "irq-off", "warn": "ignore"})


def _hvo(schedule: str) -> CheckResult:
    return run_check(load_scenario("hvo-speculative-walker"), HVO,
                     CheckOptions(replay=schedule))


@pytest.fixture(scope="module")
def hvo() -> CheckResult:
    return _hvo(SCHEDULE)


def _text(result: CheckResult, compact: bool) -> str:
    buf = io.StringIO()
    render_trace_text(result, make_console(color=False, file=buf, width=400), compact)
    return buf.getvalue()


def _rows(tree: Tree) -> list[Node]:
    return [n for n in tree.root.all() if n.tag == "tr" and "data-step" in n.attrs]


def _map_at(tree: Tree, step: int) -> Node:
    index = _rows(tree)[step].attrs["data-map"]
    return next(t for t in tree.select("template") if t.attrs.get("data-map") == index)


def _tlb_cells(node: Node) -> dict[tuple[str, str], Node]:
    return {(n.attrs["data-cpu"], n.attrs["data-vpage"]): n for n in node.all()
            if n.tag == "td" and "tlb-entry" in n.classes()}


def test_html_map_has_a_column_per_cpu_and_marks_the_stale_entry(
        hot_remove: CheckResult) -> None:
    assert hot_remove.violation and hot_remove.violation["kind"] == "stale-tlb-write"
    tree = Tree(render_check_html(hot_remove))
    last = _map_at(tree, len(_rows(tree)) - 1)
    table = next(n for n in last.all() if n.tag == "table" and "tlb" in n.classes())
    assert [h.attrs["data-cpu"] for h in table.all() if "cpu" in h.classes()] == ["0", "1"]
    cell = _tlb_cells(table)[("1", "1")]
    assert {"stale", "freed"} <= set(cell.classes())
    assert cell.attrs["data-frame"] == "1"
    title = cell.attrs["title"]
    assert "CPU 1 caches vmemmap[1] -> frame 1 (rw), but the PTE now: hole" in title
    assert "interrupts off" in title and "frame 1 has been freed" in title
    box = next(g for g in last.all() if g.tag == "g" and g.attrs.get("data-vpage") == "1")
    assert "tlb-stale" in box.classes() and "stale TLB" in box.full_text()
    # at the start the walker's CPU caches nothing, and nothing is stale
    first = _tlb_cells(_map_at(tree, 0))
    assert "none" in first[("1", "1")].classes()
    assert not [c for c in first.values() if "stale" in c.classes()]
    assert "tlb" not in tree.by_id("state-tables").full_text().split()


def test_html_stale_entry_waits_for_the_ipi_then_goes(hvo: CheckResult) -> None:
    assert hvo.verdict == "pass"
    tree = Tree(render_check_html(hvo))
    stale = _map_at(tree, STALE_STEP)
    cell = _tlb_cells(stale)[("1", "5")]
    assert "stale" in cell.classes() and "freed" not in cell.classes()
    assert cell.attrs["title"] == ("CPU 1 caches vmemmap[5] -> frame 5 (rw), but the PTE "
                                   "now: frame 64 (ro): CPU 1 has not handled the flush "
                                   "yet (interrupts off)")
    header = next(h for h in stale.all() if h.attrs.get("data-cpu") == "1" and h.tag == "th")
    assert "irqs off" in header.full_text() and "flush IPI pending" in header.full_text()
    handled = _tlb_cells(_map_at(tree, HANDLE_STEP))
    assert "none" in handled[("1", "5")].classes()
    assert not [c for c in handled.values() if "stale" in c.classes()]


def test_lanes_mark_flush_ipi_send_handle_and_wait(hvo: CheckResult) -> None:
    tree = Tree(render_check_html(hvo))
    rows = _rows(tree)

    def marked(kind: str) -> list[int]:
        return [int(r.attrs["data-step"]) for r in rows if kind in r.classes()]

    assert marked("tlb-flush") == marked("ipi-send") == [SEND_STEP]
    assert marked("ipi-handle") == [HANDLE_STEP]
    assert marked("ipi-wait") == [WAIT_STEP]
    assert marked("tlb-evict") == []
    active = next(c for c in rows[HANDLE_STEP].children if "active" in c.classes())
    assert "ipi-handle" in active.classes() and "flush IPI handled" in active.full_text()
    legend = tree.by_id("lanes-legend").full_text()
    for text in ("TLB flush", "flush IPI sent", "flush IPI handled", "csd_lock_wait"):
        assert text in legend
    assert "TLB eviction" not in legend


def test_reports_without_tlbs_have_no_tlb_parts() -> None:
    doc = run_check(SCENARIO, {"arch": "x86"})
    html = render_check_html(doc)
    tree = Tree(html)
    assert not [n for n in tree.root.all() if "tlb" in n.classes() or "step-kind" in n.classes()]
    assert 'id="lanes-legend"' not in html
    assert "page table and TLBs" not in _text(doc, compact=False)


@pytest.mark.parametrize("compact", [True, False])
def test_text_tlb_table_and_access_kinds(hot_remove: CheckResult, compact: bool) -> None:
    out = _text(hot_remove, compact)
    assert "[stale TLB entry]" in out and "[TLB hit]" in out and "[TLB fill]" in out
    assert "page table and TLBs after step 66" in out
    row = next(line for line in out.splitlines() if line.lstrip().startswith("v1 "))
    assert row.split() == ["v1", "hole", "!", "f1", "rw", "stale", "freed",
                           "!", "f1", "rw", "stale", "freed"]
    assert "CPU 1 (irqs off)" in out
    assert "! CPU 1 caches vmemmap[1] -> frame 1 (rw), but the PTE now: hole" in out
    assert ("[TLB] CPU 1's entry vmemmap[1] -> frame 1 (rw) is stale (PTE: hole): no flush "
            "has reached CPU 1 yet (interrupts off); the frame is freed") in out


def test_text_marks_flush_and_ipi_and_the_pending_flush() -> None:
    full = _text(_hvo(SCHEDULE), compact=True)
    assert "[flush] flush_tlb_kernel_range(vmemmap[4..7]): on_each_cpu(wait=1)" in full
    assert "[IPI] CPU 1 takes the pending flush IPI (vmemmap[4..7])" in full
    cut = _text(_hvo(",".join(SCHEDULE.split(",")[:STALE_STEP])), compact=True)
    assert f"page table and TLBs after step {STALE_STEP}" in cut
    assert "CPU 1 (irqs off, flush IPI pending (vmemmap[4..7]))" in cut
    row = next(line for line in cut.splitlines() if line.lstrip().startswith("v5 "))
    assert row.split() == ["v5", "frame", "64", "(ro)", "-", "!", "f5", "rw", "stale"]


def _obs(entries: list[dict[str, object]], irqs_off: bool = False,
         pending: list[object] | None = None,
         vmemmap: list[dict[str, object]] | None = None) -> dict[str, object]:
    return {"vmemmap": vmemmap if vmemmap is not None
            else [{"vpage": 5, "frame": 64, "perm": "ro"}],
            "tlb": {"0": {"entries": [], "irqs_off": False, "ipi_pending": []},
                    "1": {"entries": entries, "irqs_off": irqs_off,
                          "ipi_pending": pending or []}}}


STALE5 = {"vpage": 5, "frame": 5, "perm": "rw", "stale": True, "freed": False}


def test_stale_reasons() -> None:
    assert stale_reason("1", True, [(4, 8)], 5) == \
        "CPU 1 has not handled the flush yet (interrupts off)"
    assert stale_reason("1", True, [None], 5) == \
        "CPU 1 has not handled the flush yet (interrupts off)"
    assert stale_reason("1", False, [(4, 8)], 5) == "CPU 1 has a flush IPI pending"
    assert stale_reason("1", True, [(6, 8)], 5) == \
        "no flush has reached CPU 1 yet (interrupts off)"
    assert stale_reason("2", False, [], 5) == "no flush has reached CPU 2 yet"


def test_table_rows_and_changes() -> None:
    table = tlb_table(_obs([STALE5], True, ["all"]))
    assert table is not None
    assert [c.state for c in table.cpus] == ["", "irqs off, flush IPI pending (all)"]
    assert [(r.vpage, r.pte) for r in table.rows] == [(5, "frame 64 (ro)")]
    assert table.rows[0].cells[0] is None and table.stale()[0].text == "f5 rw stale"
    # an entry for a page the observation does not list still gets a row
    other = tlb_table(_obs([dict(STALE5, vpage=9)]))
    assert other is not None and [(r.vpage, r.pte) for r in other.rows] == [
        (5, "frame 64 (ro)"), (9, "not shown")]
    assert tlb_table({"vmemmap": [], "tlb": {}}) is None and tlb_table(None) is None
    fresh = dict(STALE5, frame=64, perm="ro", stale=False)
    assert tlb_changes(_obs([fresh]), _obs([fresh])) == []
    assert tlb_changes(_obs([fresh]), _obs([STALE5])) == [
        "CPU 1's entry vmemmap[5] -> frame 5 (rw) is stale (PTE: frame 64 (ro)): no flush "
        "has reached CPU 1 yet"]
    assert tlb_changes(_obs([STALE5]), _obs([STALE5])) == []
    assert tlb_changes(_obs([fresh]), _obs([dict(fresh, freed=True)])) == [
        "CPU 1's entry vmemmap[5] -> frame 64 (ro) points at a freed frame"]


def test_big_maps_list_only_the_cached_pages() -> None:
    vm = [{"vpage": v, "frame": v, "perm": "rw"} for v in range(40)]
    table = tlb_table(_obs([dict(STALE5, vpage=7, frame=7, stale=False)], vmemmap=vm))
    assert table is not None and [r.vpage for r in table.rows] == [7]


def test_state_tables_leave_the_tlb_to_the_map() -> None:
    titles = [t.title for t in state_tables(_obs([STALE5]))]
    assert "tlb" not in titles


@pytest.mark.skipif(not os.path.exists(CHROMIUM),
                    reason="needs the distribution's Chromium at /usr/bin/chromium")
def test_browser_steps_to_the_stale_entry(hvo: CheckResult, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    path = tmp_path / "hvo.html"
    write_atomic(path, render_check_html(hvo))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        r = Page(browser, path)
        page = r.open()
        stale = '#vmemmap-map td.tlb-entry.stale[data-cpu="1"][data-vpage="5"]'
        assert page.locator(stale).count() == 0
        page.click(f'tr[data-step="{STALE_STEP}"]')
        assert r.text("#step-index") == str(STALE_STEP)
        cell = page.locator(stale)
        assert cell.is_visible() and "interrupts off" in str(cell.get_attribute("title"))
        plain = '#vmemmap-map td.tlb-entry.none[data-cpu="0"][data-vpage="5"]'

        def style(selector: str, prop: str) -> str:
            return str(page.eval_on_selector(
                selector, f"e => getComputedStyle(e).getPropertyValue('{prop}')"))

        assert style(stale, "background-color") != style(plain, "background-color")
        assert page.locator('#vmemmap-map g.tlb-stale[data-vpage="5"]').count() == 1
        page.keyboard.press("ArrowRight")  # the walker enables interrupts: the IPI
        assert page.locator(stale).count() == 0
        handled = f'tr[data-step="{HANDLE_STEP}"] td.active'
        assert style(handled, "background-color") != style(
            f'tr[data-step="{STALE_STEP}"] td.active', "background-color")
        assert page.locator("#lanes-legend").is_visible()
        r.close()
        browser.close()
