"""`pagerace litmus FILE.litmus...`: check herd7 C litmus tests under a memory model.

Prints herd7-like output per test (or `--json`); `--summary` adds (or, with many files,
replaces by) one line per test and the agreement with the tests' LKMM `Result:` lines.
A file that cannot be read or parsed is one error line and exit status 2; with
`--keep-going` it is counted as unparsed in the summary instead.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click

from pagerace.cli.errors import BadInput
from pagerace.engine.memory import MODELS
from pagerace.litmus.herd import agrees, sound_for_stronger, text, to_json
from pagerace.litmus.outcome import Outcome, run
from pagerace.litmus.parse import LitmusError, parse


def _load(path: str) -> Any:
    try:
        src = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise BadInput(f"{path}: {e.strerror or e}") from None
    try:
        return parse(src)
    except LitmusError as e:
        raise BadInput(f"{path}: cannot parse: {e}") from None


@click.command("litmus")
@click.argument("files", nargs=-1, required=True)
@click.option("--memory", type=click.Choice(MODELS), default="sc", show_default=True,
              help="memory model to explore under")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--summary", is_flag=True, help="one line per test and the agreement with "
              "the tests' LKMM Result: lines")
@click.option("--keep-going", is_flag=True, help="count unparsable files instead of "
              "stopping at the first")
@click.option("--timeout", type=float, default=None, help="seconds per test")
def litmus(files: tuple[str, ...], memory: str, as_json: bool, summary: bool,
           keep_going: bool, timeout: float | None) -> int:
    """Check herd7 C litmus tests (LKMM's format) under a memory model."""
    outs: list[Outcome] = []
    unparsed: list[tuple[str, str]] = []
    for f in files:
        try:
            test = _load(f)
        except BadInput as e:
            if not keep_going:
                raise
            unparsed.append((f, str(e)))
            continue
        try:
            out = run(test, memory, timeout)
        except LitmusError as e:
            if not keep_going:
                raise BadInput(f"{f}: cannot run: {e}") from None
            unparsed.append((f, str(e)))
            continue
        outs.append(out)
        if not summary and not as_json:
            click.echo(text(out) + "\n")
    if as_json:
        doc: dict[str, Any] = {"memory": memory, "tests": [to_json(o) for o in outs]}
        if summary or unparsed:
            doc["summary"] = _summary(outs, unparsed)
        click.echo(json.dumps(doc, indent=2))
    elif summary:
        for o in outs:
            a = agrees(o)
            mark = "" if a is None else (" ok" if a else " DIFF")
            inc = "" if o.complete else " (incomplete)"
            click.echo(f"{o.test.name}: {o.observation} (LKMM {o.test.expected}){mark}{inc}")
        for _f, why in unparsed:
            click.echo(f"unparsed {why}")
        s = _summary(outs, unparsed)
        click.echo(f"memory {memory}: {s['tests']} tests, {s['with_result']} with a Result: "
                   f"line, {s['agree']} agree, {s['disagree']} disagree "
                   f"({s['by_kind']}), {s['unsound_for_stronger']} observe an LKMM Never or "
                   f"miss an Always, {s['incomplete']} incomplete, {s['unparsed']} unparsed")
    return 0


def _summary(outs: list[Outcome], unparsed: list[tuple[str, str]]) -> dict[str, Any]:
    with_result = [o for o in outs if o.test.expected is not None]
    kinds = Counter(f"{o.test.expected}->{o.observation}" for o in with_result
                    if not agrees(o))
    return {
        "tests": len(outs),
        "with_result": len(with_result),
        "agree": sum(1 for o in with_result if agrees(o)),
        "disagree": sum(1 for o in with_result if not agrees(o)),
        "by_kind": dict(sorted(kinds.items())),
        "unsound_for_stronger": sum(1 for o in with_result if not sound_for_stronger(o)),
        "incomplete": sum(1 for o in outs if not o.complete),
        "unparsed": len(unparsed),
    }
