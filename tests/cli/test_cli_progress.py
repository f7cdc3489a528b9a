"""The progress line: what it says, when it is silent, and that it is wired behind a
feature check of the engine's explore()."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pagerace.check import run_check
from pagerace.check.run import explore_supports_progress
from pagerace.cli.progress import progress_line, progress_text
from pagerace.scenarios.catalog import load_scenario


@dataclass
class FakeProgress:
    executions: int = 1234
    rate: float = 567.4
    distinct_states: int = 89
    depth: int = 12
    max_depth: int = 40
    elapsed: float = 2.25
    fraction: float | None = 0.35


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_text_reports_every_figure() -> None:
    text = progress_text(FakeProgress()).plain
    assert text == ("exploring: 1,234 executions (567/s), 89 states, depth 12/40, 2.2 s, "
                    "~35%")
    assert "~" not in progress_text(FakeProgress(fraction=None)).plain
    assert progress_text(FakeProgress(fraction=1.7)).plain.endswith("~100%")


def test_silent_with_json_or_without_a_terminal() -> None:
    with progress_line(enabled=False, file=Tty()) as cb:
        assert cb is None
    with progress_line(enabled=True, file=io.StringIO()) as cb:
        assert cb is None


def test_draws_on_a_terminal_and_clears_at_the_end() -> None:
    out = Tty()
    with progress_line(enabled=True, file=out) as cb:
        assert cb is not None
        cb(FakeProgress(executions=7))
        cb(FakeProgress(executions=8))
    written = out.getvalue()
    assert "7 executions" in written and "8 executions" in written


def test_run_check_hands_the_callback_on_only_when_explore_takes_one() -> None:
    seen: list[object] = []
    sc = load_scenario("hvo-speculative-walker")
    result = run_check(sc, {"gen": "G2", "arch": "x86", "target": "unaligned"},
                       progress=seen.append)
    assert result.verdict == "pass"
    if explore_supports_progress():
        assert seen and all(hasattr(p, "executions") for p in seen)
    else:
        assert seen == []
