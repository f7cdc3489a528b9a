"""`pagerace litmus`: herd-like text, --json, --summary, and bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pagerace.cli.main import main
from pagerace.litmus.parse import LitmusError, parse

LIT = Path(__file__).parent


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(argv)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


def test_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(["litmus", str(LIT / "SB+poonceonces.litmus"), "--memory", "tso"],
                      capsys)
    assert rc == 0
    assert "Test SB+poonceonces Allowed" in out
    assert "States 4" in out and "0:r0=0; 1:r0=0;" in out
    assert "Observation SB+poonceonces Sometimes 1 3" in out


def test_json_names_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(LIT / "MP+poonceonces.litmus"), str(LIT / "LB+poonceonces.litmus")]
    rc, out, _ = _run(["litmus", *files, "--memory", "relaxed", "--json", "--summary"], capsys)
    doc = json.loads(out)
    assert rc == 0 and doc["memory"] == "relaxed"
    assert [t["observation"] for t in doc["tests"]] == ["Sometimes", "Never"]
    assert doc["tests"][0]["memory_model"].startswith("the promise-free fragment")
    assert doc["summary"]["agree"] == 1 and doc["summary"]["disagree"] == 1


def test_unparsable_file_is_one_line_and_exit_2(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.litmus"
    bad.write_text("C bad\n{}\nP0(int *x) { while (1) WRITE_ONCE(*x, 1); }\nexists (x=1)\n")
    rc, out, err = _run(["litmus", str(bad)], capsys)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and "unsupported statement 'while'" in err


def test_unknown_primitive_is_exit_2(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.litmus"
    bad.write_text("C bad\n{}\nP0(int *x) { frob(x); }\nexists (x=1)\n")
    rc, _, err = _run(["litmus", str(bad)], capsys)
    assert rc == 2 and "unsupported primitive frob()" in err


def test_missing_file_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _run(["litmus", "no-such.litmus"], capsys)
    assert rc == 2 and err.startswith("pagerace: error: no-such.litmus")


def test_parse_reads_conditions_filters_and_locations() -> None:
    t = parse("C t\n(* Result: Always *)\n{ x=1; 0:r1=2; int *p = &x; }\n"
              "P0(int *x, int **p) { int r0 = READ_ONCE(*x); if (r0 == 1) { r0 = 3; } "
              "else r0 = 4; }\nlocations [x; 0:r1]\nfilter (0:r0=3)\n"
              "forall (0:r0=3 \\/ ~x=2)\n")
    assert t.expected == "Always" and t.quantifier == "forall"
    assert t.init == {"x": 1, "p": "x"} and t.reg_init == {(0, "r1"): 2}
    assert t.locations == [(None, "x"), (0, "r1")] and t.filter is not None
    with pytest.raises(LitmusError):
        parse("LISA t\n{}\n")
