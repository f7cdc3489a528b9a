"""`pagerace list`: the catalog scenarios, their parameters and choices."""

from __future__ import annotations

import click

from pagerace.scenarios.catalog import available, load_scenario


@click.command(name="list")
def list_scenarios() -> None:
    """List the catalog scenarios and their parameters."""
    for name in available():
        sc = load_scenario(name)
        click.echo(f"{name}: {sc.title}")
        for p in sc.all_params:
            choices = "|".join(p.choices) if p.choices else "any"
            axis = " (matrix)" if p.matrix else ""
            click.echo(f"    {p.name}={choices}  default {p.default}{axis}  {p.help}")
