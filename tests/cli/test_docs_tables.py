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

import os
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from pagerace.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
MARKED = re.compile(r"<!-- matrix: (?P<args>[^>]*?) -->\n(?P<body>.*?)<!-- /matrix -->",
                    re.S)


def marked_tables() -> list[tuple[str, str, str]]:
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
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
    jobs = str(os.cpu_count() or 1)
    r = CliRunner().invoke(cli, ["matrix", *shlex.split(args), "--markdown", "--jobs", jobs])
    assert r.exit_code == 0, r.stderr
    assert body.strip("\n") == r.stdout.strip("\n"), \
        f"{doc}: regenerate with `pagerace matrix {args} --markdown`"
