"""Why the relaxed model may disagree with LKMM on a test: a first guess from its name.

Litmus test names encode their shape (the kernel's `LB+poonceonces`, `2+2W+...`; the
paulmckrcu/litmus generator's `C-LB-...`, `C-RW-G+RW-R+...` where each `+`-separated part
is one process: `G` a grace period, `R` / `r` an RCU read-side critical section, `B` a
full barrier...). `reason(name)` maps a name to one of the relaxed model's known
departures from LKMM (docs/memory-models.md, "What `relaxed` leaves out"), or None. It is
a guess to be checked against the test's body, not a verdict: the checker decides what a
test's outcome is; this only groups disagreements for the report.

Leaves out: reading the test's body (fences, dependencies) to confirm the shape.
"""

from __future__ import annotations

import re

LOAD_BUFFERING = "load buffering (load->store reordering) needs promises"
MULTI_COPY = "the model is multi-copy atomic and LKMM is not"
RCU = "RCU read-side critical sections are modelled stronger than LKMM"

def reason(name: str) -> str | None:
    base = name.rsplit("/", 1)[-1]
    if base.startswith("C-"):
        base = base[2:]
    parts = base.split("+")
    if re.search(r"rcu|gp|srcu", base, re.IGNORECASE) or base.startswith(("RW-", "RR-",
                                                                        "WR-", "WW-")):
        return RCU
    head = parts[0]
    # S (W x; W y || R y; W x) needs only P0's stores out of order, which the store
    # buffer gives; 2+2W, R and MP likewise: no known departure
    if head == "LB" or head.startswith("LB-"):
        return LOAD_BUFFERING
    if head in ("IRIW", "WRC", "ISA2", "Z6.0", "W+RWC", "RWC", "3.SB") or \
            head.startswith(("IRIW", "WRC", "Z6")):
        return MULTI_COPY
    return None
