"""The text trace: one column per CPU, kernel functions, memory effects, plain or colour."""

from __future__ import annotations

import io
import re

from test_report_toy import SCENARIO

from pagerace.check import CheckResult, run_check
from pagerace.engine import Schedule, record_trace
from pagerace.report.text import make_console, render_trace_text, trace_text
from pagerace.report.trace_json import result_of_trace

ANSI = re.compile(r"\x1b\[")


def _doc() -> CheckResult:
    return run_check(SCENARIO, {"arch": "x86"})


def test_plain_text_has_no_escape_codes_and_tells_the_story() -> None:
    out = trace_text(_doc(), width=400)  # wide: no wrapping
    assert not ANSI.search(out)
    assert "mini-hvo  arch=x86 gen=G1 target=tail" in out
    assert "verdict: violation" in out
    assert "get_page_unless_zero > page_ref_add_unless > atomic_add_unless" in out
    assert ("cmpxchg _refcount of pfn 2 via vmemmap page 1 -> frame 10 (ro): read 0, "
            "expected 0, new 1, compare failed, write cycle") in out
    assert "[RCU] rcu_read_lock (CPU 1, nesting 1)" in out
    assert "remap: vmemmap pages 1-2: frames 11-12 (rw) -> frame 10 (ro)" in out
    assert "VIOLATION oops: atomic_add_unless: write to read-only vmemmap" in out
    assert "(step 4, cpu2_pfn_walker)" in out
    assert "schedule: 0,0,1,1" in out
    assert "pagerace check mini-hvo --param arch=x86" in out


def _column_of(out: str, text: str) -> int:
    for line in out.splitlines():
        if text in line:
            return line.index(text)
    raise AssertionError(f"{text!r} not in output")


def test_each_step_is_in_its_cpus_column() -> None:
    out = trace_text(_doc(), width=160)
    header = next(line for line in out.splitlines() if "cpu1_vmemmap_modifier" in line)
    col1 = header.index("cpu1_vmemmap_modifier")
    col2 = header.index("cpu2_pfn_walker")
    assert col1 < col2
    assert _column_of(out, "put_page > page_ref_dec") == col1
    assert _column_of(out, "hugetlb_vmemmap_optimize_folio") == col1
    assert _column_of(out, "get_page_unless_zero") == col2
    # step numbers in the first column, in order
    numbers = [int(m.group(1)) for m in re.finditer(r"^ *(\d+) ", out, re.M)]
    assert numbers == [1, 2, 3, 4]


def test_colour_only_when_asked_for() -> None:
    assert ANSI.search(trace_text(_doc(), color=True))
    buf = io.StringIO()  # not a terminal: rich decides on plain text by itself
    render_trace_text(_doc(), make_console(file=buf))
    assert buf.getvalue() and not ANSI.search(buf.getvalue())
    forced = io.StringIO()
    render_trace_text(_doc(), make_console(color=True, file=forced))
    assert ANSI.search(forced.getvalue())


def test_same_story_from_a_check_a_trace_object_and_a_trace_dict() -> None:
    doc = _doc()
    assert doc.schedule is not None and doc.trace is not None
    trace = record_trace(SCENARIO.build({"arch": "x86"}), Schedule.parse(doc.schedule))
    from_trace = trace_text(result_of_trace(trace), width=160)
    from_dict = trace_text(result_of_trace(doc.trace), width=160)
    from_check = trace_text(doc, width=160)
    for out in (from_trace, from_dict, from_check):
        assert "compare failed, write cycle" in out
        assert "VIOLATION oops" in out
    assert from_trace == from_dict
    lanes = [line for line in from_check.splitlines() if "cpu2_pfn_walker" in line]
    assert lanes and all(line in from_trace for line in lanes)


def test_a_passing_check_prints_what_was_explored() -> None:
    out = trace_text(run_check(SCENARIO, {"arch": "llsc"}))
    assert "verdict: pass" in out
    assert "every interleaving explored" in out
    assert re.search(r"executions \d+", out)
    assert "VIOLATION" not in out


def test_a_schedule_that_stops_early_says_so() -> None:
    trace = record_trace(SCENARIO.build({"arch": "llsc"}), Schedule.parse("0,1"))
    out = trace_text(result_of_trace(trace))
    assert "verdict: no violation" in out
    assert "ends before every CPU finished" in out


def test_compact_trace_names_the_kernel_call_and_its_memory_effect() -> None:
    from pagerace.report.text import trace_text
    from pagerace.scenarios.catalog import load_scenario

    doc = run_check(load_scenario("hvo-speculative-walker"),
                    {"gen": "G0", "arch": "x86", "target": "unaligned"})
    buf = io.StringIO()
    render_trace_text(doc, make_console(color=False, file=buf, width=160), compact=True)
    compact = buf.getvalue()
    full = trace_text(doc, width=160)
    assert "put_page: folio_put: atomic_dec_and_test" in compact
    assert "via vmemmap page 5 -> frame 64 (ro)" in compact
    assert "compare failed, write cycle" in compact
    assert "returns" not in compact and "returns" in full
    assert len(compact.splitlines()) < len(full.splitlines())
