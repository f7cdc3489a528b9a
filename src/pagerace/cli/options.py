"""Options shared by `check` and `matrix`: strategy and limits, and common parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from pagerace.check.options import CheckOptions
from pagerace.engine.explorer import STRATEGIES

F = Callable[..., Any]


def exploration_options(f: F) -> F:
    opts = [
        click.option("--strategy", type=click.Choice(STRATEGIES), default="dpor",
                     show_default=True, help="dpor: Source-DPOR + sleep sets; dfs: naive "
                     "exhaustive; random: seeded random walk; pct: PCT with --pct-depth; "
                     "stateful: a visited set over canonical states (symmetry, ample sets)."),
        click.option("--symmetry/--no-symmetry", default=True, show_default=True,
                     help="Use the CPUs the scenario declares interchangeable - stateful: "
                     "one state per renaming; dpor: a CPU is not started where its twin "
                     "already was (sc only). Counts are then up to renaming."),
        click.option("--max-executions", type=click.IntRange(min=1), default=None,
                     help="Stop after this many executions (random/pct default 1000)."),
        click.option("--max-seconds", type=click.FloatRange(min=0.0, min_open=True),
                     default=None, help="Stop after this much time."),
        click.option("--max-steps", type=click.IntRange(min=1), default=10_000,
                     show_default=True, help="Steps per CPU before a step-bound violation."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Seed of random and pct."),
        click.option("--pct-depth", type=click.IntRange(min=1), default=3, show_default=True),
        click.option("--preemption-bound", type=click.IntRange(min=0), default=None,
                     help="Bound context switches (dfs only)."),
        click.option("--no-minimize", is_flag=True, help="Show the failing schedule as found."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def parallel_options(what: str) -> Callable[[F], F]:
    """`--jobs N` and `--cluster ADDRESS`; `what` says what runs in parallel."""

    def deco(f: F) -> F:
        f = click.option("--cluster", default=None, metavar="ADDRESS",
                         help=f"Run {what} on the Dask scheduler at ADDRESS "
                         "(e.g. tcp://host:8786; needs pagerace[cluster]).")(f)
        return click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                            help=f"Worker processes for {what} (default: one per "
                            "core; 1: this process only).")(f)

    return deco


def jobs_of(kw: dict[str, Any]) -> int:
    import os

    jobs = kw.get("jobs")
    return int(jobs) if jobs is not None else (os.cpu_count() or 1)


def check_options_from(kw: dict[str, Any], replay: str | None = None) -> CheckOptions:
    return CheckOptions(
        strategy=kw["strategy"], max_executions=kw["max_executions"],
        max_seconds=kw["max_seconds"], max_steps=kw["max_steps"], seed=kw["seed"],
        pct_depth=kw["pct_depth"], preemption_bound=kw["preemption_bound"],
        symmetry=kw.get("symmetry", True),
        minimize=not kw["no_minimize"], replay=replay, jobs=jobs_of(kw),
        cluster=kw.get("cluster"))


def param_options(f: F) -> F:
    opts = [
        click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
                     help="Set a scenario parameter (repeatable)."),
        click.option("--gen", default=None, help="Shorthand for --param gen=..."),
        click.option("--arch", default=None, help="Shorthand for --param arch=..."),
        click.option("--target", default=None, help="Shorthand for --param target=..."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def merge_params(assigned: dict[str, str], kw: dict[str, Any]) -> dict[str, str]:
    out = dict(assigned)
    for name in ("gen", "arch", "target"):
        if kw.get(name) is not None:
            out[name] = kw[name]
    return out


def check_output_path(path: str | None, what: str) -> None:
    """Refuse an output file that cannot be written, before any work is done."""
    import os

    from pagerace.cli.errors import BadInput

    if path is None:
        return
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise BadInput(f"cannot write the {what} {path}: no directory {parent}")
    if not os.access(parent, os.W_OK):
        raise BadInput(f"cannot write the {what} {path}: directory {parent} is not writable")
