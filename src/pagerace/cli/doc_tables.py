"""The verdict tables that README.md and docs/*.md show, marked in the markdown source as

    <!-- matrix: SCENARIO [ARGS...] -->
    ...what `pagerace matrix SCENARIO [ARGS...] --markdown` prints...
    <!-- /matrix -->

One place finds the marked tables and renders one: the test that checks them
(tests/cli/test_docs_tables.py) and the script that regenerates them
(scripts/regen_tables.py) both use it.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from pagerace.cli.main import cli

MARKED = re.compile(r"(?P<open><!-- matrix: (?P<args>[^>]*?) -->\n)(?P<body>.*?)"
                    r"(?P<close><!-- /matrix -->)", re.S)


def documents(root: Path) -> list[Path]:
    """README.md and every docs/*.md under `root`."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def render(args: str) -> tuple[int, str]:
    """Exit status and output of `pagerace matrix ARGS --markdown` (one job per core)."""
    jobs = str(os.cpu_count() or 1)
    r = CliRunner().invoke(cli, ["matrix", *shlex.split(args), "--markdown", "--jobs", jobs])
    return r.exit_code, r.stdout if r.exit_code == 0 else r.output
