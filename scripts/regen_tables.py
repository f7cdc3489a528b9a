"""Regenerate every marked verdict table in README.md and docs/*.md.

A table is marked `<!-- matrix: SCENARIO [ARGS...] -->` ... `<!-- /matrix -->`; its body
is replaced by what `pagerace matrix SCENARIO [ARGS...] --markdown` prints now. Review
the diff afterwards: every changed cell is a changed verdict.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

from click.testing import CliRunner

from pagerace.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
MARKED = re.compile(r"(<!-- matrix: (?P<args>[^>]*?) -->\n)(?P<body>.*?)(<!-- /matrix -->)",
                    re.S)


def regenerate(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    jobs = str(os.cpu_count() or 1)
    changed = 0

    def table(m: re.Match[str]) -> str:
        nonlocal changed
        r = CliRunner().invoke(cli, ["matrix", *shlex.split(m.group("args")), "--markdown",
                                     "--jobs", jobs])
        if r.exit_code != 0:
            sys.exit(f"{path.name}: matrix {m.group('args')}: {r.output.strip()}")
        body = r.stdout.strip("\n") + "\n"
        changed += body != m.group("body")
        return m.group(1) + body + m.group(4)

    new = MARKED.sub(table, text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return changed


def main() -> None:
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        n = regenerate(path)
        if n:
            print(f"{path.relative_to(ROOT)}: {n} table(s) changed")


if __name__ == "__main__":
    main()
