"""`pagerace probe [--json]`: check the model's compare-and-swap profile against this CPU.

Runs a failing compare-and-swap on a read-only page in a child process (see
pagerace.probe.cas_probe) and reports whether it faulted and whether that agrees with the
profile pagerace.kernel.arch.host_profile() picks for this host. It is a user-space
compare-and-swap, not the kernel's code path: the report says whether the kernel's
atomic_add_unless() reaches such an instruction on this host (generic fallback, x86 and
arm64) or is the architecture's own LL/SC loop that never runs one (riscv, loongarch).

Exit status 0 whenever the probe ran, whatever it found (also for "unsupported" and
"inconclusive"); 2 for bad usage (click's own handling). Leaves out: choosing a variant or
profile by hand; probing other architectures than the host's.
"""

from __future__ import annotations

import json

import click

from pagerace.probe.cas_probe import format_report, run_probe


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a report.")
def probe(as_json: bool) -> None:
    """Does a failed compare-and-swap fault on a read-only page on this CPU?

    Runs the host's compare-and-swap instruction (hand-assembled machine code, no compiler)
    in a child process on a read-write page (control) and on a read-only page, and compares
    the outcome with the model's architecture profile for this host. This is the kernel's
    cmpxchg() instruction, not the kernel's path: on riscv and loongarch atomic_add_unless()
    is an LL/SC loop that never runs it.
    """
    result = run_probe()
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo(format_report(result))
