"""`pagerace replay FILE`: re-runs a saved trace; every bad file is one line, exit 2."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_report_toy import SCENARIO

from pagerace.check import run_check
from pagerace.cli.main import main
from pagerace.report.trace_json import load_trace_file, save_trace_file

TESTS = Path(__file__).parent


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini_hvo.py"
    path.write_text("from test_report_toy import SCENARIO  # noqa: F401\n")
    return path


def saved(tmp_path: Path, scenario_file: Path, check_params: dict[str, str] | None = None,
          **change: Any) -> Path:
    """A trace file of a check of the toy (x86 by default), with members replaced."""
    doc = dataclasses.replace(run_check(SCENARIO, check_params or {"arch": "x86"}),
                              scenario=str(scenario_file))
    path = tmp_path / "trace.json"
    save_trace_file(path, doc)
    if change:
        raw = json.loads(path.read_text())
        raw.update(change)
        path.write_text(json.dumps(raw))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    out, err = capsys.readouterr()
    code = e.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_replay_prints_the_trace_and_exits_1(tmp_path: Path, scenario_file: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "replay", str(saved(tmp_path, scenario_file)))
    assert code == 1, err
    assert "\x1b[" not in out
    flat = re.sub(r"\s+", " ", out)  # cells wrap at the console width
    assert "get_page_unless_zero" in flat and "compare failed, write cycle" in flat
    assert "VIOLATION oops" in out
    # the replay command stays on one line, ready to paste
    assert f"pagerace check {scenario_file} --param arch=x86 --param gen=G1 " \
        "--param target=tail --replay 0,0,1,1\n" in out


def test_replay_html_and_json(tmp_path: Path, scenario_file: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    html = tmp_path / "r.html"
    code, out, _ = run(capsys, "replay", str(saved(tmp_path, scenario_file)), "--json",
                       "--html", str(html))
    assert code == 1
    doc = json.loads(out)
    assert doc["verdict"] == "violation" and doc["violation"]["kind"] == "oops"
    assert len(doc["trace"]["steps"]) == 4
    assert doc["strategy"] == "replay"
    page = html.read_text()
    assert 'id="step-index"' in page and "compare failed" in page
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_replay_without_violation_exits_0(tmp_path: Path, scenario_file: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = saved(tmp_path, scenario_file, params={"arch": "llsc"}, schedule="0,0,0,1,1,1",
                 violation=None, trace=None)
    code, out, err = run(capsys, "replay", str(path))
    assert code == 0, err
    assert "verdict: pass" in out and "VIOLATION" not in out


def test_saved_replay_output_round_trips(tmp_path: Path, scenario_file: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """What replay --json prints can be saved again and replays the same."""
    code, out, _ = run(capsys, "replay", str(saved(tmp_path, scenario_file)), "--json")
    again = tmp_path / "again.json"
    save_trace_file(again, json.loads(out))
    assert load_trace_file(again)["scenario"] == str(scenario_file)
    assert run(capsys, "replay", str(again))[0] == 1


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("unknown scenario", {"scenario": "no-such-scenario"}, "unknown scenario"),
    ("bad value", {"params": {"arch": "sparc"}}, "is not one of"),
    ("unknown param", {"params": {"walker": "gup"}}, "has no parameter"),
    ("thread", {"schedule": "0,0,5"}, "does not fit"),
    ("too long", {"schedule": "0,0,1,1,1,1,1"}, "does not fit"),
    ("message", {"violation": {"kind": "oops", "message": "something else"}},
     "the re-run reaches oops: atomic_add_unless"),
    ("kind", {"violation": {"kind": "warn", "message": "x"}}, "but the file records warn"),
    ("no violation recorded", {"violation": None}, "but the file records no violation"),
    ("format", {"format": "pagerace-result"}, "not a pagerace trace file"),
    ("version", {"version": 99}, "unsupported trace file version 99"),
    ("schedule text", {"schedule": "0,,1"}, "bad schedule token"),
]


@pytest.mark.parametrize("name,change,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_one_line_exit_2(tmp_path: Path, scenario_file: Path,
                                       capsys: pytest.CaptureFixture[str], name: str,
                                       change: dict[str, Any], expected: str) -> None:
    path = saved(tmp_path, scenario_file, **change)
    code, out, err = run(capsys, "replay", str(path))
    assert code == 2
    assert err.startswith("pagerace: error: ") and err.count("\n") == 1
    assert expected in err
    assert out == ""


def test_different_params_reach_a_different_outcome(tmp_path: Path, scenario_file: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    raw = json.loads(saved(tmp_path, scenario_file).read_text())
    raw["params"]["arch"] = "llsc"  # same schedule, but llsc never writes on a failed cas
    path = tmp_path / "llsc.json"
    path.write_text(json.dumps(raw))
    code, _, err = run(capsys, "replay", str(path))
    assert code == 2 and "the re-run reaches no violation, but the file records oops" in err


def test_truncated_file_and_broken_scenario(tmp_path: Path, scenario_file: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = saved(tmp_path, scenario_file)
    text = path.read_text()
    path.write_text(text[:200])
    code, _, err = run(capsys, "replay", str(path))
    assert code == 2 and "truncated" in err and err.count("\n") == 1
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    code, _, err = run(capsys, "replay", str(saved(tmp_path, scenario_file,
                                                   scenario=str(broken))))
    assert code == 2 and "failed to import" in err


def test_unwritable_html_is_exit_2(tmp_path: Path, scenario_file: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "replay", str(saved(tmp_path, scenario_file)), "--html",
                       str(tmp_path / "missing-dir" / "r.html"))
    assert code == 2 and "--html" in err and "cannot write" in err


def test_as_a_program_plain_output_and_one_line_errors(tmp_path: Path,
                                                       scenario_file: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(TESTS), os.environ.get("PYTHONPATH", "")]), "FORCE_COLOR": ""}
    env.pop("FORCE_COLOR")
    path = saved(tmp_path, scenario_file)
    p = subprocess.run([sys.executable, "-m", "pagerace", "replay", str(path), "--no-color"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 1, p.stderr
    assert "VIOLATION oops" in p.stdout and "\x1b[" not in p.stdout
    path.write_text("{\"format\": \"pagerace-trace\", \"version\": 1, \"scen")
    p = subprocess.run([sys.executable, "-m", "pagerace", "replay", str(path)],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    p = subprocess.run([sys.executable, "-m", "pagerace", "replay",
                        str(tmp_path / "nope.json")], capture_output=True, text=True, env=env)
    assert p.returncode == 2 and "no such file" in p.stderr
