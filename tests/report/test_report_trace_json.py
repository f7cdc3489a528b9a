"""The saved-trace format: what trace_to_dict writes, and every way a file can be bad."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import toy_programs as toys
from test_report_toy import SCENARIO

from pagerace.check import run_check
from pagerace.engine import Schedule, record_trace
from pagerace.report.trace_json import (
    TRACE_FORMAT,
    TRACE_VERSION,
    TraceFileError,
    load_trace_file,
    save_trace_file,
    trace_file_doc,
    trace_to_dict,
)


def _saved() -> dict[str, Any]:
    return trace_file_doc(run_check(SCENARIO, {"arch": "x86"}))


def test_trace_to_dict_is_plain_json_with_every_step() -> None:
    trace = record_trace(SCENARIO.build({"arch": "x86"}), Schedule.parse("0,0,1,1"))
    d = trace_to_dict(trace)
    assert json.loads(json.dumps(d)) == d
    assert d["threads"] == ["cpu1_vmemmap_modifier", "cpu2_pfn_walker"]
    assert d["schedule"] == "0,0,1,1"
    assert [s["index"] for s in d["steps"]] == [0, 1, 2, 3]
    assert d["steps"][3]["stack"][-1] == "atomic_add_unless"
    assert d["steps"][3]["notes"][0]["compare_failed"] is True
    assert d["violation"]["kind"] == "oops"
    assert d["initial_observation"]["vmemmap"][1] == {"vpage": 1, "frame": 11, "perm": "rw"}
    assert d["steps"][1]["observation"]["vmemmap"][1]["perm"] == "ro"


def test_trace_to_dict_keeps_raw_reads_and_writes() -> None:
    trace = record_trace(toys.lost_update(atomic=False), Schedule.parse("0,1,0,1"))
    d = trace_to_dict(trace)
    assert d["steps"][0]["reads"] == [["x", 0]]
    assert d["steps"][2]["writes"] == [["x", 0, 1]]
    assert d["initial_observation"] is None


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    doc = _saved()
    assert doc["format"] == TRACE_FORMAT and doc["version"] == TRACE_VERSION
    path = tmp_path / "t.json"
    save_trace_file(path, doc)
    assert load_trace_file(path) == doc


def test_save_accepts_a_check_document(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    save_trace_file(path, run_check(SCENARIO, {"arch": "x86"}))
    loaded = load_trace_file(path)
    assert loaded["format"] == TRACE_FORMAT
    assert loaded["schedule"] == "0,0,1,1"
    assert loaded["params"] == {"arch": "x86", "gen": "G1", "target": "tail"}


def test_a_check_without_schedule_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(TraceFileError, match="no schedule"):
        save_trace_file(tmp_path / "t.json", run_check(SCENARIO, {"arch": "llsc"}))
    assert not (tmp_path / "t.json").exists()


def test_numeric_params_are_read_as_strings(tmp_path: Path) -> None:
    doc = {**_saved(), "params": {"arch": "x86", "order": 3}}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    assert load_trace_file(path)["params"] == {"arch": "x86", "order": "3"}


BAD_DOCS: list[tuple[str, Any, str]] = [
    ("array", [], "expected a JSON object"),
    ("format", {"format": "other"}, "not a pagerace trace file"),
    ("no format", {"format": None}, "not a pagerace trace file"),
    ("version", {"version": 2}, "unsupported trace file version 2"),
    ("string version", {"version": "1"}, "unsupported trace file version"),
    ("bool version", {"version": True}, "unsupported trace file version"),
    ("scenario", {"scenario": ""}, '"scenario" must be'),
    ("params", {"params": ["arch=x86"]}, '"params" must be'),
    ("param value", {"params": {"arch": ["x86"]}}, 'parameter "arch" must be a string'),
    ("schedule type", {"schedule": [0, 1]}, '"schedule" must be a string'),
    ("schedule token", {"schedule": "0,x"}, "bad schedule token"),
    ("violation", {"violation": "oops"}, '"violation" must be'),
    ("trace", {"trace": {"steps": 3}}, '"trace" must be'),
]


@pytest.mark.parametrize("name,change,expected", BAD_DOCS, ids=[b[0] for b in BAD_DOCS])
def test_bad_documents_are_one_line_errors(tmp_path: Path, name: str, change: Any,
                                           expected: str) -> None:
    doc: Any = change if isinstance(change, list) else {**_saved(), **change}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(TraceFileError) as e:
        load_trace_file(path)
    msg = str(e.value)
    assert expected in msg
    assert "\n" not in msg
    assert str(path) in msg


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    save_trace_file(path, _saved())
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(TraceFileError, match=r"bad JSON at line \d+ column \d+.*truncated"):
        load_trace_file(path)


@pytest.mark.parametrize("content,expected", [
    (b"", "empty file"), (b"  \n", "empty file"), (b"\xff\xfe{", "invalid UTF-8"),
    (b"{]", "bad JSON"), (b"[" * 100_000, "bad JSON"),
])
def test_unreadable_content(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(content)
    with pytest.raises(TraceFileError, match=expected):
        load_trace_file(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(TraceFileError, match="no such file"):
        load_trace_file(tmp_path / "nope.json")
    with pytest.raises(TraceFileError, match="is a directory"):
        load_trace_file(tmp_path)
