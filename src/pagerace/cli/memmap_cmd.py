"""Placeholder for the `memmap` command (being written)."""

import click


@click.command()
def memmap() -> None:
    """Not yet implemented."""
    raise click.ClickException("memmap is not implemented yet")
