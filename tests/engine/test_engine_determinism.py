"""Results must not depend on PYTHONHASHSEED: fingerprints are stable hashes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pagerace.engine.fingerprint import encode, fingerprint

SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import toy_programs as toys
from pagerace.engine import explore
r = explore(toys.store_buffering(), "dpor", stop_on_violation=False)
print(sorted(r.terminal_states), r.stats.executions)
r = explore(toys.lost_update(False, 3), "random", seed=5)
print(r.schedule)
"""


def test_results_do_not_depend_on_pythonhashseed() -> None:
    tests = str(Path(__file__).resolve().parents[1] / "support")
    outs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        p = subprocess.run([sys.executable, "-c", SCRIPT.format(tests=tests)], env=env,
                           capture_output=True, text=True, check=True)
        outs.add(p.stdout)
    assert len(outs) == 1


def test_encoding_is_type_tagged() -> None:
    assert len({encode(0), encode(False), encode(0.0), encode("0"), encode(None)}) == 5
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": True})
