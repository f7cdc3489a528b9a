"""Regenerate every marked verdict table in README.md and docs/*.md.

A table is marked `<!-- matrix: SCENARIO [ARGS...] -->` ... `<!-- /matrix -->`
(src/pagerace/cli/doc_tables.py); its body is replaced by what `pagerace matrix SCENARIO
[ARGS...] --markdown` prints now. Review the diff afterwards: every changed cell is a
changed verdict.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pagerace.cli.doc_tables import MARKED, documents, render

ROOT = Path(__file__).resolve().parent.parent


def regenerate(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    changed = 0

    def table(m: re.Match[str]) -> str:
        nonlocal changed
        status, out = render(m.group("args"))
        if status != 0:
            sys.exit(f"{path.name}: matrix {m.group('args')}: {out.strip()}")
        body = out.strip("\n") + "\n"
        changed += body != m.group("body")
        return m.group("open") + body + m.group("close")

    new = MARKED.sub(table, text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return changed


def main() -> None:
    for path in documents(ROOT):
        n = regenerate(path)
        if n:
            print(f"{path.relative_to(ROOT)}: {n} table(s) changed")


if __name__ == "__main__":
    main()
