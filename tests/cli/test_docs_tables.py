"""The verdict tables in README.md and docs/*.md are what `pagerace matrix --markdown`
prints today.

A table is marked in the markdown source as

    <!-- matrix: SCENARIO [ARGS...] -->
    ...the output of `pagerace matrix SCENARIO [ARGS...] --markdown`...
    <!-- /matrix -->

and this test re-runs each command and compares. When a verdict changes, regenerate the
table with the command and review the diff (each verdict is FOUND by the checker; the
pinned scenario tests say which are RECORD).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pagerace.cli.doc_tables import MARKED, documents, render

ROOT = Path(__file__).resolve().parents[2]


def marked_tables() -> list[tuple[str, str, str]]:
    out = []
    for path in documents(ROOT):
        for m in MARKED.finditer(path.read_text(encoding="utf-8")):
            out.append((path.name, m.group("args"), m.group("body")))
    return out


TABLES = marked_tables()


def test_the_seed_tables_are_marked() -> None:
    commands = {args.split()[0] for _, args, _ in TABLES}
    assert {"hvo-speculative-walker", "hvo-restore-vs-walker"} <= commands


@pytest.mark.parametrize(("doc", "args", "body"), TABLES,
                         ids=[f"{d}:{a}" for d, a, _ in TABLES])
def test_table_is_what_matrix_markdown_prints(doc: str, args: str, body: str) -> None:
    status, out = render(args)
    assert status == 0, out
    assert body.strip("\n") == out.strip("\n"), \
        f"{doc}: regenerate with `pagerace matrix {args} --markdown`"
