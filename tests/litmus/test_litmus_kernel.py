"""The kernel's own litmus tests (tests/litmus/, GPL-2.0) against LKMM's `Result:` lines.

Under sc and tso (models stronger than LKMM) no LKMM `Never` is observed and every
`Always` holds. Under relaxed every answer agrees with LKMM except the ones listed in
RELAXED_DIFFERS, each with its reason (docs/memory-models.md lists the full sample's).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pagerace.litmus.herd import agrees, sound_for_stronger
from pagerace.litmus.outcome import run
from pagerace.litmus.parse import parse

FILES = sorted((Path(__file__).parent).glob("*.litmus"))
RELAXED_DIFFERS = {
    # load buffering (load->store reordering) needs promises, which the model leaves out
    "LB+poonceonces": "load buffering",
}
# S+poonceonces agrees since the store buffer (P0's stores become visible out of order)


def test_there_are_kernel_tests() -> None:
    assert len(FILES) >= 25


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("memory", ["sc", "tso"])
def test_stronger_models_never_observe_a_never(path: Path, memory: str) -> None:
    out = run(parse(path.read_text()), memory, max_seconds=30)
    assert out.complete and not out.problems
    assert sound_for_stronger(out), (out.observation, out.test.expected)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_relaxed_agrees_with_lkmm(path: Path) -> None:
    test = parse(path.read_text())
    out = run(test, "relaxed", max_seconds=30)
    assert out.complete and not out.problems
    if test.name in RELAXED_DIFFERS:
        assert not agrees(out)
        assert out.observation == "Never"  # stronger, never weaker
    else:
        assert agrees(out), (out.observation, test.expected)


def test_sc_forbids_store_buffering_that_tso_allows() -> None:
    test = parse((Path(__file__).parent / "SB+poonceonces.litmus").read_text())
    assert run(test, "sc").observation == "Never"
    assert run(test, "tso").observation == "Sometimes"
