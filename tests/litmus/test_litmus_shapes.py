"""The name-based first guess at why relaxed disagrees with LKMM on a test."""

from __future__ import annotations

import pytest

from pagerace.litmus import shapes


@pytest.mark.parametrize(("name", "why"), [
    ("LB+poonceonces", shapes.LOAD_BUFFERING),
    ("S+poonceonces", None),
    ("auto/C-LB-LWW+R-Oc+R-Oc", shapes.LOAD_BUFFERING),
    ("2+2W+poonceonces", None),
    ("MP+pooncerelease+poacquireonce", None),
    ("IRIW+poonceonces+OnceOnce", shapes.MULTI_COPY),
    ("WRC+pooncerelease+fencermbonceonce+Once", shapes.MULTI_COPY),
    ("auto/C-RW-G+RW-B+RW-B", shapes.RCU),
    ("RCU+sync+read", shapes.RCU),
    ("SB+fencembonceonces", None),
    ("CoRR+poonceonce+Once", None),
])
def test_reason_from_name(name: str, why: str | None) -> None:
    assert shapes.reason(name) == why
