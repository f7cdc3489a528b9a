"""check / matrix / replay / list through click's CliRunner: JSON forms, exit status,
shipped marks, and bad input as one error line with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pagerace.check import SCHEMA_VERSION
from pagerace.cli.main import cli
from pagerace.kernel.arch import ARCH_NAMES

SEED = "hvo-speculative-walker"
KEYS = {"scenario", "title", "params", "strategy", "verdict", "violation", "stats",
        "complete", "sometimes", "schedule", "replay", "trace"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_check_json_keeps_its_keys_and_adds_schema_and_shipped() -> None:
    r = invoke("check", SEED, "--gen", "G0", "--arch", "x86", "--target", "unaligned",
               "--json")
    assert r.exit_code == 1, r.stderr
    doc = json.loads(r.stdout)
    assert KEYS | {"schema_version", "shipped", "shipped_note", "memory"} == set(doc)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["verdict"] == "violation" and doc["violation"]["kind"] == "oops"
    assert doc["shipped"] is True and "v5.18-v6.9" in doc["shipped_note"]


def test_check_of_an_unshipped_configuration_says_so() -> None:
    r = invoke("check", SEED, "--gen", "G2", "--arch", "arm64-lse", "--no-color")
    assert r.exit_code == 0, r.stderr
    assert "never in a mainline release: arm64 HVO ran v5.18-v6.1" in r.stdout


def test_matrix_json_is_a_list_of_check_results_with_shipped() -> None:
    r = invoke("matrix", SEED, "--param", "gen=rw-tails", "--json", "--jobs", "1")
    assert r.exit_code == 0, r.stderr
    cells = json.loads(r.stdout)
    assert len(cells) == 3 * len(ARCH_NAMES) and all(KEYS <= set(c) for c in cells)
    assert all(c["schema_version"] == SCHEMA_VERSION for c in cells)
    assert all(c["shipped"] is False and "never merged" in c["shipped_note"] for c in cells)


def test_matrix_text_marks_unshipped_cells_with_a_footnote() -> None:
    r = invoke("matrix", SEED, "--param", "gen=G1", "--jobs", "1")
    assert r.exit_code == 0, r.stderr
    assert "\u20201" in r.stdout
    assert "never ran in a mainline release" in r.stdout
    assert "G1 on arm64-lse" in r.stdout


def test_matrix_markdown_is_a_table_and_fail_on_violation_exits_1() -> None:
    r = invoke("matrix", SEED, "--param", "gen=G1", "--markdown", "--jobs", "1",
               "--fail-on-violation")
    assert r.exit_code == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("| gen ") and "x86/aligned" in lines[0]
    assert set(lines[1]) <= {"|", "-"}
    assert lines[2].startswith("| G1 ") and "oops" in lines[2]
    assert lines[2].count("|") == lines[0].count("|")


def test_replay_round_trip_through_the_runner(tmp_path: Path) -> None:
    saved = tmp_path / "t.json"
    r = invoke("check", SEED, "--gen", "G0", "--arch", "x86", "--save-trace", str(saved))
    assert r.exit_code == 1 and saved.exists()
    r = invoke("replay", str(saved), "--json")
    assert r.exit_code == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["strategy"] == "replay" and doc["schema_version"] == SCHEMA_VERSION
    assert doc["shipped"] is True


def test_list_names_every_catalog_scenario() -> None:
    r = invoke("list")
    assert r.exit_code == 0
    assert SEED in r.stdout and "(matrix)" in r.stdout


@pytest.mark.parametrize("args", [
    ["check", "no-such-scenario"],
    ["check", SEED, "--gen", "G9"],
    ["check", SEED, "--param", "nope=1"],
    ["check", SEED, "--param", "gen"],
    ["check", SEED, "--replay", "7,7,7"],
    ["check", SEED, "--strategy", "bogus"],
    ["check", SEED, "--max-executions", "0"],
    ["check", "missing/file.py"],
    ["matrix", SEED, "--json", "--markdown"],
    ["matrix", SEED, "--param", "arch=sparc"],
    ["matrix", SEED, "--jobs", "0"],
    ["replay", "/nonexistent/trace.json"],
    ["no-such-command"],
])
def test_bad_input_is_one_line_and_exit_2(args: list[str]) -> None:
    r = invoke(*args)
    assert r.exit_code == 2, (args, r.stdout, r.stderr)
    assert r.stderr.startswith("pagerace: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_corrupt_trace_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "pagerace-trace", "version": 1, "scenario": ')
    r = invoke("replay", str(bad))
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "truncated" in r.stderr
