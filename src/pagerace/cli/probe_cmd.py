"""Placeholder for the `probe` command (being written)."""

import click


@click.command()
def probe() -> None:
    """Not yet implemented."""
    raise click.ClickException("probe is not implemented yet")
